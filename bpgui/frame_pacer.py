"""The drawing clock's pace: how often the window draws, and how much of its core drawing may take.

With training in a process of its own the window draws at the display's pace (FRAME_MS) and a view that costs
more than its share draws less often. With the thread fallback the trainer shares the GIL with the GUI thread:
FramePacer then spaces whole frames so the GUI thread's CPU share stays under GUI_BUDGET.
"""

from __future__ import annotations

import time

FRAME_MS = 16  # the timer's pace: up to 60 frames per second, a view drawing only when its data changed
THREAD_FRAME_MS = 40  # with the thread fallback: 25 frames per second at most
# The trainer shares the GIL with this thread, so GUI time is training time lost: a view draws again only
# after cost / share seconds, share = VIEW_SHARE × the pacer's budget (small nets: a view taking 2 ms
# may draw every 50 ms, one taking 10 ms every 250 ms; big nets allow five times more).
VIEW_SHARE = 0.4
# thread fallback: seconds between draws of views the GUI thread would otherwise compute often
MIN_INTERVAL = {"decision": 0.1, "thumbnails": 0.25, "confusion": 0.5}
GUI_BUDGET = (0.08, 0.6)  # share of a CPU the GUI thread may use while a run goes on: GIL-bound trainer, other
PROCESS_BUDGET = (0.9, 0.9)  # training in its own process: the GUI thread may use nearly its whole core
PYTHON_PER_STEP_S = 250e-6  # GIL-held time of one step beside a drawing GUI (tiny nets: the whole step)
# a network diagram drawing more links than this (e.g. 16 shown neurons per layer of a 512-wide net: ~670) takes
# ~12 ms to repaint (benchmarks/bench_views.py), paid in one event-loop pass: it redraws at most 10 times a second
BIG_DIAGRAM_LINKS = 300
BIG_DIAGRAM_INTERVAL = 0.1
TICK_WORK_S = 0.004  # heavy views drawn in one tick while training stop once this much time is used
DRAW_FIRST = ("weights",)  # drawn first whenever due (its own spacing, cost / share, leaves room for the rest)


class FramePacer:
    """Spaces the frames so the GUI thread's CPU time stays under a budget while training runs.

    The GUI thread's CPU time (time.thread_time: drawing, painting, event handling, not waiting for the
    GIL) over wall time is measured every tick; above the budget the gap between frames grows, well
    below it the gap shrinks back towards one timer interval. The budget is small while the trainer's
    steps are mostly Python (small networks: every GUI millisecond holds the GIL the trainer needs) and
    larger when its steps are mostly matrix products, which run without the GIL on their own core.
    """

    def __init__(self, budget: tuple[float, float] = GUI_BUDGET, min_gap: float = FRAME_MS / 1000,
                 max_gap: float = 1.0) -> None:
        self.low, self.high = budget
        self.min_gap, self.max_gap = min_gap, max_gap
        self.budget = self.low
        self.gap = min_gap
        self.duty = 0.0  # smoothed CPU share of the GUI thread
        self._last = (time.perf_counter(), time.thread_time())

    def update(self, training: bool, steps_per_second: float = 0.0) -> None:
        """Measure the share since the last call and adapt the gap."""
        now, cpu = time.perf_counter(), time.thread_time()
        dt = now - self._last[0]
        if dt <= 0:
            return
        share = (cpu - self._last[1]) / dt
        self._last = (now, cpu)
        self.duty = 0.7 * self.duty + 0.3 * share
        python_share = min(1.0, PYTHON_PER_STEP_S * steps_per_second) if steps_per_second > 0 else 1.0
        self.budget = self.high - (self.high - self.low) * python_share
        if not training:
            self.gap = self.min_gap
        elif self.duty > self.budget:
            self.gap = min(self.max_gap, self.gap * 1.3)
        elif self.duty < 0.6 * self.budget:
            self.gap = max(self.min_gap, self.gap / 1.15)
