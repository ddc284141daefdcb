"""The headless command line: ``bpcore train``, ``bpcore eval``, ``bpcore check`` (also ``python -m bpcore``).

Every command prints its result as one JSON line on stdout (``check`` prints a report); progress and errors go
to stderr. Exit codes (also in ``bpcore --help``): 0 success; 1 an internal error (a crash: a bug, reported with
its traceback) or a failed ``check``; 2 a user error (bad flag, setting, data or model file, a file that cannot
be written: one line ``bpcore: error: <message>``, never a traceback); 3 the run diverged (the last finite
weights are saved); 130 interrupted (Ctrl+C before training starts, or a second Ctrl+C).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bpcore.config import (
    BUNDLED_SOURCES,
    LIMITS,
    OPTIMIZERS,
    OUTPUT_CHOICES,
    SCHEDULES,
    TOY_SOURCES,
    Experiment,
    validate,
)
from bpcore.errors import BackpropLabError, ConfigError, DataError, ModelFileError

if TYPE_CHECKING:
    import numpy as np

# torch and numpy are imported inside the commands, under main()'s Ctrl+C handler: importing torch takes
# seconds, and a Ctrl+C then is an interrupted start-up (exit 130, one line), not a traceback.
__all__ = ["EXIT_CRASH", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USER_ERROR", "main"]

EXIT_OK = 0
EXIT_CRASH = 1  # an internal error (a bug: the traceback is printed) or a failed `bpcore check`
EXIT_USER_ERROR = 2  # a bad flag, setting, data set or file: one line on stderr
EXIT_DIVERGED = 3  # the run diverged; the last finite weights were saved
EXIT_INTERRUPTED = 130  # Ctrl+C before training started (or twice during it): 128 + SIGINT, as shells report it

_EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success
  {EXIT_CRASH}    internal error (a bug; its traceback is printed) or a failed 'bpcore check'
  {EXIT_USER_ERROR}    user error: a bad flag, setting, data set or file (one line 'bpcore: error: ...')
  {EXIT_DIVERGED}    the run diverged; the model file holds the last finite weights
  {EXIT_INTERRUPTED}  interrupted by Ctrl+C before training started (during training, Ctrl+C stops and saves)
"""


class _UsageError(Exception):
    """A command line argparse cannot parse (reported like any other user error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# ----------------------------------------------------------------------------------------- flag values
# Flag values go to Experiment.replace as they are typed; conversion failures are left to the config, so the
# message names the key ("training.lr must be a number, got 'abc' (str)").

def _scalar(text: str) -> int | float | str | None:
    t = text.strip()
    if t.lower() in ("none", "off"):
        return None
    for convert in (int, float):
        try:
            return convert(t)
        except ValueError:
            pass
    return text


def _layers(text: str) -> tuple[int, ...] | str:
    t = text.strip()
    if t.lower() in ("", "0", "none"):
        return ()
    try:
        return tuple(int(v) for v in t.split(","))
    except ValueError:
        return text


def _numbers(text: str) -> tuple[float, ...] | str:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        return text


def _names(text: str) -> str | tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",")) if "," in text else text.strip()


def _source(text: str) -> str:
    return f"csv:{text}" if text.lower().endswith(".csv") else text


def target_column(text: str) -> str | int:
    """A --target value: a 0-based column index when it reads as an integer, else a column name."""
    try:
        return int(text)
    except ValueError:
        return text


def _threads(text: str) -> int:
    value = _scalar(text)
    try:
        return validate("run.threads", value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


_TRAIN_FLAGS: tuple[tuple[str, str, str, Any, str], ...] = (
    ("--dataset", "data", "source", _source,
     f"toy set ({', '.join(TOY_SOURCES)}), bundled set ({', '.join(BUNDLED_SOURCES)}) or a .csv file"),
    ("--target", "data", "target", target_column, "CSV target column: name or 0-based index (default: the last)"),
    ("--task", "data", "task", str, "CSV target as: auto | classification | regression"),
    ("--samples", "data", "n_samples", _scalar, "rows drawn for a toy set"),
    ("--noise", "data", "noise", _scalar, "noise of a toy set"),
    ("--split", "data", "split", _numbers, "train,val,test fractions, e.g. 0.7,0.15,0.15"),
    ("--layers", "model", "hidden", _layers, "hidden layer sizes, e.g. 8,8 ('' or 0: none)"),
    ("--activation", "model", "activation", _names, "hidden activation, or one per layer: relu,tanh"),
    ("--output", "model", "output", str, " | ".join(OUTPUT_CHOICES)),
    ("--optimizer", "training", "optimizer", str, " | ".join(OPTIMIZERS)),
    ("--lr", "training", "lr", _scalar, "learning rate μ"),
    ("--momentum", "training", "momentum", _scalar, "momentum of the momentum/nesterov optimizers"),
    ("--l2", "training", "l2", _scalar, "L2 weight decay λ (biases are not penalised)"),
    ("--batch-size", "training", "batch_size", _scalar, "mini-batch size"),
    ("--epochs", "training", "epochs", _scalar, "epoch limit"),
    ("--schedule", "training", "schedule", str, " | ".join(SCHEDULES)),
    ("--time-limit", "training", "time_limit", _scalar, "stop after this many seconds of training"),
    ("--loss-goal", "training", "loss_goal", _scalar, "stop when the training loss reaches this"),
    ("--min-grad", "training", "min_grad", _scalar, "stop when the gradient norm falls below this"),
    ("--patience", "training", "patience", _scalar, "stop after this many epochs without a better val loss"),
    ("--clip-norm", "training", "clip_norm", _scalar, "clip the gradient norm to this"),
    ("--device", "training", "device", str, "cpu | cuda | cuda:N"),
    ("--dtype", "training", "dtype", str, "float32 | float64"),
    ("--checkpoint-every", "training", "checkpoint_every", _scalar, "also write the model file every N epochs"),
    ("--eval-every", "training", "eval_every", _scalar,
     "evaluate train/val/test every N epochs and at the last (default 1: every epoch; small data trains faster)"),
)


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The flags given, as {section: {key: value}} for Experiment.replace."""
    out: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "training": {}}
    for flag, section, key, convert, _ in _TRAIN_FLAGS:
        text = getattr(args, flag[2:].replace("-", "_"))
        if text is not None:
            out[section][key] = convert(text)
    if args.seed is not None:  # one seed for the data, the initial weights and the shuffling
        seed = _scalar(args.seed)
        out["data"]["seed"] = out["model"]["init_seed"] = out["training"]["seed"] = seed
    return {section: keys for section, keys in out.items() if keys}


def _name_the_flag(error: ConfigError, overrides: dict[str, dict[str, Any]]) -> ConfigError:
    """The config's error about a key a flag set, with the flag in front: ``--lr: training.lr must be …``."""
    message = str(error)
    for flag, section, key, _, _ in (*_TRAIN_FLAGS, *_SEED_FLAGS):
        if key in overrides.get(section, {}) and message.startswith(f"{section}.{key} "):
            return ConfigError(f"{flag}: {message}")
    return error


_SEED_FLAGS = tuple(("--seed", section, key, None, "") for section, key in
                    (("data", "seed"), ("model", "init_seed"), ("training", "seed")))


# ----------------------------------------------------------------------------------------------- parser

def _parser() -> _Parser:
    parser = _Parser(prog="bpcore", description="Backprop Lab engine: train, evaluate and check networks.",
                     epilog=_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="{train,eval,check}")

    train = sub.add_parser("train", help="train a network; prints one JSON line",
                           description="Train as EXPERIMENT (.toml/.json, optional) says, flags overriding it.",
                           epilog=_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="experiment file (.toml or .json)")
    for flag, section, key, _, text in _TRAIN_FLAGS:
        limit = LIMITS.get(f"{section}.{key}")
        train.add_argument(flag, metavar=flag[2:].upper().replace("-", "_"),
                           help=text if limit is None else f"{text}; {'each ' if key == 'hidden' else ''}{limit}")
    train.add_argument("--seed", metavar="N", help="seed of the data, the initial weights and the shuffling; "
                                                   f"{LIMITS['training.seed']}")
    train.add_argument("--out", metavar="MODEL", help="model file to write (default: <dataset>.safetensors)")
    train.add_argument("--save-experiment", metavar="PATH", help="also write the experiment as run (.toml/.json)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--threads", type=_threads, metavar="N",
                       help="torch intra-op threads (default: 1 for small networks, every core for large "
                       f"matrices); {LIMITS['run.threads']}")
    train.set_defaults(run=_train)

    ev = sub.add_parser("eval", help="evaluate a model file on data; prints one JSON line",
                        description="Loss, accuracy or R² (and the confusion matrix) of MODEL on DATA, "
                                    "standardised with the statistics stored at training time.")
    ev.add_argument("model", metavar="MODEL", help="model file written by bpcore train")
    ev.add_argument("--data", required=True, metavar="CSV_OR_NAME", help="a .csv file or a data set name")
    ev.add_argument("--target", metavar="COL", help="CSV target column: name or 0-based index")
    ev.add_argument("--part", choices=("all", "train", "val", "test"), default="all",
                    help="evaluate one part of the split the model was trained with (default: all rows)")
    ev.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ev.add_argument("--threads", type=_threads, metavar="N", help="torch intra-op threads (default: torch's)")
    ev.set_defaults(run=_eval)

    check = sub.add_parser("check", help="gradcheck every autograd Function against torch",
                           description="gradcheck, gradgradcheck and a reference comparison of every Function.")
    check.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                       help="all = cpu, and cuda when available (default)")
    check.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (EXIT_OK, EXIT_CRASH, EXIT_USER_ERROR, EXIT_DIVERGED or
    EXIT_INTERRUPTED)."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USER_ERROR
        if getattr(args, "threads", None):
            import torch

            torch.set_num_threads(args.threads)
        return args.run(args)
    except (_UsageError, BackpropLabError) as e:
        _say(f"error: {e}")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as e:  # --help and --version print and exit 0
        return e.code if isinstance(e.code, int) else EXIT_OK
    except Exception as e:
        traceback.print_exc()
        _say(f"internal error (a bug in bpcore; please report it with the traceback above): "
             f"{type(e).__name__}: {_one_line(str(e))}")
        return EXIT_CRASH


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 500 else text[:497] + "..."


def _say(message: str) -> None:
    """One line on stderr, ``bpcore: <message>``."""
    print(f"bpcore: {_one_line(message)}", file=sys.stderr, flush=True)


def _json_line(d: dict[str, Any]) -> None:
    print(json.dumps(d, allow_nan=False), flush=True)


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


# ------------------------------------------------------------------------------------------------ train

def _train(args: argparse.Namespace) -> int:
    from bpcore import distributed

    world = distributed.init_from_env()
    try:
        return _train_on(args, world)
    finally:
        distributed.shutdown(world)


def _train_on(args: argparse.Namespace, world) -> int:
    from bpcore.config import load_experiment, save_experiment
    from bpcore.session import save_session
    from bpcore.train import Trainer
    from bpcore.train.state import RunState

    exp = load_experiment(args.experiment) if args.experiment else Experiment()
    overrides = _overrides(args)
    try:
        exp = exp.replace(**overrides)
    except ConfigError as e:
        raise _name_the_flag(e, overrides) from None
    dataset = None
    if exp.data.source.startswith("csv:") and world.is_main and not args.quiet and sys.stderr.isatty():
        dataset = _read_with_bar(exp.data)
    trainer = Trainer(exp, dataset, world=world)
    trainer.threads = args.threads  # None: by the work's size (bpcore.train.threads)
    out = Path(args.out) if args.out else Path(f"{trainer.dataset.name}.safetensors")
    if world.is_main:  # fail now, not after the training
        if not out.absolute().parent.is_dir():
            raise ModelFileError(f"cannot write model file {out}: folder {out.parent} does not exist")
        if out.is_dir():
            raise ModelFileError(f"cannot write model file {out}: it is a folder")
        if not os.access(out.absolute().parent, os.W_OK):
            raise ModelFileError(f"cannot write model file {out}: folder {out.absolute().parent} is not writable")
    if world.is_main and args.save_experiment:
        save_experiment(exp, args.save_experiment)
    every = exp.training.checkpoint_every
    progress = _Progress(exp.training.epochs, trainer.task,
                         enabled=world.is_main and not args.quiet and sys.stderr.isatty())

    def on_epoch(snap) -> None:
        progress(snap)
        if world.is_main and every and snap.epoch % every == 0 and not snap.finished:
            try:  # a full disk costs this checkpoint, not the run: report it and train on
                save_session(out, trainer)
            except OSError as e:  # ModelFileError is one
                progress.note(f"checkpoint at epoch {snap.epoch} not written ({_one_line(str(e))}); "
                              "training goes on")

    t0 = time.perf_counter()
    with progress, _graceful_stop(trainer, announce=world.is_main and not args.quiet):
        snap = trainer.run(on_epoch)
    seconds = time.perf_counter() - t0
    diverged = snap.state == RunState.DIVERGED
    if not world.is_main:
        return EXIT_DIVERGED if diverged else EXIT_OK
    try:
        save_session(out, trainer)  # the last finite weights, also after a divergence or a stop
    except OSError as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"cannot write model file {out}: {e.strerror or e}") from None
    if diverged:
        _say(snap.reason)
    _json_line(_summary(trainer, snap, seconds, out))
    return EXIT_DIVERGED if diverged else EXIT_OK


def _summary(trainer, snap, seconds: float, out: Path) -> dict[str, Any]:
    """The result line: metrics of the weights as saved (after a divergence: the last finite ones)."""
    score = "accuracy" if trainer.task == "classification" else "r2"
    ev = {part: trainer.evaluate(part) for part in ("train", "val", "test")}
    d: dict[str, Any] = {"dataset": trainer.dataset.name, "epochs": snap.epoch, "steps": snap.step,
                         "state": snap.state, "reason": snap.reason}
    d.update({f"{part}_loss": _finite(e["loss"]) for part, e in ev.items()})
    d.update({f"{part}_{score}": _finite(e["score"]) for part, e in ev.items()})
    d.update(seconds=round(seconds, 3), world_size=trainer.world.size, model=str(out))
    return d


def _read_with_bar(spec):
    """The CSV data set, with a progress bar on stderr when reading it takes more than a second."""
    from tqdm import tqdm

    from bpcore.train.setup import load_data

    with tqdm(total=100, delay=1.0, unit="%", desc=f"reading {spec.source[4:]}", file=sys.stderr,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}") as bar:
        return load_data(spec, progress=lambda fraction: bar.update(100 * fraction - bar.n))


class _Progress:
    """A tqdm bar on stderr: epoch/total, train/val loss and score (nothing when disabled)."""

    def __init__(self, total: int, task: str, enabled: bool) -> None:
        self.bar = None
        self.score = "acc" if task == "classification" else "r2"
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="epoch", file=sys.stderr, dynamic_ncols=True)

    def note(self, message: str) -> None:
        """One line on stderr, above the bar when there is one."""
        if self.bar is None:
            _say(message)
        else:
            self.bar.write(f"bpcore: {_one_line(message)}", file=sys.stderr)

    def __call__(self, snap) -> None:
        if self.bar is None or not snap.metrics:
            return
        m = snap.metrics
        self.bar.set_postfix_str(f"loss {m['train_loss']:.4f}/{m['val_loss']:.4f} "
                                 f"{self.score} {m['train_score']:.3f}/{m['val_score']:.3f}", refresh=False)
        self.bar.update(min(snap.epoch, self.bar.total) - self.bar.n)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def _graceful_stop(trainer, announce: bool) -> Iterator[None]:
    """Ctrl+C (or SIGTERM) asks the trainer to stop, so the weights are still saved; a second Ctrl+C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum, frame) -> None:
        signal.signal(signal.SIGINT, old[signal.SIGINT])
        if announce:
            print("\nbpcore: stopping, the model will be saved (Ctrl+C again to abort)", file=sys.stderr)
        trainer.stop()

    for sig in old:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


# ------------------------------------------------------------------------------------------------- eval

def _eval(args: argparse.Namespace) -> int:
    import torch

    from bpcore import backprop as bp
    from bpcore import metrics
    from bpcore.data import Dataset, split_dataset
    from bpcore.session import load_model
    from bpcore.train import FlatNetwork, setup

    device = setup.resolve_device(args.device)
    session = load_model(args.model, device=device)
    model, exp, extra = session.model, session.experiment, session.extra
    ds = _eval_data(args, model.output, exp)
    if ds.n_features != model.sizes[0]:
        raise DataError(f"{args.data} has {ds.n_features} feature columns ({', '.join(ds.feature_names)}) but "
                        f"{args.model} was trained on {model.sizes[0]}"
                        + (f" ({', '.join(extra['feature_names'])})" if extra.get("feature_names") else ""))
    if args.part != "all":
        if exp is None:
            raise ModelFileError(f"{args.model} holds no experiment, so the split for --part cannot be re-made")
        ds = getattr(split_dataset(ds, exp.data.split, seed=exp.data.seed, standardise=False), args.part)
        if len(ds) == 0:
            raise DataError(f"the {args.part} part of {args.data} has no rows (split {list(exp.data.split)})")
    X = _standardise(ds.X, extra, exp, args.model)
    y, classes = _eval_targets(ds, model, extra, args.data)
    net = FlatNetwork(model)
    part = setup.to_part(Dataset(ds.name, X, y, ds.feature_names, classes), model.output, device,
                         net.weights[0].dtype, net.prepare)
    with torch.no_grad():
        z = net.logits(part.inputs)
        loss = float(net.loss(z, part.target))
        out: dict[str, Any] = {"model": str(args.model), "data": str(args.data), "part": args.part,
                               "rows": len(ds), "loss": _finite(loss)}
        if classes is not None:
            out["accuracy"] = _finite(metrics.accuracy(z, part.target))
            out["class_names"] = list(classes)
            out["confusion"] = metrics.confusion_matrix(z, part.target, len(classes)).tolist()
        else:
            out["r2"] = _finite(metrics.r2(bp.output(model.output, z), part.target))
    _json_line(out)
    return 0


def _eval_data(args: argparse.Namespace, output: str, exp: Experiment | None):
    """The data to evaluate on: a CSV (read with the model's task) or a named set (as trained, if the same)."""
    from bpcore import backprop as bp
    from bpcore.data import load_dataset, read_csv
    from bpcore.train import setup

    target = target_column(args.target) if args.target is not None else (exp.data.target if exp else None)
    text = args.data[4:] if args.data.startswith("csv:") else args.data
    if text.lower().endswith(".csv"):
        return read_csv(text, target=target, task=bp.output_kind(output).task)
    if exp is not None and exp.data.source == text:
        return setup.load_data(exp.data)  # a toy set drawn with the same size, noise and seed
    return load_dataset(text)


def _standardise(X: np.ndarray, extra: dict, exp: Experiment | None, model_path: str) -> np.ndarray:
    """X scaled with the training mean/std stored in the model file (recomputed for files without them)."""
    import numpy as np

    if "standardise" in extra:
        stats = extra["standardise"]
    elif exp is not None and exp.data.standardise:  # an older file: re-make the split it was trained on
        from bpcore.train import setup

        split = setup.split_for(exp, setup.load_data(exp.data))
        stats = {"mean": split.mean, "std": split.std}
        print(f"bpcore: {model_path} stores no standardisation; recomputed from {exp.data.source}", file=sys.stderr)
    elif exp is not None:
        stats = None
    else:
        raise ModelFileError(f"{model_path} stores neither standardisation statistics nor an experiment")
    if stats is None:
        return X
    try:
        mean, std = (np.asarray(stats[k], dtype=np.float64) for k in ("mean", "std"))
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(f"{model_path}: malformed standardisation statistics in 'extra'") from None
    if mean.shape != (X.shape[1],) or std.shape != (X.shape[1],):
        raise ModelFileError(f"{model_path}: standardisation statistics for {mean.size} features, "
                             f"data has {X.shape[1]}")
    return (X - mean) / std


def _eval_targets(ds, model, extra: dict, data: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Targets in the model's terms: class ids in the training order of the class names, or values."""
    import numpy as np

    from bpcore import backprop as bp

    kind = bp.output_kind(model.output)
    if not kind.classifies:
        if ds.class_names is not None or ds.y.shape[1] != model.sizes[-1]:
            got = "class labels" if ds.class_names is not None else f"{ds.y.shape[1]} target column(s)"
            raise DataError(f"{data}: the model predicts {model.sizes[-1]} continuous value(s), the data has {got}")
        return ds.y, None
    trained = extra.get("class_names")
    if trained is None:  # no names stored: take the ids as they are
        n = kind.classes(model.sizes[-1])
        if ds.n_classes > n:
            raise DataError(f"{data} has {ds.n_classes} classes, the model knows {n}")
        return ds.y, tuple(str(k) for k in range(n))
    index = {str(name): k for k, name in enumerate(trained)}
    unknown = [name for name in ds.class_names if name not in index]
    if unknown:
        raise DataError(f"{data}: class {unknown[0]!r} was not seen in training (classes: {', '.join(trained)})")
    ids = np.asarray([index[name] for name in ds.class_names], dtype=np.int64)
    return ids[ds.y], tuple(str(c) for c in trained)


# ------------------------------------------------------------------------------------------------ check

def _check(args: argparse.Namespace) -> int:
    import torch

    from bpcore.testing import check_all

    cuda = torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        raise ConfigError("--device cuda: no CUDA device is available")
    devices = ["cpu"] if args.device == "cpu" or (args.device == "all" and not cuda) else \
        ["cuda"] if args.device == "cuda" else ["cpu", "cuda"]
    ok = total = 0
    for device in devices:
        print(f"# {device} (torch {torch.__version__})")
        reports = check_all(device)
        for report in reports:
            print(report)
        ok += sum(r.ok for r in reports)
        total += len(reports)
    print(f"{ok}/{total} Functions OK on {', '.join(devices)}")
    return EXIT_OK if ok == total else EXIT_CRASH
