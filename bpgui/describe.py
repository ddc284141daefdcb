"""One helper every widget module uses to make its controls findable: by tests, screen readers and tooltips."""

from __future__ import annotations


def describe(widget, object_name: str, accessible_name: str, tooltip: str) -> None:
    """objectName, accessibleName and tooltip in one call (a QAction has no accessibleName: its button gets it)."""
    widget.setObjectName(object_name)
    if hasattr(widget, "setAccessibleName"):
        widget.setAccessibleName(accessible_name)
    widget.setToolTip(tooltip)
