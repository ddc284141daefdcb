"""The training engine under the CLI and the GUI: mini-batch gradient descent by the explicit δ recursion."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

from bpcore import backprop as bp
from bpcore import metrics
from bpcore.config import Experiment
from bpcore.data import Dataset, Split
from bpcore.distributed import World, sharded_step
from bpcore.errors import ConfigError
from bpcore.nn import MLP
from bpcore.train import setup, stopping
from bpcore.train.network import FlatNetwork
from bpcore.train.snapshot import HISTORY_KEYS, Criterion, Snapshot

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class _History:
    """Append-only per-epoch series; readers get read-only views of the filled prefix."""

    def __init__(self, n_layers: int) -> None:
        self.n = 0
        self.series = {k: np.full(64, np.nan) for k in HISTORY_KEYS}
        self.delta = np.full((64, n_layers), np.nan)

    def append(self, row: dict[str, float], delta: np.ndarray) -> None:
        if self.n == len(self.delta):  # grow by doubling; old views keep the old (unchanged) buffers
            self.series = {k: np.concatenate([v, np.full_like(v, np.nan)]) for k, v in self.series.items()}
            self.delta = np.concatenate([self.delta, np.full_like(self.delta, np.nan)])
        for k, v in row.items():
            self.series[k][self.n] = v
        self.delta[self.n] = delta
        self.n += 1

    def views(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        out = {}
        for k, v in self.series.items():
            view = v[: self.n]
            view.flags.writeable = False
            out[k] = view
        delta = self.delta[: self.n]
        delta.flags.writeable = False
        return out, delta


class Trainer:
    """Trains an MLP as an Experiment describes; pause/resume/stop/set_lr/set_batch_size are thread-safe.

    Each step is forward_pass, δ^(L), backward_pass into one flat gradient buffer and one fused update
    (eq. 10 for plain gradient descent; torch.optim for momentum, Nesterov and Adam).
    With a `world` of several ranks (bpcore.distributed) each rank computes its rows of every mini-batch and
    one all-reduce of the flat gradient gives all ranks the full-batch gradient.
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
        self.net = FlatNetwork(model)
        self.model = model
        # data parallel (bpcore.distributed): same data and seeds on every rank, rank 0's weights to start
        self.world = world or World()
        self.world.broadcast_(self.net.flat)
        self.parts = {name: setup.to_part(getattr(self.split, name), self.output, self.device, self.dtype,
                                          self.net.prepare) for name in ("train", "val", "test")}
        if len(self.parts["train"]) == 0:
            raise ConfigError("data.split leaves no training rows")
        self.optimizer = self._make_optimizer()
        self._shuffle = torch.Generator().manual_seed(tr.seed)
        self.base_lr = tr.lr
        self.batch_size = tr.batch_size
        self.epoch = self.step_count = 0
        self.elapsed = 0.0
        self.state, self.reason = "idle", ""
        self.history = _History(self.net.n_layers)
        self.grad_norms = np.zeros(self.net.n_layers)
        self.best_val, self.best_epoch, self._best_flat = math.inf, None, None
        self._criteria: tuple[Criterion, ...] = ()
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = self._stop_request = False
        self._pending: dict[str, float] = {}
        self._rate = (0.0, 0, time.perf_counter())  # steps per second, from the last two epochs

    # ------------------------------------------------------------------------------ commands (any thread)
    def pause(self) -> None:
        """Pause between two steps (the weights stay as they are)."""
        self._resume.clear()
        if self.state == "running":
            self.state = "paused"

    def resume(self) -> None:
        """Continue a paused run."""
        if self.state == "paused":
            self.state = "running"
        self._resume.set()

    def stop(self) -> None:
        """End the run after the current step."""
        if self.world.size > 1:
            self._stop_request = True  # taken up by every rank at the end of the epoch (World.agree)
        else:
            self._stop = True
        self._resume.set()

    def set_lr(self, lr: float) -> None:
        """Change μ (the base of the schedule) from the next step on."""
        if not lr > 0:
            raise ConfigError(f"training.lr must be > 0, got {lr}")
        with self._lock:
            self._pending["lr"] = float(lr)

    def set_batch_size(self, batch_size: int) -> None:
        """Change the mini-batch size from the next epoch on."""
        if int(batch_size) < 1:
            raise ConfigError(f"training.batch_size must be >= 1, got {batch_size}")
        with self._lock:
            self._pending["batch_size"] = int(batch_size)

    # ------------------------------------------------------------------------------------------ training
    def run(self, callback: Callable[[Snapshot], object] | None = None, *, snapshot_interval: float = 0.0,
            with_weights: bool = False) -> Snapshot:
        """Train until a stopping criterion is met, stop() is called or the loss diverges.

        `callback` gets a Snapshot after an epoch when `snapshot_interval` seconds have passed since the
        last one (0: every epoch) and always at the end; `with_weights` adds weight and gradient copies.
        """
        self._stop = False
        self.state = "running" if self._resume.is_set() else "paused"
        last = -math.inf
        while True:
            if not self._resume.is_set():
                self._resume.wait()
            if self._stop:
                self._finish("stopped", "stopped by the user")
                break
            self.state = "running"
            self.train_epoch()
            if self.state in ("finished", "diverged"):
                break
            if callback is not None and time.perf_counter() - last >= snapshot_interval:
                last = time.perf_counter()
                callback(self.snapshot(with_weights))
        self._stop = False  # the request is spent: train_epoch() and run() work again afterwards
        snap = self.snapshot(with_weights)
        if callback is not None:
            callback(snap)
        return snap

    def train_epoch(self) -> None:
        """One pass over the shuffled training part, then evaluation and the stopping criteria."""
        tr = self.experiment.training
        self._apply_pending()
        lr = self.lr_at(self.epoch)
        for group in self.optimizer.param_groups if self.optimizer is not None else ():
            group["lr"] = lr
        train = self.parts["train"]
        perm = torch.randperm(len(train), generator=self._shuffle).to(self.device)
        inputs, target = train.inputs[perm], train.target[perm]
        start = self.net.flat.clone()
        opt_state = self._optimizer_state()
        t0 = time.perf_counter()
        deltas: list[torch.Tensor] = []
        steps = 0
        with torch.no_grad():
            for i in range(0, len(train), self.batch_size):
                if self._stop or not self._resume.is_set():
                    self.elapsed += time.perf_counter() - t0
                    self._resume.wait()
                    t0 = time.perf_counter()
                    if self._stop:
                        break
                last = i + self.batch_size >= len(train)
                sharded_step(self.net, self.world, inputs[i:i + self.batch_size], target[i:i + self.batch_size],
                             deltas if last else None)
                self._update(lr, tr)
                steps += 1
        self.elapsed += time.perf_counter() - t0
        if self.world.size > 1:  # ranks decide together: stop if any rank was asked to, time = the slowest's
            self._stop, self.elapsed = self.world.agree(self._stop_request, self.elapsed)
        self.step_count += steps
        if steps == 0:
            return
        self.epoch += 1
        self._end_epoch(deltas, lr, start, opt_state, perm)

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
        """An immutable picture of the run (weights and gradients copied when asked)."""
        history, delta = self.history.views()
        weights = grads = None
        if with_weights:
            weights = tuple(_frozen(W) for W in self.net.weights)
            grads = tuple(_frozen(G) for G in self.net.grads)
        latest = {k: float(v[-1]) for k, v in history.items() if len(v)}
        return Snapshot(
            epoch=self.epoch, step=self.step_count, elapsed=self.elapsed, steps_per_second=self._rate[0],
            state=self.state, reason=self.reason, task=self.task, history=history, delta_history=delta,
            grad_norms=self.grad_norms.copy(), best_epoch=self.best_epoch, criteria=self._criteria,
            lr=self.lr_at(self.epoch), weights=weights, grads=grads, metrics=latest,
        )

    def evaluate(self, part: str) -> dict[str, float]:
        """Loss and score (accuracy or R²) of the current weights on train, val or test."""
        p = self.parts[part]
        if len(p) == 0:
            return {"loss": math.nan, "score": math.nan}
        with torch.no_grad():
            z = self.net.logits(p.inputs)
            loss = float(self.net.loss(z, p.target))
            if self.task == "classification":
                score = metrics.accuracy(z, p.target)
            else:
                score = metrics.r2(bp.output(self.output, z), p.target)
        return {"loss": loss, "score": score}

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
    def _make_optimizer(self) -> torch.optim.Optimizer | None:
        tr = self.experiment.training
        params = [self.net.param]
        if tr.optimizer == "sgd":
            return None  # eq. 10 in place on the flat buffer, see _update
        if tr.optimizer in ("momentum", "nesterov"):
            return torch.optim.SGD(params, lr=tr.lr, momentum=tr.momentum, nesterov=tr.optimizer == "nesterov")
        if tr.optimizer == "adam":
            return torch.optim.Adam(params, lr=tr.lr)
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
            self.optimizer.step()

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

    def _end_epoch(self, deltas, lr, start, opt_state, perm) -> None:
        tr = self.experiment.training
        ev = {part: self.evaluate(part) for part in ("train", "val", "test")}
        if not (math.isfinite(ev["train"]["loss"]) and bool(torch.isfinite(self.net.flat).all())):
            self._diverged(start, opt_state, perm, lr)
            return
        mean_delta = (np.array([float(d.abs().mean()) for d in reversed(deltas)]) if deltas
                      else np.full(self.net.n_layers, np.nan))  # stopped before the epoch's last step
        self.grad_norms = np.array([float(torch.linalg.vector_norm(G)) for G in self.net.grads])
        grad_norm = float(np.sqrt(np.sum(self.grad_norms ** 2)))
        if ev["val"]["loss"] < self.best_val:  # NaN (no validation part) never compares smaller
            self.best_val, self.best_epoch = ev["val"]["loss"], self.epoch
            if tr.patience is not None:
                self._best_flat = self.net.flat.clone()
        row = {"epoch": self.epoch, "grad_norm": grad_norm, "lr": lr, "time": self.elapsed}
        for part in ("train", "val", "test"):
            row[f"{part}_loss"], row[f"{part}_score"] = ev[part]["loss"], ev[part]["score"]
        self.history.append(row, mean_delta)
        since_best = self.epoch - self.best_epoch if self.best_epoch is not None else 0
        self._criteria = stopping.criteria(
            epoch=self.epoch, epochs=tr.epochs, elapsed=self.elapsed, time_limit=tr.time_limit,
            train_loss=ev["train"]["loss"], loss_goal=tr.loss_goal, grad_norm=grad_norm, min_grad=tr.min_grad,
            since_best=since_best, patience=tr.patience,
        )
        now = time.perf_counter()
        _, step0, t0 = self._rate
        if now > t0:
            self._rate = (max(0.0, (self.step_count - step0) / (now - t0)), self.step_count, now)
        met = [c for c in self._criteria if c.met]
        if met:
            if met[0].name == "validation patience" and self._best_flat is not None:
                self.net.flat.copy_(self._best_flat)
            self._finish("finished", stopping.reason(met[0]))

    def _diverged(self, start, opt_state, perm, lr) -> None:
        """Replay the epoch from its finite start to find the first bad step; keep the last finite weights."""
        tr = self.experiment.training
        self.net.flat.copy_(start)
        if opt_state is not None:
            self.optimizer.state[self.net.param].update({k: v.clone() if torch.is_tensor(v) else v
                                                          for k, v in opt_state.items()})
        train = self.parts["train"]
        inputs, target = train.inputs[perm], train.target[perm]
        first_step = self.step_count - math.ceil(len(train) / self.batch_size)
        bad = None
        with torch.no_grad():
            for k, i in enumerate(range(0, len(train), self.batch_size)):
                before = self.net.flat.clone()
                self.net.step(inputs[i:i + self.batch_size], target[i:i + self.batch_size])
                self._update(lr, tr)
                z = self.net.logits(inputs[i:i + self.batch_size])
                if not (bool(torch.isfinite(self.net.flat).all()) and
                        math.isfinite(float(self.net.loss(z, target[i:i + self.batch_size])))):
                    self.net.flat.copy_(before)
                    bad = first_step + k + 1
                    break
        where = f"step {bad}" if bad is not None else f"the end of the epoch (steps up to {self.step_count})"
        self._finish("diverged", f"diverged at epoch {self.epoch}, {where}: the loss became NaN/Inf "
                                 f"(μ = {lr:g} too large?); the last finite weights are kept")

    def _finish(self, state: str, reason: str) -> None:
        self.state, self.reason = state, reason


def _frozen(t: torch.Tensor) -> np.ndarray:
    a = t.detach().to("cpu", copy=True).numpy()
    a.flags.writeable = False
    return a
