"""Presenters: a snapshot (and the data's layout) turned into the arguments each view's set_* takes.

No Qt, no torch: plain numpy on what the engine computed (bpcore.train.views); the refresher calls these and hands
the results to the views, so what a view is given can be tested without any widget.
"""

from __future__ import annotations

import numpy as np

from bpcore.train import Snapshot, Trainer
from bpcore.train.views import ViewRequest
from bpgui.geometry import Layout

PROJECTED_POINTS = 600  # samples whose predicted class the projected (PCA) view shows
FIELD_RESOLUTION = 100  # decision field: FIELD_RESOLUTION² points of the input plane
THUMB_STRIDE = 2  # neuron thumbnails use every 2nd field point per axis (50 × 50)


def shown_rows(lay: Layout) -> np.ndarray:
    """The projected view predicts on (at most) PROJECTED_POINTS evenly spread samples."""
    return np.unique(np.linspace(0, len(lay.xy) - 1, min(len(lay.xy), PROJECTED_POINTS)).astype(int))


def decision_request(trainer: Trainer, lay: Layout) -> ViewRequest:
    """What the engine computes for each snapshot: the field over the plotted plane (or line), the predicted
    class of the shown samples in the projected view, the confusion matrix of the first non-empty part of
    test, validation and training."""
    classification = trainer.task == "classification"
    part = next((p for p in ("test", "val", "train") if len(trainer.parts[p])), "train")
    confusion = part if classification else None
    if lay.kind == "projected":
        return ViewRequest(rows=lay.inputs[shown_rows(lay)], confusion=confusion)
    extent = lay.extent if lay.kind == "plane" else (lay.extent[0], lay.extent[1], 0.0, 0.0)
    resolution = FIELD_RESOLUTION if lay.kind == "plane" else 2 * FIELD_RESOLUTION
    return ViewRequest(extent=extent, resolution=resolution, hidden_stride=THUMB_STRIDE, confusion=confusion)


def decision(snap: Snapshot, lay: Layout, task: str) -> tuple[str, tuple] | None:
    """(the DecisionView method, its arguments) for the snapshot, or None when the engine sent nothing yet."""
    views = snap.views
    if views is None:
        return None
    if lay.kind == "projected":
        rows = shown_rows(lay)
        if views.predicted is None or len(views.predicted) != len(rows):
            return None
        if lay.labels is None:  # regression: each shown sample in the colour of the value predicted for it
            return "set_value_points", (lay.xy[rows], views.predicted, lay.held_out[rows], value_levels(lay))
        return "set_points", (lay.xy[rows], views.predicted, lay.held_out[rows])
    f = views.field
    if f is None:
        return None
    if lay.kind == "line":
        return "set_curve", (f.xs, f.output[0, :, 0])
    if task == "regression":
        return "set_values", (f.output[..., 0], lay.extent, value_levels(lay))
    if f.output.shape[2] == 1:
        return "set_field", (f.output[..., 0], lay.extent)
    return "set_probabilities", (f.output, lay.extent)


def value_levels(lay: Layout) -> tuple[float, float]:
    """The colour levels of a regression plot: the targets' range (fixed for the data set, so a colour means
    the same value in the field and in the samples, and does not drift as the fit changes)."""
    v = lay.values[np.isfinite(lay.values)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    return (lo - 0.5, hi + 0.5) if hi <= lo else (lo, hi)


def target_name(trainer: Trainer) -> str:
    """What a regression predicts: the CSV target column's name (or number), "y" for the toy sets."""
    target = trainer.experiment.data.target
    if isinstance(target, str) and target:
        return target
    if isinstance(target, int):
        return f"column {target}"
    return "y"


def axis_labels(trainer: Trainer, lay: Layout) -> tuple[str, str]:
    """(bottom, left) names of the middle plot's axes: the two inputs, the input and the target of a fitted
    curve, or the principal components of a projection."""
    names = trainer.dataset.feature_names
    if lay.kind == "plane":
        return names[0], names[1]
    if lay.kind == "line":
        return names[0], f"{target_name(trainer)} (target)"
    return f"PC 1 of the {lay.n_inputs} inputs", "PC 2"


def value_scale_label(trainer: Trainer, lay: Layout) -> str | None:
    """The colour bar's name in a regression plot (None where there is no colour bar: classification and
    fitted curves, whose vertical axis is the scale)."""
    if trainer.task != "regression" or lay.kind == "line":
        return None
    name = target_name(trainer)
    return f"predicted {name} (samples: target)" if lay.kind == "plane" else f"target {name}"


def confusion_unavailable(trainer: Trainer) -> str | None:
    """Why there is no confusion matrix (a regression), or None for classification."""
    if trainer.task == "classification":
        return None
    return (f"No confusion matrix: {trainer.dataset.name} is a regression (it predicts {target_name(trainer)}, "
            "not a class). Its fit is the middle plot; R² is under Loss and accuracy.")


def thumbnails(snap: Snapshot, lay: Layout) -> list[np.ndarray] | None:
    """Per layer, (n_neurons, ny, nx) pictures in [-1, 1] for the network view: the inputs as ramps, each hidden
    neuron's output and each output over the plane (None in the projected view or before the first field)."""
    f = None if snap.views is None or lay.kind == "projected" else snap.views.field
    if f is None:
        return None
    s = THUMB_STRIDE
    xs, ys = f.xs[::s], f.ys[::s]
    ramp_x = np.broadcast_to(2 * (xs - xs[0]) / max(xs[-1] - xs[0], 1e-12) - 1, (len(ys), len(xs)))
    inputs = [ramp_x]
    if lay.n_inputs >= 2:
        inputs.append(np.broadcast_to((2 * (ys - ys[0]) / max(ys[-1] - ys[0], 1e-12) - 1)[:, None],
                                      (len(ys), len(xs))))
    thumbs = [np.stack(inputs)]
    thumbs += [unit(h) for h in f.hidden]  # the engine sent them at every THUMB_STRIDE-th point
    thumbs.append(unit(np.moveaxis(f.output, 2, 0)[:, ::s, ::s]))
    return thumbs


def unit(a: np.ndarray) -> np.ndarray:
    """Display scaling of neuron outputs into [-1, 1] (tanh as is, [0, 1] outputs to 2o − 1, else / max|o|)."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo >= 0:
        return 2 * a / (1.0 if hi <= 1 else hi) - 1
    return a / max(1.0, -lo, hi)


def weight_titles(weights) -> list[str]:
    """W(l)  D_in+1 × D_out for each layer's heatmap."""
    return [f"W({l + 1})  {w.shape[0] - 1}+1 × {w.shape[1]}" for l, w in enumerate(weights)]


def decision_title(trainer: Trainer, lay: Layout) -> str:
    """The title above the data / decision plot: what is drawn and how."""
    name = trainer.dataset.name
    if lay.kind == "plane":
        what = "class the network predicts over the input plane" if trainer.task == "classification" \
            else "network output over the input plane"
        return f"{name}: {what} (filled = training, hollow = validation/test samples)"
    if lay.kind == "line":
        return f"{name}: fitted curve over the samples (filled = training, hollow = validation/test)"
    if trainer.task == "classification":
        some = "every sample" if len(lay.xy) <= PROJECTED_POINTS else f"{PROJECTED_POINTS} of {len(lay.xy)} samples"
        return (f"{name}: predicted class of {some}, drawn at the PCA projection of its "
                f"{lay.n_inputs} inputs (regions need 2 inputs)")
    some = "every sample" if len(lay.xy) <= PROJECTED_POINTS else f"{PROJECTED_POINTS} of {len(lay.xy)} samples"
    return (f"{name}: value predicted for {some}, drawn at the PCA projection of its {lay.n_inputs} inputs "
            "(the predicted field needs 2 inputs)")
