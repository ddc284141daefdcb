"""The training engine under the CLI and the GUI: mini-batch gradient descent by the explicit δ recursion."""

from __future__ import annotations

import functools
import itertools
import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore import metrics
from bpcore.config import Experiment, validate
from bpcore.data import Dataset, Split
from bpcore.distributed import World, sharded_step
from bpcore.errors import ConfigError
from bpcore.nn import MLP
from bpcore.optim import quiet_step
from bpcore.train import setup, stopping
from bpcore.train.divergence import Guard, extremes_of
from bpcore.train.history import History
from bpcore.train.network import FlatNetwork
from bpcore.train.snapshot import Criterion, Snapshot
from bpcore.train.state import RunControl, RunState, TrainerBusyError
from bpcore.train.threads import threads_for, using_threads

__all__ = ["Trainer", "TrainerBusyError"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
PARTS = ("train", "val", "test")
_UNMEASURED = {"loss": math.nan, "score": math.nan}  # an epoch that training.eval_every skips
JOIN_ELEMENTS = 1 << 20  # evaluate_all joins the parts' inputs (a copy) up to this many elements


class Trainer:
    """Trains an MLP as an Experiment describes.

    Each step is forward_pass, δ^(L), backward_pass into one flat gradient buffer and one fused update
    (eq. 10 for plain gradient descent; torch.optim for momentum, Nesterov and Adam).
    With a `world` of several ranks (bpcore.distributed) each rank computes its rows of every mini-batch and
    one all-reduce of the flat gradient gives all ranks the full-batch gradient.

    Threads: the commands (begin, pause, resume, stop, set_lr, set_batch_size) and snapshot() may be called
    from any thread. A run's state is one RunState, changed only under the Trainer's lock; one run at a time
    (a second run() raises TrainerBusyError); pause() and resume() show in `state` before they return; a
    snapshot never shows an epoch ahead of its history. Commands act on the run that is going (claimed by
    begin() or run()); without one they do nothing, so a late stop() never cancels a later run.
    """

    def __init__(
        self, experiment: Experiment | None = None, dataset: Dataset | None = None, *,
        split: Split | None = None, model: MLP | None = None, world: World | None = None,
    ) -> None:
        self.experiment = exp = experiment or Experiment()
        tr = exp.training
        self.dataset = dataset if dataset is not None else setup.load_data(exp.data)
        self.split = split if split is not None else setup.split_for(exp, self.dataset)
        self.output = setup.resolve_output(exp.model.output, self.dataset)
        self.task = self.dataset.task
        self.device = setup.resolve_device(tr.device)
        self.dtype = _DTYPES[tr.dtype]
        if model is None:
            model = setup.build_model(exp, self.dataset, self.output, self.device, self.dtype)
        self.net = FlatNetwork(model, tr.batch_size)
        self.model = model
        # data parallel (bpcore.distributed): same data and seeds on every rank, rank 0's weights to start
        self.world = world or World()
        self.world.broadcast_(self.net.flat)
        self.parts = {name: setup.to_part(getattr(self.split, name), self.output, self.device, self.dtype,
                                          self.net.prepare) for name in ("train", "val", "test")}
        if len(self.parts["train"]) == 0:
            raise ConfigError("data.split leaves no training rows")
        self._join: tuple | bool | None = None  # evaluate_all's joined inputs (False: data too large)
        self.guard = Guard.for_run(self.net, self.output, self.parts["train"])  # the divergence criterion
        self.optimizer = self._make_optimizer()
        self._shuffle = torch.Generator().manual_seed(tr.seed)
        self.base_lr = tr.lr
        self.batch_size = tr.batch_size
        self.epoch = self.step_count = 0
        self._epoch_steps = 0  # steps of the epoch under way (a snapshot within an epoch counts them)
        self._tick: list | None = None  # [callback, interval, with_weights, last] while a run publishes within epochs
        self.elapsed = 0.0
        self.history = History(self.net.n_layers)
        self.grad_norms = np.zeros(self.net.n_layers)
        self.best_val, self.best_epoch, self._best_flat = math.inf, None, None
        self._criteria: tuple[Criterion, ...] = ()
        # the run's state and commands; its lock also covers the per-epoch publication and the pending changes
        self._control = RunControl(self.world.size)
        self._lock = self._control.lock
        self._pending: dict[str, float] = {}
        self._rate = (0.0, 0, time.perf_counter())  # steps per second, from the last two epochs
        self.pace: float | None = None  # epochs per second at most (set_pace); None: as fast as it goes
        self.threads: int | None = None  # torch intra-op threads while run() trains; None: by the work's size

    @property
    def state(self) -> RunState:
        """Where the run stands (changed only under the lock)."""
        return self._control.state

    @property
    def reason(self) -> str:
        """Why the run ended, in plain words ("" while it goes on)."""
        return self._control.reason

    @property
    def runs(self) -> int:
        """Runs begun so far: the window tells a second divergence from the first by it."""
        return self._control.runs

    # ------------------------------------------------------------------------------ commands (any thread)
    def begin(self) -> None:
        """Claim the Trainer for a run() that another thread is about to start: state RUNNING now, and
        pause()/stop() from here on act on that run. TrainerBusyError while a run is going."""
        self._control.claim("claimed")

    def cancel(self) -> None:
        """Give back a claim of begin() whose run() will not come (its thread could not start)."""
        self._control.cancel()

    def finish_epoch(self) -> bool:
        """Let the run complete its current epoch (a paused one continues), then end it with state STOPPED:
        a Step pressed on a paused run. True when a run goes on to do so."""
        return self._control.stop_after_epoch()

    def pause(self) -> None:
        """Hold the run between two steps (the weights stay as they are); `state` is PAUSED on return."""
        self._control.pause()

    def wait_held(self, timeout: float) -> bool:
        """After pause(): wait until the training loop actually holds (its current step done, the weights
        still), so that a snapshot taken now is exact; False if it does not within `timeout` seconds."""
        return self._control.held.wait(timeout)

    def resume(self) -> bool:
        """Continue a paused run; `state` is RUNNING on return. True while a run goes on (it was paused
        or not), False when there is none to continue (none claimed, or it is ending)."""
        return self._control.resume()

    def stop(self) -> None:
        """End the run after its current step (a paused one too); run() then returns with state STOPPED."""
        self._control.stop()

    def set_pace(self, epochs_per_second: float | None) -> None:
        """At most this many epochs per second (None: as fast as the machine goes), from the next epoch on:
        a run slow enough to watch. ConfigError, and nothing changes, when out of range (LIMITS["run.pace"])."""
        self.pace = None if epochs_per_second is None else float(validate("run.pace", epochs_per_second))
        self._control.nudge()

    def set_lr(self, lr: float) -> None:
        """Change μ (the base of the schedule) from the next epoch on; ConfigError, and nothing changes,
        when μ is out of the range files and flags get (bpcore.config.validate)."""
        lr = validate("training.lr", lr)
        with self._lock:
            self._pending["lr"] = lr

    def set_batch_size(self, batch_size: int) -> None:
        """Change the mini-batch size from the next epoch on; ConfigError, and nothing changes, when out of
        range (bpcore.config.validate)."""
        batch_size = validate("training.batch_size", batch_size)
        with self._lock:
            self._pending["batch_size"] = batch_size

    # ------------------------------------------------------------------------------------------ training
    def run(self, callback: Callable[[Snapshot], object] | None = None, *, snapshot_interval: float = 0.0,
            with_weights: bool = False, within_epochs: bool = False) -> Snapshot:
        """Train until a stopping criterion is met, stop() is called or the run diverges.

        `callback` gets a Snapshot after an epoch when `snapshot_interval` seconds have passed since the
        last one (0: every epoch) and always at the end; `with_weights` adds weight and gradient copies.
        With `within_epochs` it also gets one between two mini-batches once the interval has passed (long
        epochs of a big network: the window's views follow the weights, not only the epochs).
        Continues a claim of begin(); TrainerBusyError when another run is going. Trains with `threads` torch
        intra-op threads (None: by the size of a step's matrices, bpcore.train.threads), put back afterwards.
        """
        threads = self.threads or threads_for(self.model.sizes, self.experiment.training.batch_size,
                                              cores=max(1, (os.cpu_count() or 1) // self.world.size))
        with using_threads(threads):
            return self._run(callback, snapshot_interval, with_weights, within_epochs)

    def _run(self, callback, snapshot_interval: float, with_weights: bool, within_epochs: bool) -> Snapshot:
        control = self._control
        control.claim("run")
        tick = [callback, snapshot_interval, with_weights, -math.inf]
        self._tick = tick if callback is not None and within_epochs and snapshot_interval > 0 else None
        try:
            while True:
                if control.hold and not control.wait():
                    break
                started = time.perf_counter()
                self._train_epoch()
                if control.state.ended:
                    break
                control.epoch_done()
                resting = self.pace is not None and 1.0 / self.pace > snapshot_interval
                if callback is not None and (resting or time.perf_counter() - tick[3] >= snapshot_interval):
                    tick[3] = time.perf_counter()
                    callback(self.snapshot(with_weights))
                if self.pace is not None:  # a paced run waits out the rest of the epoch's 1/pace seconds
                    control.rest(functools.partial(self._rest_until, started))
        except BaseException as e:
            control.finish(RunState.STOPPED, f"stopped by an error: {e}")
            raise
        finally:
            self._tick = None
            with self._lock:  # the last snapshot shows the run ended, taken before another run may start
                control.release()
                snap = self.snapshot(with_weights)
        if callback is not None:
            callback(snap)
        return snap

    def _rest_until(self, started: float) -> float:
        """When a paced epoch that started at `started` may be followed by the next (perf_counter seconds)."""
        pace = self.pace
        return started if pace is None else started + 1.0 / pace

    def train_epoch(self) -> None:
        """One pass over the shuffled training part, then evaluation, the divergence test and the stopping
        criteria (outside a run; TrainerBusyError while one is going)."""
        self._control.claim("epoch")
        try:
            self._train_epoch()
        finally:
            self._control.release()

    def lr_at(self, epoch: int) -> float:
        """μ for an epoch under the schedule: constant, step (×γ every step_size) or cosine."""
        tr = self.experiment.training
        if tr.schedule == "step":
            return self.base_lr * tr.gamma ** (epoch // tr.step_size)
        if tr.schedule == "cosine":
            return self.base_lr * 0.5 * (1 + math.cos(math.pi * min(epoch, tr.epochs) / tr.epochs))
        return self.base_lr

    # ---------------------------------------------------------------------------------------- snapshots
    def snapshot(self, with_weights: bool = False) -> Snapshot:
        """An immutable picture of the run (weights and gradients copied when asked); taken under the lock,
        so its epoch, step, history and state belong together."""
        with self._lock:
            history, delta = self.history.views()
            weights = grads = None
            if with_weights:
                weights = tuple(_frozen(W) for W in self.net.weights)
                grads = tuple(_frozen(G) for G in self.net.grads)
            latest = {k: float(v[-1]) for k, v in history.items() if len(v)}
            return Snapshot(
                epoch=self.epoch, step=self.step_count + self._epoch_steps, elapsed=self.elapsed,
                steps_per_second=self._rate[0],
                state=self._control.state, reason=self._control.reason, task=self.task, history=history,
                delta_history=delta, grad_norms=self.grad_norms.copy(), best_epoch=self.best_epoch,
                criteria=self._criteria, lr=self.lr_at(self.epoch), weights=weights, grads=grads, metrics=latest,
            )

    def evaluate(self, part: str) -> dict[str, float]:
        """Loss and score (accuracy or R²) of the current weights on train, val or test."""
        p = self.parts[part]
        if len(p) == 0:
            return {"loss": math.nan, "score": math.nan}
        with torch.no_grad():
            return self._scores(self.net.logits(p.inputs), p.target)

    def evaluate_all(self) -> dict[str, dict[str, float]]:
        """evaluate() of train, val and test; for small data in one pass over the three parts together: one
        forward, one per-row loss and one product that averages each part (an epoch of a few mini-batches would
        otherwise spend most of its time on three small evaluations)."""
        joined = self._joined()
        if joined is None:
            return {part: self.evaluate(part) for part in PARTS}
        inputs, target, share = joined
        kind = bp.output_kind(self.output)
        with torch.no_grad():
            z = self.net.logits(inputs)
            per_row = [kind.loss_rows(z, target, "Trainer.evaluate")]
            if kind.classifies:
                per_row.append(metrics.correct(z, target))
            means = (share @ torch.stack(per_row, 1).double()).mT.tolist()  # [losses, scores] of the parts
            if not kind.classifies:
                o = kind.o(z)
                means.append([metrics.r2(o[a:b], target[a:b]) for a, b in self._bounds])
        return {part: {"loss": means[0][i], "score": means[1][i]} for i, part in enumerate(PARTS)}

    def _joined(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """The three parts' inputs and targets in one tensor each and the (3, rows) float64 matrix whose row p
        holds 1 / (rows of part p) at that part's rows (NaN for an empty part, as evaluate() gives), kept while
        the data is small (JOIN_ELEMENTS); None for larger data, evaluated part by part without the copy."""
        if self._join is None:
            parts = [self.parts[k] for k in PARTS]
            if sum(p.inputs.numel() for p in parts) > JOIN_ELEMENTS:
                self._join = False
            else:
                n = [len(p) for p in parts]
                ends = np.cumsum([0, *n]).tolist()
                self._bounds = list(itertools.pairwise(ends))
                device = parts[0].inputs.device
                share = torch.zeros(len(PARTS), ends[-1], dtype=torch.float64)
                for k, (a, b) in enumerate(self._bounds):
                    if b > a:
                        share[k, a:b] = 1.0 / (b - a)
                    else:  # an empty part's mean is NaN, as evaluate() gives
                        share[k] = math.nan
                self._join = (torch.cat([p.inputs for p in parts]), torch.cat([p.target for p in parts]),
                              share.to(device))
        return self._join or None

    def _scores(self, z: Tensor, target: Tensor) -> dict[str, float]:
        loss = float(self.net.loss(z, target))
        if self.task == "classification":
            return {"loss": loss, "score": metrics.accuracy(z, target)}
        return {"loss": loss, "score": metrics.r2(bp.output(self.output, z), target)}

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row's (standardised) inputs and its target in the loss's form, train, val, test in order."""
        parts = [self.parts[k] for k in ("train", "val", "test")]
        return (torch.cat([p.x for p in parts]).cpu().numpy(), torch.cat([p.target for p in parts]).cpu().numpy())

    def confusion(self, part: str = "test") -> np.ndarray:
        """Confusion matrix (row = true, column = predicted) on a part; empty for regression."""
        p = self.parts[part]
        if self.task != "classification" or len(p) == 0:
            return np.zeros((0, 0), dtype=np.int64)
        with torch.no_grad():
            return metrics.confusion_matrix(self.net.logits(p.inputs), p.target, self.dataset.n_classes).numpy()

    # ------------------------------------------------------------------------------------------ private
    def _train_epoch(self) -> None:
        tr = self.experiment.training
        self._apply_pending()
        lr = self.lr_at(self.epoch)
        for group in self.optimizer.param_groups if self.optimizer is not None else ():
            group["lr"] = lr
        train = self.parts["train"]
        perm = torch.randperm(len(train), generator=self._shuffle).to(self.device)
        inputs, target = train.inputs[perm], train.target[perm]
        start = (self.net.flat.clone(), self.net.flat_grad.clone(), self._optimizer_state())
        t0 = time.perf_counter()
        deltas: list[torch.Tensor] = []
        steps = 0
        epoch, every = self.epoch + 1, tr.eval_every
        measured = every == 1 or epoch % every == 0 or epoch >= tr.epochs
        last_loss = None  # an unmeasured epoch's divergence test: its last mini-batch's J, from that step
        # plain gradient descent (eq. 10) in place on the flat buffer, or the optimizer, L2 and clipping
        plain = self.optimizer is None and tr.l2 == 0 and tr.clip_norm is None
        update = functools.partial(bp.update, self.net.flat, self.net.flat_grad, lr) if plain \
            else functools.partial(self._update, lr, tr)
        with torch.no_grad():
            whole, rest = divmod(len(train), self.batch_size)  # split_with_sizes: no Python wrapper, unlike split
            sizes = [self.batch_size] * whole + [rest] * (rest > 0)
            batches = list(zip(inputs.split_with_sizes(sizes), target.split_with_sizes(sizes), strict=True))
            for k, batch in enumerate(batches):
                if self._control.hold:
                    self.elapsed += time.perf_counter() - t0
                    go_on = self._control.wait()
                    t0 = time.perf_counter()
                    if not go_on:
                        break
                last = k == len(batches) - 1
                J = sharded_step(self.net, self.world, *batch, deltas if last else None, last and not measured)
                last_loss = J if J is not None else last_loss
                update()
                steps += 1
                self._epoch_steps = steps
                tick = self._tick
                if tick is not None and (now := time.perf_counter()) - tick[3] >= tick[1]:
                    tick[3] = now
                    tick[0](self.snapshot(tick[2]))
        self.elapsed += time.perf_counter() - t0
        if self.world.size > 1:  # ranks decide together: stop if any rank was asked to, time = the slowest's
            stop, self.elapsed = self.world.agree(self._control.stop_request, self.elapsed)
            if stop:
                self._control.agreed_stop()
        if steps:
            self._end_epoch(deltas, lr, start, perm, steps, batch, measured, last_loss)

    def _make_optimizer(self) -> torch.optim.Optimizer | None:
        tr = self.experiment.training
        params = [self.net.param]
        if tr.optimizer == "sgd":
            return None  # eq. 10 in place on the flat buffer, see _update
        # fused: one kernel for the whole flat buffer (Adam's step 31 → 23 µs on 4,810 weights; the same numbers
        # to 4e-16 in float64)
        if tr.optimizer in ("momentum", "nesterov"):
            return torch.optim.SGD(params, lr=tr.lr, momentum=tr.momentum, nesterov=tr.optimizer == "nesterov",
                                   fused=True)
        if tr.optimizer == "adam":
            return torch.optim.Adam(params, lr=tr.lr, fused=True)
        raise ConfigError(f"training.optimizer must be sgd, momentum, nesterov or adam, got {tr.optimizer!r}")

    def _update(self, lr: float, tr) -> None:
        net = self.net
        if tr.l2 > 0:  # ∇(λ/2 ‖W‖²) = λ W on the weight rows, never the biases
            net.flat_grad.addcmul_(net.flat, net.weight_mask, value=tr.l2)
        if tr.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([net.param], tr.clip_norm, foreach=True)
        if self.optimizer is None:
            bp.update(net.flat, net.flat_grad, lr)  # eq. 10: W ← W − μ h δᵀ, all layers at once
        else:
            quiet_step(self.optimizer)

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if "lr" in pending:
            self.base_lr = pending["lr"]
        if "batch_size" in pending:
            self.batch_size = int(pending["batch_size"])

    def _optimizer_state(self) -> dict | None:
        if self.optimizer is None:
            return None
        state = self.optimizer.state.get(self.net.param, {})
        return {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}

    def _restore(self, saved: tuple[torch.Tensor, torch.Tensor, dict | None]) -> None:
        """Weights, gradient and optimizer state as _train_epoch / the replay saved them."""
        flat, grad, opt_state = saved
        self.net.flat.copy_(flat)
        self.net.flat_grad.copy_(grad)
        if opt_state is not None:  # replaced, not updated: an empty state makes Adam start afresh
            self.optimizer.state[self.net.param] = {k: v.clone() if torch.is_tensor(v) else v
                                                    for k, v in opt_state.items()}

    def _end_epoch(self, deltas, lr, start, perm, steps, batch, measured: bool, last_loss) -> None:
        tr = self.experiment.training
        epoch = self.epoch + 1
        if measured:
            ev = self.evaluate_all()
            train_loss = ev["train"]["loss"]
        else:  # training.eval_every skips this epoch's metrics; the divergence test takes the last batch's loss
            ev = dict.fromkeys(PARTS, _UNMEASURED)
            if last_loss is None:  # the epoch was cut short, or ranks shared the batch: a forward pass
                with torch.no_grad():
                    last_loss = self.net.loss(self.net.logits(batch[0]), batch[1])
            train_loss = float(last_loss)
        # the divergence test's extremes, Σ|δ| per layer (bottom up) and ‖∇W‖ per layer, read in one go
        deltas = deltas[::-1]
        values = torch.stack([*extremes_of(self.net), *(torch._foreach_norm(deltas, 1) if deltas else ()),
                              *torch._foreach_norm(self.net.grads)]).tolist()
        what = self.guard.check(self.net, train_loss, extremes=values[:4])
        if what is not None:
            self._diverged(start, perm, lr, steps, what)
            return
        n = self.net.n_layers
        mean_delta = (np.array(values[4:4 + n]) / [d.numel() for d in deltas] if deltas
                      else np.full(n, np.nan))  # mean |δ| per layer; NaN: stopped before the last step
        grad_norms = np.array(values[-n:])
        grad_norm = math.hypot(*values[-n:])  # ‖∇W‖ of all layers (numpy costs 30 µs on 2 numbers)
        row = {"epoch": epoch, "grad_norm": grad_norm, "lr": lr, "time": self.elapsed}
        for part in ("train", "val", "test"):
            row[f"{part}_loss"], row[f"{part}_score"] = ev[part]["loss"], ev[part]["score"]
        with self._lock:  # published at once: a snapshot never shows the epoch without its history row
            if ev["val"]["loss"] < self.best_val:  # NaN (no validation part) never compares smaller
                self.best_val, self.best_epoch = ev["val"]["loss"], epoch
                if tr.patience is not None:
                    self._best_flat = self.net.flat.clone()
            self.epoch, self.step_count, self._epoch_steps = epoch, self.step_count + steps, 0
            self.grad_norms = grad_norms
            self.history.append(row, mean_delta)
            since_best = epoch - self.best_epoch if self.best_epoch is not None else 0
            self._criteria = stopping.criteria(
                epoch=epoch, epochs=tr.epochs, elapsed=self.elapsed, time_limit=tr.time_limit,
                train_loss=ev["train"]["loss"], loss_goal=tr.loss_goal, grad_norm=grad_norm,
                min_grad=tr.min_grad, since_best=since_best, patience=tr.patience,
            )
            now = time.perf_counter()
            _, step0, t0 = self._rate
            if now > t0:
                self._rate = (max(0.0, (self.step_count - step0) / (now - t0)), self.step_count, now)
            met = [c for c in self._criteria if c.met]
            if met:
                if met[0].name == "validation patience" and self._best_flat is not None:
                    self.net.flat.copy_(self._best_flat)
                self._control.finish(RunState.FINISHED, stopping.reason(met[0]))

    def _diverged(self, start, perm, lr, steps: int, what: str) -> None:
        """Replay the epoch from its healthy start to find the first step the divergence criterion flags
        (the same Guard.check, on the step's rows); keep the weights before it, or the epoch's start when
        those fail the criterion on the whole training part. The epoch does not count."""
        tr, net, bs = self.experiment.training, self.net, self.batch_size
        self._restore(start)
        train = self.parts["train"]
        inputs, target = train.inputs[perm], train.target[perm]
        bad = None
        with torch.no_grad():
            for k in range(steps):
                x, t = inputs[k * bs:(k + 1) * bs], target[k * bs:(k + 1) * bs]
                before = (net.flat.clone(), net.flat_grad.clone(), self._optimizer_state())
                net.step(x, t)
                self._update(lr, tr)
                found = self.guard.check(net, float(net.loss(net.logits(x), t)))
                if found is not None:
                    self._restore(before)
                    bad, what = k + 1, found
                    break
        kept = bad - 1 if bad is not None else 0
        if bad is None or (kept and self.guard.check(net, self.evaluate("train")["loss"]) is not None):
            self._restore(start)
            kept = 0
        if bad is None:  # no single step's rows flag it: the epoch's end on the whole training part did
            where = f"the end of the epoch (steps {self.step_count + 1}–{self.step_count + steps})"
        else:
            where = f"step {self.step_count + bad}"
        with self._lock:
            self.step_count, self._epoch_steps = self.step_count + kept, 0
            self._control.finish(RunState.DIVERGED, f"diverged at epoch {self.epoch + 1}, {where}: {what} "
                                 f"(μ = {lr:g} too large?); the last finite weights are kept (step {self.step_count})")


def _frozen(t: torch.Tensor) -> np.ndarray:
    a = t.detach().to("cpu", copy=True).numpy()
    a.flags.writeable = False
    return a
