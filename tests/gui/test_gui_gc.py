"""While a main window is open Python's cyclic collector runs on the GUI thread only (bpgui.gui_gc): a
collection on a background thread destroyed Qt objects there and deadlocked a test run."""

from __future__ import annotations

import gc
import threading

from bpcore.config import Experiment
from bpgui.main_window import MainWindow


def test_collections_happen_on_the_gui_thread_while_a_window_is_open(qtbot):
    window = MainWindow(Experiment(), settings=None, ask_on_close=False, in_process=True)
    qtbot.addWidget(window)
    assert not gc.isenabled()
    threads: list[str] = []

    def seen(phase, info):
        if phase == "start":
            threads.append(threading.current_thread().name)

    kept: list = []

    def allocate():  # container objects kept alive: gc's generation-0 count passes its threshold many times over
        for _ in range(50):
            kept.append([[i] for i in range(2000)])

    gc.callbacks.append(seen)
    try:
        worker = threading.Thread(target=allocate, name="allocating-worker")
        worker.start()
        worker.join()
        qtbot.wait(2500)  # the GUI thread's timer collects
    finally:
        gc.callbacks.remove(seen)
    assert threads and set(threads) == {threading.main_thread().name}
    kept.clear()
    window.close()
    assert gc.isenabled()  # the last window closed: automatic collection is back
