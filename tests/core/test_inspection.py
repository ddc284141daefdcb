"""bpcore.inspection.InspectorSession without Qt: stage rules, updates on its own copy only, reset, batch sums,
the gradient check (ok, caught, stale) and its numbers against bpcore.inspect.trace and a numpy derivation."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import torch

from bpcore import backprop as bp
from bpcore.errors import ConfigError, DataError
from bpcore.inspect import trace
from bpcore.inspection import CHECK_LIMIT, InspectorSession

# the 2-3-2 network of tests/core/test_inspect.py: sigmoid hidden layer, softmax output, biases last (eq. 11)
W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2], [0.3, 0.4], [-1.0, 0.5], [1.5, 0.2], [0.0, -0.3]])
T = np.array([1, 0, 1, 0, 1])
LR = 0.5
# float64 throughout; the session and trace run the same kernels on the same inputs, and the numpy derivation
# differs from them only by rounding of a few dozen operations on O(1) numbers: 1e-12 is ~10⁴ ulp of slack
TOL = 1e-12


def session(weights=None, lr: float = LR) -> InspectorSession:
    s = InspectorSession()
    s.set_source(weights if weights is not None else [W1, W2], ["sigmoid"], "softmax", X, T, lr, ["a", "b"])
    return s


def engine(Ws, rows, lr: float = LR):
    return trace([torch.as_tensor(W) for W in Ws], ["sigmoid"], "softmax", torch.as_tensor(X[rows]),
                 torch.as_tensor(T[rows]), lr=lr)


def numpy_step(Ws, rows, lr: float = LR):
    """One step of eq. 10 on the mean cross-entropy of the rows, derived by hand in numpy (no torch)."""
    A, B = Ws
    x = X[rows]
    h0 = np.hstack([x, np.ones((len(rows), 1))])  # eq. 11
    o1 = 1 / (1 + np.exp(-(h0 @ A)))  # eq. 3
    h1 = np.hstack([o1, np.ones((len(rows), 1))])
    z2 = h1 @ B
    o2 = np.exp(z2 - z2.max(1, keepdims=True))
    o2 /= o2.sum(1, keepdims=True)
    delta2 = (o2 - np.eye(2)[T[rows]]) / len(rows)  # eq. 8 for softmax + mean cross-entropy
    delta1 = (delta2 @ B[:-1].T) * o1 * (1 - o1)  # the hidden-layer recursion
    return [A - lr * h0.T @ delta1, B - lr * h1.T @ delta2]  # eq. 9, 10 summed over the rows


# stages ------------------------------------------------------------------------------------------------------


def test_stage_rules_follow_the_buttons():
    s = session()
    assert s.stage() == "" and s.trace() is None
    s.backward()  # traces first when nothing is shown
    assert s.stage() == "backward" and s.trace() is not None
    s.forward()
    assert s.stage() == "forward"
    t = s.trace()
    s.backward()  # the same trace, revealed further
    assert s.stage() == "backward" and s.trace() is t
    s.update()  # applies the shown trace's update
    assert s.stage() == "update" and s.trace() is t and s.n_updates() == 1
    s.backward()  # the update was applied: trace again with the new W
    assert s.stage() == "backward" and s.trace() is not t and s.n_updates() == 1
    s.select(2)  # other rows: traced again, at most Backward stays revealed
    s.update()
    s.select(3)
    assert s.stage() == "backward" and s.rows() == [3] and s.n_updates() == 2
    s.set_lr(0.1)
    assert s.stage() == "backward" and s.trace().lr == 0.1


def test_nothing_happens_without_a_source_or_rows():
    s = InspectorSession()
    for press in (s.forward, s.backward, s.update, s.step_all, s.reset_weights):
        press()
    assert s.stage() == "" and s.trace() is None and s.check() is None and s.rows() == []
    s.set_source([W1, W2], ["sigmoid"], "softmax", X[:0], T[:0], LR)
    s.step_all()
    assert s.trace() is None and s.check_request() is None


# updates on the copy only --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_update_changes_the_sessions_copy_only(kind):
    src = [W1.copy(), W2.copy()] if kind == "numpy" else [torch.tensor(W1), torch.tensor(W2)]
    Xs, Ts = X.copy(), T.copy()
    s = InspectorSession()
    s.set_source(src, ["sigmoid"], "softmax", Xs, Ts, LR)
    s.select(1, batch=True, size=3)
    s.step_all()
    for W, ref in zip(s.weights(), numpy_step([W1, W2], [1, 2, 3]), strict=True):
        assert np.abs(W.numpy() - ref).max() < TOL
    for W, ref in zip(src, (W1, W2), strict=True):  # the source arrays are untouched
        assert np.array_equal(np.asarray(W), ref)  # bit-exact on purpose: nothing computed, a copy must not change
    # nor does the session see later writes to them (a running trainer writing its tensors)
    before = [W.clone() for W in s.weights()]
    for W in src:
        W[...] = 0
    Xs[...] = 0
    assert all(torch.equal(a, b) for a, b in zip(s.weights(), before, strict=True))
    assert np.array_equal(s.X, X) and s.source_weights()[0][0, 0] == W1[0, 0]  # copies: exact on purpose


def test_steps_walk_downhill_and_reset_restores_the_source():
    s = session()
    losses = []
    for _ in range(4):
        s.step_all()
        losses.append(s.trace().loss)
    assert all(b < a for a, b in itertools.pairwise(losses)) and s.n_updates() == 4
    s.reset_weights()
    assert s.n_updates() == 0 and s.stage() == "backward"
    # Reset W copies the source back: bit-exact on purpose (no arithmetic between them)
    assert all(np.array_equal(W.numpy(), ref) for W, ref in zip(s.weights(), (W1, W2), strict=True))
    np.testing.assert_allclose(s.trace().loss, engine([W1, W2], [0]).loss, rtol=0, atol=TOL)


# numbers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "size"), [(0, 1), (2, 1), (1, 3), (3, 4)])  # (3, 4): cut at the last row
def test_numbers_equal_bpcore_inspect_trace_and_batch_sums(row, size):
    s = session()
    s.select(row, batch=size > 1, size=size)
    rows = list(range(row, min(row + size, len(X))))
    assert s.rows() == rows
    s.backward()
    ref = engine([W1, W2], rows)
    for ours, theirs in zip(s.trace().layers, ref.layers, strict=True):
        for key in ("h1", "z", "o", "do", "grad_o", "delta", "grad_W", "update"):
            assert np.abs(getattr(ours, key) - getattr(theirs, key)).max() < TOL, key
        # ∇_W J of the batch is the sum of the per-row outer products h_i δ_iᵀ (eq. 9 over a mini-batch)
        assert np.abs(ours.per_sample_grad_W.sum(0) - ours.grad_W).max() < TOL
    assert abs(s.trace().loss - ref.loss) < TOL


# bad selections ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "error", "where"), [
    (lambda s: s.select(5), DataError, "row 5"),
    (lambda s: s.select(-1), DataError, "row -1"),
    (lambda s: s.select(0, batch=True, size=0), DataError, "batch size 0"),
    (lambda s: s.select(0, batch=True, size=6), DataError, "batch size 6"),
    (lambda s: s.set_lr(0.0), ConfigError, "learning rate μ"),
    (lambda s: s.set_lr(float("nan")), ConfigError, "learning rate μ"),
    (lambda s: s.set_source([W1, W2], ["sigmoid"], "softmax", X[:, :1], T, LR), DataError, r"X \(N, 2\)"),
    (lambda s: s.set_source([W1, W2], ["sigmoid"], "softmax", X, T[:3], LR), DataError, "3 targets"),
    (lambda s: s.set_source([], [], "softmax", X, T, LR), DataError, r"W\^\(1\)"),
    (lambda s: s.set_source([W1, W2], ["sigmoid"], "softmax", X, T, -1.0), ConfigError, "learning rate μ"),
])
def test_bad_selections_are_typed_and_named(call, error, where):
    s = session()
    s.select(1)
    with pytest.raises(error, match=where):
        call(s)
    assert s.rows() == [1] and s.lr() == LR and s.n_weights() == W1.size + W2.size  # nothing changed


# the gradient check ---------------------------------------------------------------------------------------------


def test_check_passes_and_is_dropped_when_w_or_rows_change():
    s = session()
    c = s.check()
    assert c.ok and c.autograd_error < 1e-12 and s.last_check() is c
    s.update()
    assert s.last_check() is None  # W changed
    request = s.check_request()
    s.select(2)  # the rows change while the check would run on a worker
    assert not s.accept_check(request, request.run()) and s.last_check() is None
    request = s.check_request()
    s.set_lr(0.2)  # μ does not enter ∇_W J: the check still applies
    assert s.accept_check(request, request.run()) and s.last_check().ok


def test_check_request_runs_on_another_thread_on_copies():
    s = session()
    request = s.check_request()
    s.step_all()  # the session's W moves on while the request is checked elsewhere
    results = []
    worker = threading.Thread(target=lambda: results.append(request.run()))
    worker.start()
    worker.join()
    assert results[0].ok and not s.accept_check(request, results[0])
    assert np.array_equal(request.weights[0].numpy(), W1)  # the request kept the W it was taken with


def test_check_catches_a_wrong_derivative(monkeypatch):
    s = session()
    wrong = bp.Activation("sigmoid", torch.sigmoid, lambda o: o, torch.sigmoid_)  # o' = o: wrong
    monkeypatch.setitem(bp.ACTIVATIONS, "sigmoid", wrong)
    c = s.check()
    assert not c.ok and max(c.autograd_error, c.finite_difference_error) > 1e-3


def test_check_is_skipped_for_large_networks():
    big = [np.zeros((3, 150)), np.zeros((151, 150)), np.zeros((151, 2))]
    s = InspectorSession()
    s.set_source(big, ["tanh", "tanh"], "softmax", X, T, LR)
    assert s.n_weights() > CHECK_LIMIT and f"{s.n_weights():,} weights" in s.check_skip_reason()
    assert s.check_request() is None and s.check() is None
