"""Python's cyclic garbage collector on the GUI thread only, while a main window is open.

The collector runs in whichever thread happens to allocate when a threshold is crossed. When that is a
background thread (the thread fallback's trainer, the runner's receiver unpickling snapshots) and the garbage
holds Qt objects, their C++ destructors run there: in a test run the trainer thread, collecting an old window's
menu, waited for the GIL inside QObject::~QObject while the GUI thread, holding the GIL, waited for the Qt mutex
that destructor held (a deadlock). pyqtgraph's GarbageCollector turns automatic collection off and collects from
a timer on the GUI thread instead; the last window to close turns it back on.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL = 1.0  # seconds between the GUI thread's collections (each collects only past gc's own thresholds)


class GuiThreadCollection:
    """Held by a main window from its creation to its close (`release`)."""

    _open = 0

    def __init__(self) -> None:
        self._collector = GarbageCollector(interval=INTERVAL)  # disables automatic collection
        GuiThreadCollection._open += 1
        self._released = False

    def release(self) -> None:
        """Stop this window's timer; with no window left, collect once here and turn automatic collection on."""
        if self._released:
            return
        self._released = True
        self._collector.timer.stop()
        GuiThreadCollection._open -= 1
        if GuiThreadCollection._open == 0:
            gc.collect()
            gc.enable()
