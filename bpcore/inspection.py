"""InspectorSession: the state behind the backprop inspector, without Qt (eq. 1–12 for chosen rows).

The session holds copies only: the source weights (copied from the arrays or tensors it is given, so a training
run that goes on writing its own tensors never changes what is inspected), the data rows X and their targets,
its own weights after the updates applied in the session, the selected rows, μ, the stage revealed so far, the
current bpcore.inspect.Trace and the last bpcore.inspect.Check. Its methods mirror an inspector's buttons::

    s = InspectorSession()
    s.set_source(weights, ["sigmoid"], "softmax", X, targets, lr=0.5)
    s.select(3, batch=True, size=4)   # rows 3..6: ∇_W J = Σ_i h_i δ_iᵀ (eq. 9 over a mini-batch)
    s.forward()                       # h, z, o (eq. 3, 11)
    s.backward()                      # o', ∇_o J, δ, ∇_W J (eq. 5–9, 12)
    s.update()                        # W ← W − μ Σ_i h_i δ_iᵀ on the session's copy (eq. 10)
    s.check()                         # hand-derived ∇_W J against autograd and finite differences

The backward pass can also be stepped in the lecture's order, one layer at a time from the output down
(`backward_step`, then `backward_layers()` says how many are revealed).

Conventions: J is the mean over the inspected rows, as the trainer's loss (`set_reduction("sum")` shows eq. 1's
sum, B times larger with every gradient). The update is eq. 10 with μ unless an UpdateRule says what the trainer
applies (`set_rule`): L2 λ added to ∇_W J, the scheduled μ, the clipped norm, momentum or Adam with the
optimizer's state; `rule_note()` names what the shown step leaves out when the state is not known.

A gradient check can take seconds, so it splits in two: `check_request()` takes an immutable CheckRequest
(copies of W and of the rows) that may `run()` on any thread, and `accept_check(request, result)` keeps the
result only when neither the weights nor the rows changed since the request was taken (`version`).

Stages are an ordered tuple (STAGES); a later stage (stepping the backward pass layer by layer, the optimizer's
real step) is added by extending it and the methods here, not by the view that draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore.errors import ConfigError, DataError
from bpcore.inspect import REDUCTIONS, Check, Trace, check, trace

__all__ = ["CHECK_LIMIT", "OPTIMIZERS", "STAGES", "CheckRequest", "InspectorSession", "UpdateRule"]

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adam")
_CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: coefficient max_norm / (‖g‖ + 1e-6), at most 1

STAGES: tuple[str, ...] = ("forward", "backward", "update")
CHECK_LIMIT = 20_000  # weights; the finite-difference check needs two forward passes per weight


def _copy_weight(W: Tensor | np.ndarray) -> Tensor:
    """A tensor that shares no memory with W (a detached clone, or a tensor built from a copied array)."""
    if isinstance(W, Tensor):
        return W.detach().clone()
    return torch.tensor(np.array(W, copy=True))


def _copy_array(a: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy().copy()
    return np.array(a, copy=True)


def _checked_lr(lr: float) -> float:
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ConfigError(f"inspector: learning rate μ must be a finite number > 0, got {lr!r}")
    return lr


@dataclass(frozen=True)
class CheckRequest:
    """Everything one gradient check needs, copied: safe to run on a worker thread while the session changes."""

    weights: tuple[Tensor, ...]
    activations: tuple[str, ...]
    output: str
    x: Tensor
    target: Tensor
    rows: tuple[int, ...]
    version: int  # the session's version when the request was taken

    def run(self) -> Check:
        """bpcore.inspect.check on the copied weights and rows (seconds for large networks)."""
        return check(list(self.weights), list(self.activations), self.output, self.x, self.target)


@dataclass(frozen=True)
class UpdateRule:
    """What the trainer's update does beyond eq. 10, so that the inspector can show the step it applies.

    `lr` is the μ of the current epoch (after the schedule); `base_lr` and `schedule` only label it. `l2` adds
    λ W to ∇_W J on the weight rows (never the bias row), `clip_norm` scales the whole network's gradient to at
    most that norm (torch.nn.utils.clip_grad_norm_), then the optimizer steps: sgd (eq. 10), momentum / nesterov
    (torch.optim.SGD) or adam (torch.optim.Adam). `state` is the optimizer's state for the network's weights,
    flattened layer after layer as the trainer's flat buffer ('momentum_buffer'; 'step', 'exp_avg',
    'exp_avg_sq'), or None when not known: a fresh optimizer's first step is shown then, and `note` says so.
    """

    optimizer: str = "sgd"
    lr: float = 0.1
    base_lr: float | None = None
    schedule: str = "constant"
    epoch: int = 0
    l2: float = 0.0
    clip_norm: float | None = None
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    state: dict[str, np.ndarray | float] | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"inspector: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        _checked_lr(self.lr)
        if not (np.isfinite(self.l2) and self.l2 >= 0):
            raise ConfigError(f"inspector: L2 λ must be a finite number ≥ 0, got {self.l2!r}")
        if self.clip_norm is not None and not (np.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise ConfigError(f"inspector: clip norm must be a finite number > 0, got {self.clip_norm!r}")

    @classmethod
    def from_trainer(cls, trainer) -> UpdateRule:
        """The rule of a bpcore.train.Trainer as its next step applies it: its settings, μ at its epoch and a copy
        of its optimizer's state (torch.optim's state_dict, public API)."""
        tr = trainer.experiment.training
        state, betas, eps, momentum = None, (0.9, 0.999), 1e-8, tr.momentum
        opt = getattr(trainer, "optimizer", None)
        if opt is not None:
            sd = opt.state_dict()
            group = sd["param_groups"][0]
            betas, eps = tuple(group.get("betas", betas)), float(group.get("eps", eps))
            momentum = float(group.get("momentum", momentum))
            raw = sd["state"].get(0)
            if raw:
                state = {k: (v.detach().cpu().numpy().copy() if isinstance(v, Tensor) and v.ndim else float(v))
                         for k, v in raw.items() if v is not None}
        return cls(tr.optimizer, float(trainer.lr_at(trainer.epoch)), float(trainer.base_lr), tr.schedule,
                   int(trainer.epoch), float(tr.l2), tr.clip_norm, momentum, betas, eps, state)

    def is_plain(self) -> bool:
        """Whether the step is eq. 10 exactly: plain gradient descent, no L2, no clipping."""
        return self.optimizer == "sgd" and self.l2 == 0 and self.clip_norm is None

    def parts(self) -> list[str]:
        """The terms of the shown step beyond eq. 10, in the order they are applied."""
        out = []
        if self.l2:
            out.append(f"+ λW (L2, λ = {self.l2:g}, bias rows not penalised)")
        if self.clip_norm is not None:
            out.append(f"clipped to ‖∇J‖ ≤ {self.clip_norm:g}")
        if self.schedule != "constant" and self.base_lr is not None:
            out.append(f"μ = {self.lr:g} from the {self.schedule} schedule at epoch {self.epoch} "
                       f"(base {self.base_lr:g})")
        if self.optimizer != "sgd":
            out.append({"momentum": f"momentum {self.momentum:g}", "nesterov": f"Nesterov momentum {self.momentum:g}",
                        "adam": "Adam (m̂ / (√v̂ + ε))"}[self.optimizer])
        return out

    def note(self) -> str:
        """What the shown step leaves out ('' when it is the trainer's step exactly)."""
        if self.optimizer != "sgd" and self.state is None:
            return (f"{self.optimizer}'s state (running averages) is not known here: the step shown is a fresh "
                    f"{self.optimizer}'s first step, not the trainer's")
        return ""


def _rule_step(rule: UpdateRule, weights: Sequence[Tensor], grads: Sequence[np.ndarray],
               state: dict[str, Tensor | float] | None) -> tuple[list[Tensor], dict[str, Tensor | float] | None, float]:
    """The trainer's step for ∇_W J `grads` (one per layer): the per-layer ΔW, the optimizer's next state and
    the gradient norm before clipping. Written with the trainer's and torch.optim's own operations, in order."""
    like = weights[0]
    flat = torch.cat([W.reshape(-1) for W in weights])
    g = torch.cat([torch.as_tensor(G, dtype=like.dtype).reshape(-1) for G in grads])
    if rule.l2:  # ∇(λ/2 ‖W‖²) = λ W on the weight rows, never the biases
        mask = torch.cat([torch.cat([torch.ones(W.shape[0] - 1, W.shape[1]), torch.zeros(1, W.shape[1])]).reshape(-1)
                          for W in weights]).to(like.dtype)
        g = g.addcmul(flat, mask, value=rule.l2)
    norm = float(torch.linalg.vector_norm(g))
    if rule.clip_norm is not None:
        coef = torch.clamp(torch.tensor(rule.clip_norm, dtype=like.dtype) / (torch.linalg.vector_norm(g) + _CLIP_EPS),
                           max=1.0)
        g = g * coef
    lr = rule.lr
    new_state: dict[str, Tensor | float] | None = None
    if rule.optimizer == "sgd":
        step = -lr * g
    elif rule.optimizer in ("momentum", "nesterov"):
        buf = state.get("momentum_buffer") if state else None
        buf = g.clone() if buf is None else torch.as_tensor(buf, dtype=like.dtype).clone().mul_(rule.momentum).add_(g)
        d = g.add(buf, alpha=rule.momentum) if rule.optimizer == "nesterov" else buf
        step = -lr * d
        new_state = {"momentum_buffer": buf}
    else:  # adam, as torch.optim.Adam's single-tensor step
        b1, b2 = rule.betas
        m = torch.as_tensor(state["exp_avg"], dtype=like.dtype).clone() if state else torch.zeros_like(g)
        v = torch.as_tensor(state["exp_avg_sq"], dtype=like.dtype).clone() if state else torch.zeros_like(g)
        t = float(state["step"]) + 1 if state else 1.0
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        step_size = lr / (1 - b1 ** t)
        denom = (v.sqrt() / ((1 - b2 ** t) ** 0.5)).add_(rule.eps)
        step = (flat.addcdiv(m, denom, value=-step_size)) - flat
        new_state = {"step": t, "exp_avg": m, "exp_avg_sq": v}
    out, k = [], 0
    for W in weights:
        out.append(step[k:k + W.numel()].reshape(W.shape))
        k += W.numel()
    return out, new_state, norm


class InspectorSession:
    """One inspected network: forward, backward and update of chosen rows on the session's own copy of W."""

    def __init__(self) -> None:
        self._source: list[Tensor] = []
        self._weights: list[Tensor] = []
        self.activations: list[str] = []
        self.output = "softmax"
        self.X = np.zeros((0, 0))
        self.targets = np.zeros(0)
        self.class_names: list[str] | None = None
        self._row, self._batch, self._size = 0, False, 1
        self._lr = 0.1
        self._stage = 0  # stages revealed: 0 none, 1 forward, 2 backward, 3 update
        self._trace: Trace | None = None
        self._applied = False  # the current trace's update was applied to the session's weights
        self._n_updates = 0
        self._check: Check | None = None
        self._version = 0  # bumped whenever the weights or the rows change (a pending check then no longer applies)
        self._reduction = "mean"
        self._rule = UpdateRule()  # plain eq. 10 with the session's μ until set_rule
        self._rule_given = False
        self._opt_state: dict | None = None  # the optimizer state the next shown step starts from
        self._next_state: dict | None = None  # the state after the current trace's step
        self._grad_norm = 0.0  # ‖∇J‖ (with λW) before clipping, of the current trace
        self._back = 0  # layers whose backward is revealed, from the output down (L: all of them)

    # inputs -------------------------------------------------------------------------------------------------
    def set_source(self, weights: Sequence[Tensor | np.ndarray], activations: Sequence[str], output: str,
                   X: np.ndarray | Tensor, targets: np.ndarray | Tensor, lr: float,
                   class_names: Sequence[str] | None = None) -> None:
        """Inspect copies of these weights on the rows of X with targets (one per row); the stage is kept.

        Targets are class ids (softmax), 0/1 (sigmoid) or values (identity). Raises DataError when X does not
        fit W^(1) (D_0 + 1 rows, eq. 11) or the targets are not one per row, ConfigError for μ; nothing changes
        then.
        """
        lr = _checked_lr(lr)
        if not weights:
            raise DataError("inspector: need at least one weight matrix W^(1)")
        source = [_copy_weight(W) for W in weights]
        X, targets = _copy_array(X), _copy_array(targets)
        d_in = int(source[0].shape[0]) - 1
        if X.ndim != 2 or X.shape[1] != d_in or len(targets) != len(X):
            raise DataError(f"inspector: need X (N, {d_in}) for W^(1) of shape {tuple(source[0].shape)} and N "
                            f"targets, got X {X.shape} and {len(targets)} targets")
        self._source = source
        self._weights = [W.clone() for W in source]
        self.activations, self.output = list(activations), output
        self.X, self.targets = X, targets
        self.class_names = list(class_names) if class_names is not None else None
        self._n_updates = 0
        self._opt_state = self._rule.state
        self._row = min(self._row, max(0, len(X) - 1))
        self._size = min(max(1, self._size), max(1, len(X)))
        self._lr = lr
        self._changed()

    def select(self, row: int, batch: bool | None = None, size: int | None = None) -> None:
        """Inspect data row `row`, or rows row … row + size − 1 in batch mode (cut at the end of the data).

        Raises DataError naming the row or size when it is outside the data."""
        n = len(self.X)
        if not 0 <= row < max(1, n):
            raise DataError(f"inspector: row {row} is outside the data (rows 0–{n - 1})" if n
                            else f"inspector: row {row} cannot be chosen, there are no rows")
        if size is not None and not 1 <= size <= max(1, n):
            raise DataError(f"inspector: batch size {size} must be between 1 and the {n} rows of the data")
        self._row = int(row)
        if batch is not None:
            self._batch = bool(batch)
        if size is not None:
            self._size = int(size)
        self._changed()

    def set_lr(self, lr: float) -> None:
        """μ of eq. 10 (ConfigError unless a finite number > 0); with a rule, the μ of its step."""
        self._lr = _checked_lr(lr)
        self._rule = replace(self._rule, lr=self._lr)
        self._retrace()

    def set_reduction(self, reduction: str) -> None:
        """J as the 'mean' over the inspected rows (the trainer's loss) or their 'sum' (eq. 1 as written)."""
        if reduction not in REDUCTIONS:
            raise ConfigError(f"inspector: J must be the mean or the sum over the rows, got {reduction!r}")
        self._reduction = reduction
        self._retrace()

    def set_rule(self, rule: UpdateRule | None) -> None:
        """Show and apply the trainer's real step (L2, schedule, clipping, momentum, Adam with its state) instead
        of plain eq. 10; None goes back to eq. 10. μ becomes the rule's (the scheduled μ)."""
        self._rule_given = rule is not None
        self._rule = rule if rule is not None else UpdateRule(lr=self._lr)
        self._lr = self._rule.lr
        self._opt_state = self._rule.state
        self._retrace()

    # queries ------------------------------------------------------------------------------------------------
    def ready(self) -> bool:
        """Whether there is a network and at least one row."""
        return bool(self._weights) and len(self.X) > 0

    def rows(self) -> list[int]:
        """The inspected data rows."""
        n = len(self.X)
        if n == 0:
            return []
        return list(range(self._row, min(self._row + (self._size if self._batch else 1), n)))

    def row(self) -> int:
        """The selected (first) row."""
        return self._row

    def batch_mode(self) -> bool:
        """Whether several rows are inspected together."""
        return self._batch

    def batch_size(self) -> int:
        """B of batch mode (the selected rows may be fewer at the end of the data)."""
        return self._size

    def lr(self) -> float:
        """μ of eq. 10."""
        return self._lr

    def reduction(self) -> str:
        """'mean' (the trainer's J) or 'sum' (eq. 1's sum over the rows)."""
        return self._reduction

    def rule(self) -> UpdateRule:
        """The update rule the shown step follows (plain eq. 10 unless set_rule gave the trainer's)."""
        return self._rule

    def rule_given(self) -> bool:
        """Whether the trainer's update rule was given (set_rule); without it the step is plain eq. 10."""
        return self._rule_given

    def grad_norm(self) -> float:
        """‖∇_W J‖ over the whole network (λW included) before clipping, for the current trace."""
        return self._grad_norm

    def backward_layers(self) -> int:
        """How many layers' backward quantities are revealed, counted from the output layer down."""
        return self._back

    def stage_index(self) -> int:
        """How many stages are revealed (0 none … len(STAGES))."""
        return self._stage

    def stage(self) -> str:
        """The last revealed stage: '', 'forward', 'backward' or 'update'."""
        return STAGES[self._stage - 1] if self._stage else ""

    def trace(self) -> Trace | None:
        """The engine's Trace behind the shown numbers (None before Forward)."""
        return self._trace

    def weights(self) -> list[Tensor]:
        """The session's own W after its applied updates (clones)."""
        return [W.clone() for W in self._weights]

    def source_weights(self) -> list[Tensor]:
        """The weights copied at set_source (clones)."""
        return [W.clone() for W in self._source]

    def n_updates(self) -> int:
        """How many updates (eq. 10) the session's W is past the source weights."""
        return self._n_updates

    def last_check(self) -> Check | None:
        """The last gradient check on the current weights and rows, or None."""
        return self._check

    def version(self) -> int:
        """A counter that changes whenever the weights or the rows change."""
        return self._version

    def n_weights(self) -> int:
        """How many weights the network has (biases included)."""
        return sum(W.numel() for W in self._weights)

    def check_skip_reason(self) -> str:
        """Why a check would not run ('' when it would): too many weights for finite differences."""
        n = self.n_weights()
        if n <= CHECK_LIMIT:
            return ""
        return (f"Check skipped: {n:,} weights need {2 * n:,} forward passes for finite differences; the check "
                f"is meant for networks up to {CHECK_LIMIT:,} weights.")

    def tensors(self, rows: Sequence[int] | None = None) -> tuple[Tensor, Tensor]:
        """x and the target of the rows (default: the inspected ones) in the weights' dtype and the loss's form:
        class ids (softmax), a float column (sigmoid) or floats (identity)."""
        rows = list(self.rows() if rows is None else rows)
        like = self._weights[0]
        x = torch.as_tensor(self.X[rows], dtype=like.dtype, device=like.device)
        t = torch.as_tensor(self.targets[rows], device=like.device)
        width = t.shape[1] if t.ndim == 2 else 1
        return x, bp.output_kind(self.output).targets(t, like.dtype, len(rows), width)

    # the buttons --------------------------------------------------------------------------------------------
    def forward(self) -> None:
        """Trace the inspected rows with the session's W and reveal h, z = Wᵀh, o = φ(z) (eq. 3, 11)."""
        if not self.ready():
            return
        self._compute()
        self._stage, self._back = 1, 0

    def backward(self) -> None:
        """Reveal o', ∇_o J, δ (eq. 5–8 and the hidden recursion) and ∇_W J = h δᵀ (eq. 9, 12).

        Traces first when nothing current is shown (no trace yet, or its update was already applied)."""
        if not self.ready():
            return
        if self._trace is None or self._applied:
            self._compute()
            self._stage = 2
        else:
            self._stage = max(self._stage, 2)
        self._back = len(self._weights)

    def backward_step(self) -> None:
        """Reveal the backward pass of one more layer, in the lecture's order: δ^(L) first (eq. 5–9), then
        δ^(L−1) = (W̃^(L) δ^(L)) ⊙ o'(z^(L−1)) and so on down; the last layer completes the Backward stage."""
        if not self.ready():
            return
        if self._trace is None or self._applied:
            self._compute()
            self._stage, self._back = 1, 0
        self._stage = max(self._stage, 1)
        self._back = min(self._back + 1, len(self._weights))
        if self._back == len(self._weights):
            self._stage = max(self._stage, 2)

    def update(self) -> None:
        """Reveal −μ h δᵀ and W before/after, and apply W ← W − μ h δᵀ (eq. 10) to the session's copy."""
        if not self.ready():
            return
        if self._trace is None or self._applied:
            self._compute()
        self._apply()
        self._stage, self._back = 3, len(self._weights)

    def step_all(self) -> None:
        """Forward, Backward and Update at once: one step of gradient descent on the inspected rows."""
        if not self.ready():
            return
        self._compute()
        self._apply()
        self._stage, self._back = 3, len(self._weights)

    def reset_weights(self) -> None:
        """Copy the source weights into the session again (updates undone); Forward/Backward stay revealed."""
        if not self._source:
            return
        self._weights = [W.clone() for W in self._source]
        self._n_updates = 0
        self._opt_state = self._rule.state
        self._changed()

    def check(self) -> Check | None:
        """Run the gradient check now, on this thread; None when there is nothing to check or it is skipped."""
        request = self.check_request()
        if request is None:
            return None
        result = request.run()
        self.accept_check(request, result)
        return result

    def check_request(self) -> CheckRequest | None:
        """A copy of what a check needs, to run anywhere; None when not ready or check_skip_reason() is set."""
        if not self.ready() or self.check_skip_reason():
            return None
        x, t = self.tensors()
        return CheckRequest(tuple(W.clone() for W in self._weights), tuple(self.activations), self.output, x, t,
                            tuple(self.rows()), self._version)

    def accept_check(self, request: CheckRequest, result: Check) -> bool:
        """Keep `result` as the last check when the weights and rows are still those of `request`."""
        if request.version != self._version:
            return False
        self._check = result
        return True

    # private ------------------------------------------------------------------------------------------------
    def _compute(self) -> None:
        t = trace(self._weights, self.activations, self.output, *self.tensors(), lr=self._lr,
                  reduction=self._reduction)
        self._next_state = None
        self._grad_norm = float(np.sqrt(sum(float((lt.grad_W ** 2).sum()) for lt in t.layers)))
        if self._rule_given and not self._rule.is_plain():  # the trainer's step, not eq. 10's
            steps, self._next_state, self._grad_norm = _rule_step(
                self._rule, self._weights, [lt.grad_W for lt in t.layers], self._opt_state)
            t = replace(t, layers=tuple(replace(lt, update=s.detach().to(torch.float64).numpy().copy())
                                        for lt, s in zip(t.layers, steps, strict=True)))
        self._trace = t
        self._applied = False

    def _apply(self) -> None:
        assert self._trace is not None
        self._weights = [torch.as_tensor(lt.W_next, dtype=W.dtype, device=W.device)
                         for lt, W in zip(self._trace.layers, self._weights, strict=True)]
        self._applied = True
        if self._next_state is not None:
            self._opt_state = {k: v.clone() if isinstance(v, Tensor) else v for k, v in self._next_state.items()}
        self._n_updates += 1
        self._version += 1
        self._check = None

    def _changed(self) -> None:
        """The rows or the weights changed: the check no longer applies; trace again."""
        self._version += 1
        self._check = None
        self._retrace()

    def _retrace(self) -> None:
        """Trace again and keep Forward/Backward revealed (an applied update is not repeated)."""
        if self._stage and self.ready():
            self._compute()
            self._stage = min(self._stage, 2)
            self._back = len(self._weights) if self._stage >= 2 else self._back
        else:
            self._trace, self._stage, self._back = None, 0, 0
