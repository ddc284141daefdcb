"""bpcore's Trainer against its peers on the same standardised splits: scikit-learn's MLPClassifier and a plain
PyTorch loop (one hidden layer of 64 tanh units, mini-batch gradient descent μ 0.1 without momentum or L2, batch 32,
100 epochs), on iris, wine, breast cancer, digits and spirals, plus digits with Adam (μ 0.001).

Each contender trains on bpcore's training part and is scored on its test part. bpcore runs as the window and CLI
do, with every per-epoch metric (loss and accuracy of train, validation and test); the torch loop evaluates once at
the end, as a plain loop does, and so does bpcore's second row (training.eval_every = the epochs, `bpcore train
--eval-every`); scikit-learn computes its loss curve from the mini-batches. All three start from
bpcore's initial weights (two classes: one logistic output unit, as scikit-learn uses). torch runs with the threads
bpcore picks for the network (bpcore.train.threads: one for these sizes): the comparison is of the engines, not of
thread pools. Times are of training alone (data loaded and split beforehand), median of interleaved rounds; round r
initialises and shuffles with seed r, and the accuracies are means over the rounds (one seed's test accuracy on 60
spirals points moves by 0.05 from seed to seed). Targets (issue 13): bpcore/scikit-learn ≤ 0.8, bpcore/torch ≤ 0.6,
test accuracy within 0.02 of the best peer.

Needs scikit-learn (a benchmark-only extra: `pip install -e '.[bench]'`).
Usage: python -m benchmarks.bench_peers [--rounds 5] [--epochs 100] [--sets iris ...] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
import warnings

import torch

from benchmarks.report import write_section
from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.train import Trainer
from bpcore.train.threads import threads_for

SETS = ("iris", "wine", "breast_cancer", "digits", "spirals")
CASES = [(name, "sgd") for name in SETS] + [("digits", "adam")]
LR = {"sgd": 0.1, "adam": 0.001}
HIDDEN, BATCH = 64, 32


def experiment(source: str, optimizer: str, epochs: int, seed: int = 0, output: str = "auto",
               eval_every: int = 1) -> Experiment:
    """Round `seed` of a case: the same data split every round, another initialisation and shuffling."""
    return Experiment(data=DataSpec(source=source),
                      model=ModelSpec(hidden=(HIDDEN,), activation=("tanh",), init_seed=seed, output=output),
                      training=TrainSpec(epochs=epochs, batch_size=BATCH, lr=LR[optimizer], optimizer=optimizer,
                                         seed=seed, eval_every=eval_every))


def run_bpcore(exp: Experiment, dataset, split) -> tuple[float, float]:
    t0 = time.perf_counter()
    trainer = Trainer(exp, dataset, split=split)
    trainer.run()
    seconds = time.perf_counter() - t0
    return seconds, trainer.evaluate("test")["score"]


def run_sklearn(exp: Experiment, parts, init: list[torch.Tensor]) -> tuple[float, float]:
    """MLPClassifier with plain SGD (or Adam) and nothing else: no momentum, no L2, no early stop, no tol; started
    from bpcore's initial weights (an untimed one-epoch fit sets its attributes up, then coefs_ and intercepts_
    are replaced and a warm-started fit trains)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    (X, y), (Xt, yt) = parts
    tr = exp.training
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="tanh", solver=tr.optimizer, alpha=0.0,
                        batch_size=BATCH, learning_rate="constant", learning_rate_init=tr.lr, momentum=0.0,
                        nesterovs_momentum=False, max_iter=1, tol=0.0, n_iter_no_change=tr.epochs + 1,
                        shuffle=True, random_state=tr.seed, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: that is the point
        clf.fit(X, y)
        clf.coefs_ = [W[:-1].double().numpy().copy() for W in init]  # bpcore's W: weights, then the bias row
        clf.intercepts_ = [W[-1].double().numpy().copy() for W in init]
        clf.max_iter, clf.loss_curve_, clf._no_improvement_count = tr.epochs, [], 0
        t0 = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - t0
    return seconds, float(clf.score(Xt, yt))


def run_torch(exp: Experiment, parts, init: list[torch.Tensor], sigmoid: bool) -> tuple[float, float]:
    """The loop a PyTorch user writes: nn.Sequential, the library's loss, torch.optim, shuffled mini-batches."""
    (X, y), (Xt, yt) = parts
    x, t = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    t0 = time.perf_counter()
    layers = [torch.nn.Linear(W.shape[0] - 1, W.shape[1]) for W in init]
    with torch.no_grad():
        for lin, W in zip(layers, init, strict=True):  # bpcore's W holds the bias as its last row (eq. 11)
            lin.weight.copy_(W[:-1].T)
            lin.bias.copy_(W[-1])
    model = torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1])
    loss_fn = torch.nn.BCEWithLogitsLoss() if sigmoid else torch.nn.CrossEntropyLoss()
    target = t.float().reshape(-1, 1) if sigmoid else t
    opt = (torch.optim.Adam(model.parameters(), lr=exp.training.lr) if exp.training.optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=exp.training.lr))
    g = torch.Generator().manual_seed(exp.training.seed)
    for _ in range(exp.training.epochs):
        perm = torch.randperm(len(x), generator=g)
        for k in range(0, len(x), BATCH):
            idx = perm[k:k + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), target[idx]).backward()
            opt.step()
    with torch.no_grad():
        z = model(torch.as_tensor(Xt, dtype=torch.float32))
        pred = (z[:, 0] > 0).long() if sigmoid else z.argmax(1)
        acc = float((pred == torch.as_tensor(yt)).double().mean())
    return time.perf_counter() - t0, acc


def main(argv=None) -> list[list[str]]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--sets", nargs="*", default=None, help="only these sets (default: all cases)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    rows = []
    for source, optimizer in CASES:
        if args.sets and source not in args.sets:
            continue
        probe = Trainer(experiment(source, optimizer, args.epochs))  # the data, loaded and split once
        dataset, split = probe.dataset, probe.split
        # two classes: one logistic unit, as scikit-learn has, so that all three can start from the same weights
        output = "sigmoid" if dataset.n_classes == 2 else "softmax"
        probe = Trainer(experiment(source, optimizer, args.epochs, output=output), dataset, split=split)
        parts = [(getattr(split, p).X, getattr(split, p).y.reshape(-1)) for p in ("train", "test")]
        sigmoid = probe.output == "sigmoid"
        torch.set_num_threads(threads_for(probe.model.sizes, BATCH))
        times = {k: [] for k in ("bpcore", "bpcore, metrics at the end", "scikit-learn", "torch loop")}
        acc = {k: [] for k in times}
        for r in range(-1, args.rounds):  # round -1: warm-up (imports, first calls), not counted
            exp = experiment(source, optimizer, args.epochs, seed=max(r, 0), output=output)
            init = [W.detach().clone() for W in Trainer(exp, dataset, split=split).net.weights]
            once = experiment(source, optimizer, args.epochs, seed=max(r, 0), output=output, eval_every=args.epochs)
            runs = {"bpcore": functools.partial(run_bpcore, exp, dataset, split),
                    "bpcore, metrics at the end": functools.partial(run_bpcore, once, dataset, split),
                    "scikit-learn": functools.partial(run_sklearn, exp, parts, init),
                    "torch loop": functools.partial(run_torch, exp, parts, init, sigmoid)}
            for name in (list(runs) if r % 2 == 0 else list(reversed(runs))):
                s, a = runs[name]()
                if r >= 0:
                    times[name].append(s)
                    acc[name].append(a)
        acc = {k: statistics.mean(v) for k, v in acc.items()}
        med = {k: statistics.median(v) for k, v in times.items()}
        best = max(acc["scikit-learn"], acc["torch loop"])
        end = "bpcore, metrics at the end"
        row = [f"{source} ({optimizer})", f"{med['bpcore']:.3f} / {med[end]:.3f}", f"{med['scikit-learn']:.3f}",
               f"{med['torch loop']:.3f}",
               f"{med['bpcore'] / med['scikit-learn']:.2f} / {med[end] / med['scikit-learn']:.2f}",
               f"{med['bpcore'] / med['torch loop']:.2f} / {med[end] / med['torch loop']:.2f}",
               f"{acc['bpcore']:.3f} / {acc['scikit-learn']:.3f} / {acc['torch loop']:.3f}",
               "yes" if acc["bpcore"] >= best - 0.02 else "no"]
        print(" | ".join(row), flush=True)
        rows.append(row)
    if args.out:
        write_section(
            args.out, "Peers: bpcore Trainer vs scikit-learn MLPClassifier vs a plain PyTorch loop",
            "python -m benchmarks.bench_peers --out docs/benchmarks.md",
            ["set (optimizer)", "bpcore s: every epoch's metrics / at the end", "scikit-learn s", "torch loop s",
             "bpcore / sklearn (≤ 0.8)", "bpcore / torch (≤ 0.6)", "test accuracy bpcore / sklearn / torch",
             "within 0.02 of best peer"],
            rows, f"64 tanh units, batch {BATCH}, {args.epochs} epochs, μ 0.1 (Adam: 0.001); times: median of "
                  f"{args.rounds} interleaved rounds, accuracy: mean over their seeds; see the module docstring "
                  "for what each contender does.")
    return rows


if __name__ == "__main__":
    main()
