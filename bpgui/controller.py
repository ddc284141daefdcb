"""The controller between the window and the engine: the training runner, the experiment and a record Trainer.

Training runs in a child process (bpcore.train.runner.ProcessRunner; a thread with ``in_process=True``, for tests
and single-core machines): the window's process keeps its core for drawing. The controller also holds a *record*
Trainer, built here and never trained, for what the window reads besides snapshots (data, split, task, output,
the network's shape). Every change goes through bpcore: a new Experiment (``exp.replace``), a record Trainer built
first (so a bad setting or file raises ConfigError, DataError or ModelFileError to the caller with everything that
was loaded still loaded), then the runner loads the same experiment, data and weights. Saving, exporting and the
inspector first bring the record up to the newest snapshot (`synced`). No widgets here.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from bpcore.config import MAX_EPOCHS, DataSpec, Experiment, ModelSpec, validate
from bpcore.data import Dataset
from bpcore.errors import ConfigError, ModelFileError
from bpcore.session import export_model, load_model, save_session
from bpcore.train import RunState, Snapshot, Trainer
from bpcore.train.progress import restore_progress
from bpcore.train.runner import ProcessRunner
from bpcore.train.setup import load_data, output_size, resolve_output

#: Training settings a rebuilt Trainer takes over with the current weights and history.
KEEP_WEIGHTS = ("optimizer", "l2", "epochs", "device", "momentum", "schedule", "step_size", "gamma", "time_limit",
                "loss_goal", "min_grad", "patience", "clip_norm", "dtype")
SYNC_TIMEOUT = 30.0  # seconds to wait for the runner to show a command's effect (a long mini-batch at most)


def window_experiment() -> Experiment:
    """The experiment a window starts from when none is given: the library's defaults with no epoch limit (a
    window run goes on, at a watchable pace, until Pause or another stopping criterion; the CLI keeps 500)."""
    return Experiment().replace(training={"epochs": MAX_EPOCHS})


def available_devices() -> list[str]:
    """'cpu', plus 'cuda' when torch sees a CUDA device."""
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


class TrainingController(QObject):
    """Owns the runner and the record Trainer; the window calls these methods and draws the snapshots."""

    trainerChanged = Signal(object)  # a new record Trainer (architecture, data or weights changed)
    dirtyChanged = Signal(bool)  # unsaved changes appeared or were saved

    def __init__(self, experiment: Experiment | None = None, parent: QObject | None = None, *,
                 in_process: bool = False) -> None:
        super().__init__(parent)
        self.experiment = experiment or Experiment()
        self.trainer: Trainer | None = None
        self.session_path: str | None = None
        self.pace: float | None = None  # epochs per second at most (set_pace); None: as fast as it goes
        self.runs = 0  # Play and Step presses so far: a second divergence right after one is a new event
        self._dirty = False
        exp = self.experiment
        if exp.training.device not in available_devices():
            exp = exp.replace(training={"device": "cpu"})
        trainer = Trainer(exp)  # errors before any process starts
        self.runner = ProcessRunner(in_process=in_process)  # the child starts in the background
        self._install(trainer)

    # ------------------------------------------------------------------------------------------ queries
    @property
    def dirty(self) -> bool:
        """True when there is training or a setting that is not saved in a session file."""
        return self._dirty

    @property
    def latest(self) -> Snapshot | None:
        """The newest snapshot of the run (what the views draw)."""
        return self.runner.latest

    def mode(self) -> str:
        """What the user sees: ready, running, paused, finished, diverged, or failed (the training process
        died: `runner.failure` says why; Play starts a fresh one)."""
        r = self.runner
        if r.failure is not None:
            return "failed"
        state = r.state
        if state is RunState.RUNNING:
            return "running"
        if state is RunState.PAUSED or r.error is not None:
            return "paused"
        if state in (RunState.FINISHED, RunState.DIVERGED):
            return state.value
        snap = r.latest
        return "ready" if snap is None or snap.epoch == 0 else "paused"

    @property
    def running(self) -> bool:
        """True while a run goes on, paused or not."""
        return self.runner.failure is None and self.runner.state in (RunState.RUNNING, RunState.PAUSED)

    # ----------------------------------------------------------------------------------------- commands
    def play(self) -> None:
        """Start training (or continue a paused run; a dead training process is replaced first)."""
        self.runner.error = None
        self.runs += 1
        self.runner.play()
        self._set_dirty(True)

    def pause(self) -> None:
        """Hold the run; the weights stay as they are."""
        if self.running:
            self.runner.pause()

    def toggle(self) -> None:
        """Play when not running, pause when running."""
        if self.mode() == "running":
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        """Train one epoch (a paused run's interrupted epoch is completed instead)."""
        self.runner.error = None
        self.runs += 1  # a Step on a diverged run that diverges again is a new event too
        self.runner.step()
        self._set_dirty(True)

    def stop(self) -> None:
        """End the run and wait until the snapshot shows it."""
        self.runner.stop()
        self.runner.wait(SYNC_TIMEOUT)

    def reset(self) -> None:
        """Re-initialise the weights (from the seed) on the same data; history starts over."""
        t = self.trainer
        self._replace(lambda: Trainer(self.experiment, t.dataset, split=t.split))

    def shutdown(self) -> None:
        """End the training process (window closing): within a second, terminated if a mini-batch holds it."""
        self.runner.close()

    def watch(self, request) -> None:
        """What the views need computed for each snapshot (bpcore.train.views.ViewRequest)."""
        self.runner.watch(request)

    # -------------------------------------------------------------------------------------- live changes
    def set_lr(self, lr: float) -> None:
        """μ (eq. 10) from the next epoch on, also while a run goes on; ConfigError, and nothing changes,
        when out of range (bpcore.config.validate: the rule files and flags get)."""
        lr = validate("training.lr", lr)
        exp = self.experiment.replace(training={"lr": lr})  # the whole experiment checked before any change
        self._taken_up()
        self.runner.set_lr(lr)
        self._record(exp)

    def set_batch_size(self, batch_size: int) -> None:
        """Mini-batch size from the next epoch on, also while a run goes on; ConfigError, and nothing
        changes, when out of range."""
        batch_size = validate("training.batch_size", batch_size)
        exp = self.experiment.replace(training={"batch_size": batch_size})
        self._taken_up()
        self.runner.set_batch_size(batch_size)
        self._record(exp)

    def set_pace(self, epochs_per_second: float | None) -> None:
        """Watchable speed: at most this many epochs per second (None: as fast as the machine goes), also while a
        run goes on; a view setting, not part of the experiment. ConfigError, and nothing changes, when out of
        range."""
        pace = None if epochs_per_second is None else validate("run.pace", epochs_per_second)
        self.runner.set_pace(pace)
        self.pace = pace

    def set_training(self, **changes) -> None:
        """Any setting of KEEP_WEIGHTS (optimizer, L2, momentum, schedule, stopping criteria, clipping, device,
        dtype): a new Trainer around the same weights (converted to a new device or dtype) and history. A running
        run goes on with it; ConfigError, and nothing changes, when a value is out of range."""
        unknown = set(changes) - set(KEEP_WEIGHTS)
        if unknown:
            raise ValueError(f"set_training cannot change {', '.join(sorted(unknown))}")
        exp = self.experiment.replace(training=changes)
        was_running = self.mode() == "running"
        old = self.synced()  # the record at the newest weights and history (the run is paused for it)
        model = old.model
        if "device" in changes or "dtype" in changes:
            # DTYPES' names are torch's own ("float32", "float64")
            model = model.to(device=exp.training.device, dtype=getattr(torch, exp.training.dtype))
        trainer = Trainer(exp, old.dataset, split=old.split, model=model)
        history, delta = old.history.views()
        restore_progress(trainer, history, epoch=old.epoch, step=old.step_count, delta_history=delta,
                         best_epoch=old.best_epoch, grads=old.net.grads)
        self._install(trainer)
        if was_running:
            self.play()
        self._set_dirty(True)

    # ------------------------------------------------------------------------------ changes that reset
    def set_seed(self, seed: int) -> None:
        """Seed of the initial weights and of the shuffling; the weights are re-initialised."""
        exp = self.experiment.replace(model={"init_seed": int(seed)}, training={"seed": int(seed)})
        t = self.trainer
        self._replace(lambda: Trainer(exp, t.dataset, split=t.split))

    def set_model(self, spec: ModelSpec) -> None:
        """A new architecture on the same data; fresh weights."""
        exp = self.experiment.replace(model=spec)
        t = self.trainer
        self._replace(lambda: Trainer(exp, t.dataset, split=t.split))

    def set_data(self, data: DataSpec, dataset: Dataset | None = None) -> None:
        """New data (fresh weights): the DataSpec that names it (toy, bundled or csv:<path> with its target and
        task), stored in the experiment so that a saved session or experiment reloads the same data, with the
        Dataset already read from it when there is one (the data panel's CSV import; else it is read here)."""
        exp = self.experiment.replace(data=data)
        self._replace(lambda: Trainer(exp, dataset))

    def new(self, experiment: Experiment | None = None) -> None:
        """Start over with the window's default experiment (window_experiment) or the one given."""
        exp = experiment or window_experiment()
        if exp.training.device not in available_devices():
            exp = exp.replace(training={"device": "cpu"})
        self._replace(lambda: Trainer(exp))
        self.session_path = None
        self._set_dirty(False)

    # ---------------------------------------------------------------------------------------------- files
    def open_session(self, path: str | os.PathLike[str]) -> None:
        """Load a session (or model) file: its weights exactly, its experiment and its history curves."""
        session = load_model(path)  # ModelFileError
        model = session.model
        exp = session.experiment or self.experiment.replace(
            model={"hidden": list(model.sizes[1:-1]), "activation": list(model.activations), "output": model.output})
        if exp.training.device not in available_devices():
            exp = exp.replace(training={"device": "cpu"})
        model = model.to(exp.training.device)

        def build() -> Trainer:
            dataset = load_data(exp.data)
            self._check_fits(path, model, dataset)
            trainer = Trainer(exp, dataset, model=model)
            restore_progress(trainer, session.history, **session.progress)
            return trainer

        self._replace(build)
        self.session_path = os.fspath(path)
        self._set_dirty(False)

    def open_model(self, path: str | os.PathLike[str]) -> None:
        """Load a model file's network, its architecture and weights exactly, onto the data and training settings
        in use; the run starts over from these weights (epoch 0) and is not a saved session yet. ModelFileError,
        with everything loaded kept, when the network does not fit the data (inputs, outputs, output kind)."""
        model = load_model(path).model  # ModelFileError
        t = self.trainer
        exp = self.experiment.replace(
            model={"hidden": list(model.sizes[1:-1]), "activation": list(model.activations), "output": model.output},
            training={"dtype": "float64" if model.weights[0].dtype == torch.float64 else "float32"})
        model = model.to(exp.training.device)

        def build() -> Trainer:
            self._check_fits(path, model, t.dataset)
            return Trainer(exp, t.dataset, split=t.split, model=model)

        self._replace(build)
        self.session_path = None

    @staticmethod
    def _check_fits(path, model, dataset: Dataset) -> None:
        """ModelFileError unless the network's output kind, input and output sizes are what the data set needs."""
        try:
            output = resolve_output(model.output, dataset)
        except ConfigError as e:  # the output kind does not fit the task or the classes
            raise ModelFileError(f"{path}: this network cannot be used on the data set {dataset.name!r}: {e}") from None
        want = (dataset.n_features, output_size(output, dataset))
        if (model.sizes[0], model.sizes[-1]) != want:
            raise ModelFileError(
                f"{path}: the network maps {model.sizes[0]} inputs to {model.sizes[-1]} outputs, but the data "
                f"set {dataset.name!r} needs {want[0]} inputs and {want[1]} outputs")

    def save_session(self, path: str | os.PathLike[str]) -> None:
        """Write weights, experiment and history to a session file (a running run goes on afterwards)."""
        with self._held():
            save_session(path, self.synced())
        self.session_path = os.fspath(path)
        self._set_dirty(False)

    def export_model(self, path: str | os.PathLike[str]) -> None:
        """Write the network, its experiment and its data description (standardisation, names) as a model
        file, the same fields `bpcore train` writes, so `bpcore eval` uses it as the window did."""
        with self._held():
            export_model(path, self.synced())

    def synced(self) -> Trainer:
        """The record Trainer brought up to the newest snapshot: its weights, history, epoch and step (a running
        run is paused first, so that the snapshot holds the weights exactly)."""
        if self.mode() == "running":
            self.runner.pause()
        self.runner.wait(SYNC_TIMEOUT)
        snap, t = self.runner.latest, self.trainer
        if snap is None or snap.weights is None or (snap.epoch, snap.step) == (t.epoch, t.step_count):
            return t
        if [W.shape for W in snap.weights] != [tuple(W.shape) for W in t.net.weights]:
            return t  # a snapshot of an older network, not yet replaced
        trainer = Trainer(t.experiment, t.dataset, split=t.split, model=t.model)
        with torch.no_grad():
            for W, saved in zip(trainer.net.weights, snap.weights, strict=True):
                W.copy_(torch.from_numpy(np.array(saved)))
        restore_progress(trainer, snap.history, epoch=snap.epoch, step=snap.step, delta_history=snap.delta_history,
                         best_epoch=snap.best_epoch, grads=snap.grads)  # what a saved session holds
        self.trainer = trainer
        return trainer

    # ------------------------------------------------------------------------------------------ private
    def _replace(self, build) -> None:
        """Build a new record Trainer first (errors leave everything as it was), then load it into the runner."""
        trainer = build()
        self._install(trainer)
        self._set_dirty(True)

    def _install(self, trainer: Trainer) -> None:
        """The runner drops its run and trains `trainer`'s experiment from its weights and record."""
        self.trainer = trainer
        self.experiment = trainer.experiment
        shown = trainer.snapshot(with_weights=True)
        self.runner.load(trainer.experiment, trainer.dataset, weights=shown.weights,
                         progress=shown if trainer.epoch else None)
        self.runner.latest = shown  # drawn until the runner's first snapshot of it arrives
        self.trainerChanged.emit(trainer)

    def _taken_up(self) -> None:
        """Before a live change (μ, batch size) when no run goes on: wait until the runner has taken up the
        commands sent so far. The training process applies a live change to the Trainer it holds; one sent while
        a new Trainer is still being built there (the load of a start, Reset, a new seed or data: seconds while
        the process imports torch) reached the old Trainer or none and was lost, so the run trained with the old
        value while the window showed the new one."""
        if not self.runner.settled and self.mode() not in ("running", "paused"):
            self.runner.wait(SYNC_TIMEOUT)

    def _record(self, exp: Experiment) -> None:
        # the running Trainer already has the value through its command; the record follows so a saved
        # session holds the settings in use
        self.experiment = exp
        self.trainer.experiment = exp
        self._set_dirty(True)

    @contextlib.contextmanager
    def _held(self):
        """Pause the run while the weights are written; a running run goes on afterwards."""
        resume = self.mode() == "running"
        try:
            yield
        finally:
            if resume:
                self.runner.resume()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)
