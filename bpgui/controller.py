"""The controller between the window and the engine: one Trainer, its worker thread and the experiment.

Every change goes through bpcore: a new Experiment (``exp.replace``) and a new Trainer, or a thread-safe
Trainer command for what a running Trainer can change itself (μ, batch size). A Trainer is built before
the old one is dropped, so a bad setting or file (ConfigError, DataError, ModelFileError) raises to the
caller with everything that was loaded still loaded. No widgets here: the window asks the user.
"""

from __future__ import annotations

import contextlib
import os

import torch
from PySide6.QtCore import QObject, Signal

from bpcore.config import DataSpec, Experiment, ModelSpec, validate
from bpcore.data import Dataset
from bpcore.errors import ModelFileError
from bpcore.session import load_model, save_model, save_session
from bpcore.train import RunState, Trainer
from bpcore.train.progress import restore_progress
from bpcore.train.setup import output_size
from bpgui.worker import TrainingWorker

#: Training settings a rebuilt Trainer takes over with the current weights and history.
KEEP_WEIGHTS = ("optimizer", "l2", "epochs", "device", "momentum", "schedule")


def available_devices() -> list[str]:
    """'cpu', plus 'cuda' when torch sees a CUDA device."""
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


class TrainingController(QObject):
    """Owns the Trainer and its TrainingWorker; the window calls these methods and draws the snapshots."""

    trainerChanged = Signal(object)  # a new Trainer (architecture, data or weights changed)
    dirtyChanged = Signal(bool)  # unsaved changes appeared or were saved

    def __init__(self, experiment: Experiment | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.experiment = experiment or Experiment()
        self.trainer: Trainer | None = None
        self.worker: TrainingWorker | None = None
        self.session_path: str | None = None
        self._dirty = False
        exp = self.experiment
        if exp.training.device not in available_devices():
            exp = exp.replace(training={"device": "cpu"})
        self._install(Trainer(exp))

    # ------------------------------------------------------------------------------------------ queries
    @property
    def dirty(self) -> bool:
        """True when there is training or a setting that is not saved in a session file."""
        return self._dirty

    def mode(self) -> str:
        """What the user sees: ready, running, paused, finished or diverged."""
        worker, trainer = self.worker, self.trainer
        state = trainer.state
        if worker.busy:
            return "paused" if state is RunState.PAUSED else "running"
        if worker.error is not None:
            return "paused"
        if state in (RunState.FINISHED, RunState.DIVERGED):
            return state.value
        return "ready" if trainer.epoch == 0 else "paused"

    @property
    def running(self) -> bool:
        """True while a run is on the worker thread, paused or not."""
        return self.worker.busy

    # ----------------------------------------------------------------------------------------- commands
    def play(self) -> None:
        """Start training (or continue a paused run)."""
        self.worker.start()
        self._set_dirty(True)

    def pause(self) -> None:
        """Hold the run; the weights stay as they are."""
        if self.worker.busy:
            self.worker.pause()

    def toggle(self) -> None:
        """Play when not running, pause when running."""
        if self.mode() == "running":
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        """Train one epoch (pausing a run first)."""
        if self.mode() == "running":
            self.pause()
        self.worker.step()
        self._set_dirty(True)

    def stop(self) -> None:
        """End the run and join the thread."""
        self.worker.stop()

    def reset(self) -> None:
        """Re-initialise the weights (from the seed) on the same data; history starts over."""
        t = self.trainer
        self._replace(lambda: Trainer(self.experiment, t.dataset, split=t.split))

    def shutdown(self) -> None:
        """Stop training and join the worker thread (window closing)."""
        if self.worker is not None:
            self.worker.stop()

    # -------------------------------------------------------------------------------------- live changes
    def set_lr(self, lr: float) -> None:
        """μ (eq. 10) from the next epoch on, also while a run goes on; ConfigError, and nothing changes,
        when out of range (bpcore.config.validate: the rule files and flags get)."""
        lr = validate("training.lr", lr)
        exp = self.experiment.replace(training={"lr": lr})  # the whole experiment checked before any change
        self.worker.set_lr(lr)
        self._record(exp)

    def set_batch_size(self, batch_size: int) -> None:
        """Mini-batch size from the next epoch on, also while a run goes on; ConfigError, and nothing
        changes, when out of range."""
        batch_size = validate("training.batch_size", batch_size)
        exp = self.experiment.replace(training={"batch_size": batch_size})
        self.worker.set_batch_size(batch_size)
        self._record(exp)

    def set_training(self, **changes) -> None:
        """Optimizer, L2, epoch limit or device: a new Trainer around the same weights and history."""
        unknown = set(changes) - set(KEEP_WEIGHTS)
        if unknown:
            raise ValueError(f"set_training cannot change {', '.join(sorted(unknown))}")
        exp = self.experiment.replace(training=changes)
        old = self.trainer
        was_running = self.mode() == "running"
        self.worker.stop()  # the model is shared with the new Trainer: nothing may train it meanwhile
        history, delta = old.history.views()
        model = old.model
        if "device" in changes:
            model = model.to(exp.training.device)
        try:
            trainer = Trainer(exp, old.dataset, split=old.split, model=model)
            restore_progress(trainer, history, epoch=old.epoch, step=old.step_count, delta_history=delta)
        except Exception:
            if "device" in changes:
                old.model.to(old.device)
            raise
        self._install(trainer)
        if was_running:
            self.worker.start()
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

    def set_data(self, data: DataSpec | Dataset, dataset: Dataset | None = None) -> None:
        """New data (fresh weights): a DataSpec (toy, bundled or csv:<path>), with the Dataset already read
        from it when there is one (the data panel's CSV import), or a bare Dataset."""
        if isinstance(data, Dataset):
            data, dataset = self.experiment.data, data
        exp = self.experiment.replace(data=data)
        self._replace(lambda: Trainer(exp, dataset))

    def new(self, experiment: Experiment | None = None) -> None:
        """Start over with the default experiment (or the one given)."""
        exp = experiment or Experiment()
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
            trainer = Trainer(exp, model=model)
            want = (trainer.dataset.n_features, output_size(trainer.output, trainer.dataset))
            if (model.sizes[0], model.sizes[-1]) != want:
                raise ModelFileError(
                    f"{path}: the network maps {model.sizes[0]} inputs to {model.sizes[-1]} outputs, but the data "
                    f"set {trainer.dataset.name!r} needs {want[0]} inputs and {want[1]} outputs")
            extra = session.extra
            restore_progress(trainer, session.history, epoch=extra.get("epoch"), step=extra.get("step"))
            return trainer

        self._replace(build)
        self.session_path = os.fspath(path)
        self._set_dirty(False)

    def save_session(self, path: str | os.PathLike[str]) -> None:
        """Write weights, experiment and history to a session file (a running run goes on afterwards)."""
        with self._held():
            save_session(path, self.trainer)
        self.session_path = os.fspath(path)
        self._set_dirty(False)

    def export_model(self, path: str | os.PathLike[str]) -> None:
        """Write the network and its experiment as a model file."""
        with self._held():
            save_model(path, self.trainer.model, self.trainer.experiment)

    # ------------------------------------------------------------------------------------------ private
    def _replace(self, build) -> None:
        """Build a new Trainer first (errors leave everything as it was), then stop the old one."""
        trainer = build()
        self._install(trainer)
        self._set_dirty(True)

    def _install(self, trainer: Trainer) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.trainer = trainer
        self.experiment = trainer.experiment
        self.worker = TrainingWorker(trainer)
        self.worker.latest = trainer.snapshot(with_weights=True)
        self.trainerChanged.emit(trainer)

    def _record(self, exp: Experiment) -> None:
        # the running Trainer already has the value through its command; its experiment record follows
        # so a saved session holds the settings in use (Trainer reads only epoch-level keys from it)
        self.experiment = exp
        self.trainer.experiment = exp
        self._set_dirty(True)

    @contextlib.contextmanager
    def _held(self):
        """Stop the run while the weights are written; a running run starts again afterwards."""
        resume = self.mode() == "running"
        self.worker.stop()
        try:
            yield
        finally:
            if resume:
                self.worker.start()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)
