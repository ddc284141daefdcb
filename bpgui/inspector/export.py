"""Write the inspected values of one step to JSON (nested lists) or CSV (long format); no Qt here."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bpcore.inspect import Check, Trace
from bpgui.inspector.quantities import Quantity, batch_sum_error

CSV_COLUMNS = ("layer", "quantity", "row", "col", "value", "symbol")


def _plain(v: Any) -> Any:
    """numpy scalars and arrays as JSON-ready Python numbers and lists."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def step_document(meta: Mapping[str, Any], layers: Sequence[Mapping[str, Quantity]]) -> dict[str, Any]:
    """One JSON-ready dict: `meta` plus, per layer, each quantity's symbol, shape and values.

    Arrays keep the engine's orientation: per-row quantities are (rows, units), matrices (D_in + 1, D_out).
    """
    doc = {k: _plain(v) for k, v in meta.items()}
    doc["layers"] = [
        {
            "l": n + 1,
            "quantities": {
                key: {"symbol": q.symbol, "stage": q.stage, "shape": list(q.values.shape), "values": q.values.tolist()}
                for key, q in layer.items()
            },
        }
        for n, layer in enumerate(layers)
    ]
    return doc


def write_json(path: str | Path, doc: Mapping[str, Any]) -> None:
    """Write `doc` (from step_document) as indented JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


def write_csv(path: str | Path, layers: Sequence[Mapping[str, Quantity]]) -> None:
    """Write one line per value: layer, quantity (the engine's name), row, col, value, symbol."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for n, layer in enumerate(layers):
            for key, q in layer.items():
                for (r, c), v in np.ndenumerate(q.values):
                    w.writerow((n + 1, key, r, c, repr(float(v)), q.symbol))


def step_meta(trace: Trace, rows: Sequence[int], activations: Sequence[str], stage: str, panel_updates: int,
              chain: Mapping[str, Any] | None, check: Check | None) -> dict[str, Any]:
    """What the JSON says besides the arrays: rows, network, μ, J, stage, chain rule and check."""
    return {
        "rows": list(rows), "output": trace.output, "activations": list(activations), "lr": trace.lr,
        "loss": trace.loss, "stage": stage, "target": trace.target, "panel_updates": panel_updates,
        "batch_sum_error": batch_sum_error(trace) if chain is not None else None,
        "chain_rule": None if chain is None else dict(chain),
        "check": None if check is None else {
            "autograd_error": check.autograd_error, "finite_difference_error": check.finite_difference_error,
            "tolerance": check.tolerance, "ok": check.ok},
    }
