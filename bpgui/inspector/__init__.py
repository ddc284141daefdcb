"""The backprop inspector: one forward pass, backward pass and update, every number of eq. 1–12 per layer."""

from bpgui.inspector.panel import InspectorPanel

__all__ = ["InspectorPanel"]
