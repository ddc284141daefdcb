"""The gradient check's verdict: green when the hand-derived ∇_W J matches, red (and by how much) when not."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from bpcore.inspect import Check
from bpcore.inspection import CheckRequest
from bpgui.inspector._style import FAIL_BACKGROUND, FAIL_COLOUR, OK_BACKGROUND, OK_COLOUR, describe

_NEUTRAL = "background: #f2f2f2; color: #404040; border: 2px solid #c8c8c8;"
_STYLE = "font-size: 10.5pt; padding: 6px; border-radius: 4px; "


class CheckBanner(QLabel):
    """Text and colour of the last bpcore.inspect.check; state() is '', 'ok', 'fail', 'skipped', 'checking'
    or 'error'."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "checkBanner", "gradient check result",
                 "Check compares the hand-derived ∇_W J with torch autograd and with central finite differences\n"
                 "(J(w + ε) − J(w − ε)) / 2ε on the inspected rows and the panel's weights.")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self._state = ""
        self.reset()

    def state(self) -> str:
        """'' (not checked), 'ok', 'fail', 'skipped', 'checking' (running) or 'error' (the check raised)."""
        return self._state

    def reset(self, text: str = "Gradient check: press Check.") -> None:
        """Neutral, not checked."""
        self._state = ""
        self.setStyleSheet(_STYLE + _NEUTRAL)
        self.setText(text)

    def skipped(self, text: str) -> None:
        """Neutral with a reason the check did not run."""
        self._state = "skipped"
        self.setStyleSheet(_STYLE + _NEUTRAL)
        self.setText(text)

    def checking(self, where: str) -> None:
        """Neutral while a check runs off the GUI thread."""
        self._state = "checking"
        self.setStyleSheet(_STYLE + _NEUTRAL)
        self.setText(f"Gradient check: checking… ({where}; the buttons that change W wait for it)")

    def error(self, text: str) -> None:
        """Red: the check itself could not run (the reason is shown)."""
        self._state = "error"
        self.setStyleSheet(_STYLE + f"background: {FAIL_BACKGROUND}; color: {FAIL_COLOUR}; "
                           f"border: 3px solid {FAIL_COLOUR};")
        self.setText(text)

    def show_check(self, c: Check, where: str) -> None:
        """Show both errors; red with the excess over the tolerance when the check fails."""
        errors = (f"max error vs autograd: <b>{c.autograd_error:.3g}</b>, "
                  f"vs finite differences: <b>{c.finite_difference_error:.3g}</b> "
                  f"(tolerance {c.tolerance:.3g}; {where})")
        if c.ok:
            self._state = "ok"
            self.setStyleSheet(_STYLE + f"background: {OK_BACKGROUND}; color: {OK_COLOUR}; "
                               f"border: 2px solid {OK_COLOUR};")
            self.setText("✓ Gradient check passed: " + errors)
        else:
            worst = max(c.autograd_error, c.finite_difference_error)
            ratio = worst / c.tolerance if c.tolerance > 0 else float("inf")
            self._state = "fail"
            self.setStyleSheet(_STYLE + f"background: {FAIL_BACKGROUND}; color: {FAIL_COLOUR}; "
                               f"border: 3px solid {FAIL_COLOUR}; font-weight: 600;")
            self.setText(f"✗ Gradient check FAILED: error {worst:.3g} exceeds the tolerance {c.tolerance:.3g} "
                         f"by {worst - c.tolerance:.3g} ({ratio:.3g}×). " + errors)


class CheckRunner(QObject):
    """Runs a bpcore.inspection.CheckRequest on a worker thread and hands the result back on the GUI thread.

    The worker touches no widget: it only calls request.run() on the request's own copies and emits `done`,
    which Qt queues to this object's (the GUI) thread. `wait()` joins the worker and delivers the result
    at once, for tests and automation; a result is delivered once, whichever comes first.
    """

    done = Signal(object, object)  # (request, Check) or (request, the exception the check raised)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._thread: threading.Thread | None = None
        self._request: CheckRequest | None = None
        self._outcome: object = None

    def busy(self) -> bool:
        """Whether a check is running or its result has not been delivered yet."""
        return self._request is not None

    def request(self) -> CheckRequest | None:
        """The request being checked, or None."""
        return self._request

    def start(self, request: CheckRequest) -> None:
        """Check `request` on a new worker thread; a result of an earlier request still running is dropped."""
        self._request, self._outcome = request, None
        self._thread = threading.Thread(target=self._work, args=(request,), name="inspector-check", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running check ends and deliver its result now; False if it is still running."""
        thread, request = self._thread, self._request
        if thread is None or request is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._deliver(request, self._outcome)
        return True

    def _work(self, request: CheckRequest) -> None:
        try:
            outcome: object = request.run()
        except Exception as e:  # any failure is reported in the banner, never lost in a thread
            outcome = e
        if request is self._request:
            self._outcome = outcome
        try:
            self._relay.finished.emit(request, outcome)
        except RuntimeError:  # the panel was closed meanwhile: nobody to tell
            pass

    def _deliver(self, request: object, outcome: object) -> None:
        if request is not self._request:
            return  # superseded, or already delivered by wait()
        self._request, self._thread = None, None
        self.done.emit(request, outcome)


class _Relay(QObject):
    """Emitted from the worker thread; its queued connection runs the slot on the GUI thread."""

    finished = Signal(object, object)
