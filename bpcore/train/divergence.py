"""When a run has diverged: one criterion, applied at the end of an epoch and to each step of its replay.

A stable loss (log-softmax, softplus) stays finite while a run explodes: at μ = 1e9 a softmax network ends
at chance level with a training loss of 2e9 and never a NaN. So besides NaN/Inf, a run counts as diverged
when its training loss rises far above where it started, or above the loss of guessing without the inputs,
or when a weight grows so large that the next forward pass overflows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from bpcore import backprop as bp
from bpcore.train.network import FlatNetwork
from bpcore.train.setup import Part

#: The training loss may rise to this many times its reference (below) before the run counts as diverged.
#: Cross-entropy 10 × log K means the right class gets a probability of about K^-10 on average, MSE 10 × the
#: targets' variance predictions 3.2 standard deviations off: ten times worse than ignoring the inputs. No
#: healthy run goes there (every default run stays below 1 ×), and an exploding one passes it within a step
#: or two, the loss growing with |W| or |W|². At 100 ×, runs at μ = 30 ended "finished" at 37 × chance level.
LOSS_FACTOR = 10.0


def weight_limit(dtype: torch.dtype) -> float:
    """|W| beyond which a forward pass and its loss overflow: the output of two layers grows like |W|², its
    squared error like |W|⁴, so finfo.max^(1/4) (4.3e9 in float32, 1.2e77 in float64)."""
    return float(torch.finfo(dtype).max) ** 0.25


def chance_loss(net: FlatNetwork, output: str, part: Part) -> float:
    """The loss of a guess that ignores the inputs: equal class probabilities (z = 0: log K for softmax,
    log 2 for sigmoid) or the mean training target for identity outputs (the targets' variance)."""
    t = part.target
    n_out = net.weights[-1].shape[1]
    if not bp.output_kind(output).classifies:
        z = t.mean(dim=0, keepdim=True).expand(len(t), n_out)
    else:
        z = torch.zeros(len(t), n_out, dtype=net.dtype, device=net.device)
    with torch.no_grad():
        return float(net.loss(z, t))


def extremes_of(net: FlatNetwork) -> list[torch.Tensor]:
    """min W, max W, min ∇W, max ∇W over the flat buffers as 0-d tensors, for `largest`: both of a buffer are NaN
    when any entry is NaN, ±inf when one is (aminmax: 2 µs a buffer where the ∞-norm took 8–27 µs)."""
    return [*torch.aminmax(net.flat), *torch.aminmax(net.flat_grad)]


def largest(extremes: Sequence[float]) -> tuple[float, float]:
    """(max |W|, max |∇W|) from the four numbers of `extremes_of` (NaN stays NaN: aminmax gives it to both)."""
    w_lo, w_hi, g_lo, g_hi = extremes
    return max(-w_lo, w_hi), max(-g_lo, g_hi)


@dataclass(frozen=True)
class Guard:
    """The divergence criterion of one run: limits fixed when the Trainer is built."""

    reference: float  # the larger of the starting training loss and the chance-level loss
    loss_limit: float  # LOSS_FACTOR × reference (inf when the reference is 0 or not finite: that test is off)
    weight_limit: float

    @classmethod
    def for_run(cls, net: FlatNetwork, output: str, train: Part) -> Guard:
        """Limits from the network's weights as they are now (the run's start) and its training rows.
        Regression targets are not standardised: an output of |t| needs a last layer of about |t| (hidden
        outputs are O(1)), so the weight limit is at least LOSS_FACTOR × max |t|."""
        with torch.no_grad():
            start = float(net.loss(net.logits(train.inputs), train.target))
        reference = max(start, chance_loss(net, output, train))
        limit = LOSS_FACTOR * reference if math.isfinite(reference) and reference > 0 else math.inf
        w_limit = weight_limit(net.dtype)
        if not bp.output_kind(output).classifies and len(train):
            w_limit = max(w_limit, LOSS_FACTOR * float(train.target.abs().max()))
        return cls(reference, limit, w_limit)

    def check(self, net: FlatNetwork, train_loss: float, extremes: Sequence[float] | None = None) -> str | None:
        """What went wrong, in words, or None while the run is healthy. `train_loss` is the training loss of
        the current weights (all training rows at the end of an epoch, the step's rows in the replay); at an epoch
        that training.eval_every does not evaluate, the last mini-batch's loss as its step computed it, of the
        weights before its update (a loss the update blew up shows at the next epoch's test, non-finite weights
        at this one's); net.flat_grad holds the last step's gradient.
        `extremes`: the four numbers of `extremes_of` when the caller read them already."""
        w, g = largest(extremes if extremes is not None else torch.stack(extremes_of(net)).tolist())
        if not math.isfinite(w):
            return "the weights became NaN/Inf"
        if not math.isfinite(train_loss):
            return "the loss became NaN/Inf"
        if not math.isfinite(g):
            return "the gradient became NaN/Inf"
        if w > self.weight_limit:
            return f"a weight reached |w| = {w:.3g} (limit {self.weight_limit:.3g})"
        if train_loss > self.loss_limit:
            return (f"the training loss rose to {train_loss:.4g}, over {LOSS_FACTOR:g} × its start or chance "
                    f"level of {self.reference:.4g}")
        return None
