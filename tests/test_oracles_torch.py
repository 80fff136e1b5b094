"""The torch oracle against independent closed forms (derived by hand, computed here in numpy).

Every expected value below comes from the calculus of the network written out in the test, never
from the oracle's own output; comparisons go through oracles.compare with the torch tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oracles import torch_autograd as ta
from oracles.case import Case, Spec
from oracles.compare import compare_tensor

RNG_SEED = 1234


def _params(rng, sizes):
    p = {}
    for l in range(1, len(sizes)):
        p[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1]))
        p[f"b{l}"] = rng.standard_normal(sizes[l])
    return p


def _close(name, actual, expected, scale=None):
    v = compare_tensor(name, actual, expected, dtype="float64", oracle="torch", scale=scale)
    assert v.passed, v.message


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---- one layer: the loss gradient with respect to z is known in closed form for each loss


def _one_layer(loss, act, target="dense", reduction="mean", reg=0.0, m=5, n0=4, n1=3, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    spec = Spec((n0, n1), (act,), loss, reduction, target=target, reg=reg)
    p = _params(rng, (n0, n1))
    x = rng.standard_normal((m, n0))
    if target == "labels":
        y = rng.integers(0, n1, m)
    elif loss == "binary_cross_entropy":
        y = rng.random((m, n1))
    elif loss == "softmax_cross_entropy":
        y = rng.dirichlet(np.ones(n1), size=m)  # soft targets: rows sum to 1
    else:
        y = rng.standard_normal((m, n1))
    return Case(spec, p, x, y)


def _check_one_layer(case, dz, loss_value):
    """Given dLoss/dz (m, n1) of the data term, the rest is linear algebra: dW = dz^T x, db = sum dz,
    dx = dz W, plus reg * W."""
    W, x = case.params["W1"], case.x
    o = ta.expected(case)
    _close("loss", o.loss, loss_value)
    _close("W1", o.grads["W1"], dz.T @ x + case.spec.reg * W)
    _close("b1", o.grads["b1"], dz.sum(axis=0))
    _close("x", o.grads["x"], dz @ W)
    return o


def test_identity_quadratic_closed_form():
    # z = W x + b, L = 1/(2m) sum ||z - y||^2  =>  dL/dW = (z - y)^T x / m
    case = _one_layer("quadratic", "identity")
    z = case.x @ case.params["W1"].T + case.params["b1"]
    m = case.m
    _check_one_layer(case, (z - case.y) / m, 0.5 * np.sum((z - case.y) ** 2) / m)


def test_identity_quadratic_sum_and_reg():
    case = _one_layer("quadratic", "identity", reduction="sum", reg=0.3)
    W = case.params["W1"]
    z = case.x @ W.T + case.params["b1"]
    loss = 0.5 * np.sum((z - case.y) ** 2) + 0.5 * 0.3 * np.sum(W**2)
    _check_one_layer(case, z - case.y, loss)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus", "relu", "leaky_relu"])
def test_quadratic_through_each_activation(act):
    # dL/dz = (a - y) * act'(z) / m with act' written out independently here
    case = _one_layer("quadratic", act)
    z = case.x @ case.params["W1"].T + case.params["b1"]
    a, da = {
        "sigmoid": (_sigmoid(z), _sigmoid(z) * (1 - _sigmoid(z))),
        "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
        "softplus": (np.log1p(np.exp(z)), _sigmoid(z)),
        "relu": (np.where(z > 0, z, 0.0), (z > 0) * 1.0),
        "leaky_relu": (np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01)),
    }[act]
    m = case.m
    _check_one_layer(case, (a - case.y) * da / m, 0.5 * np.sum((a - case.y) ** 2) / m)


def test_binary_cross_entropy_on_sigmoid():
    # with a = sigmoid(z): dL/dz = (a - y) / m (the sigma' cancels)
    case = _one_layer("binary_cross_entropy", "sigmoid")
    z = case.x @ case.params["W1"].T + case.params["b1"]
    a, y, m = _sigmoid(z), case.y, case.m
    loss = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / m
    _check_one_layer(case, (a - y) / m, loss)


def test_binary_cross_entropy_is_stable_for_large_logits():
    case = _one_layer("binary_cross_entropy", "sigmoid")
    big = case.params["b1"] + np.array([800.0, -800.0, 0.0])
    case = Case(case.spec, {"W1": case.params["W1"], "b1": big}, case.x, case.y)
    o = ta.expected(case)
    assert np.isfinite(o.loss) and all(np.isfinite(g).all() for g in o.grads.values())
    z = case.x @ case.params["W1"].T + big
    # log(1 + e^-|z|) + max(z, 0) - z y: at |z| = 800 the loss is |z| (1 - y) or |z| y exactly
    _close("loss", o.loss, np.sum(np.maximum(z, 0) - z * case.y + np.log1p(np.exp(-np.abs(z)))) / case.m)


@pytest.mark.parametrize("target", ["dense", "labels"])
def test_softmax_cross_entropy(target):
    # dL/dz = (softmax(z) - t) / m
    case = _one_layer("softmax_cross_entropy", "identity", target=target)
    z = case.x @ case.params["W1"].T + case.params["b1"]
    t = case.onehot if target == "labels" else case.y
    p = _softmax(z)
    loss = -np.sum(t * np.log(p)) / case.m
    _check_one_layer(case, (p - t) / case.m, loss)


def test_hinge_sum():
    # L = sum_i sum_{j != y_i} max(0, z_ij - z_iy + 1); dz_ij = [margin > 0], dz_iy = -count
    case = _one_layer("hinge", "identity", target="labels", reduction="sum", m=7, n1=4)
    z = case.x @ case.params["W1"].T + case.params["b1"]
    rows = np.arange(case.m)
    margins = z - z[rows, case.y][:, None] + 1
    margins[rows, case.y] = 0
    active = (margins > 0) * 1.0
    active[rows, case.y] = -active.sum(axis=1)
    _check_one_layer(case, active, np.maximum(margins, 0).sum())


# ---- hidden layers: dA1 = dz2 W2 and dz1 = dA1 * act'(z1)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu"])
def test_two_layers_hidden_gradient(act):
    rng = np.random.default_rng(7)
    sizes = (3, 5, 2)
    spec = Spec(sizes, (act, "identity"), "quadratic")
    p = _params(rng, sizes)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    case = Case(spec, p, x, y)
    z1 = x @ p["W1"].T + p["b1"]
    f, fp = {
        "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    }[act]
    a1 = f(z1)
    z2 = a1 @ p["W2"].T + p["b2"]
    dz2 = (z2 - y) / 4
    dA1 = dz2 @ p["W2"]
    dz1 = dA1 * fp(z1)
    o = ta.expected(case)
    _close("A1", o.grads["A1"], dA1)
    _close("W2", o.grads["W2"], dz2.T @ a1)
    _close("W1", o.grads["W1"], dz1.T @ x)
    _close("x", o.grads["x"], dz1 @ p["W1"])
    assert set(o.grads) == {"W1", "b1", "W2", "b2", "x", "A1"}


# ---- updates


def test_trajectory_is_gradient_descent_in_closed_form():
    case = _one_layer("quadratic", "identity")
    case = Case(case.spec, case.params, case.x, case.y, lr=0.05, steps=4)
    W, b = case.params["W1"].copy(), case.params["b1"].copy()
    o = ta.expected(case)
    for k in range(4):
        dz = (case.x @ W.T + b - case.y) / case.m
        W, b = W - 0.05 * dz.T @ case.x, b - 0.05 * dz.sum(axis=0)
        _close(f"trajectory[{k + 1}]['W1']", o.trajectory[k]["W1"], W)
        _close(f"trajectory[{k + 1}]['b1']", o.trajectory[k]["b1"], b)
    assert all(np.array_equal(o.updated[k], o.trajectory[0][k]) for k in o.updated)
    # the Case's own arrays are never modified by the in-place steps
    assert np.array_equal(case.params["W1"], _one_layer("quadratic", "identity").params["W1"])


def test_update_is_bit_identical_to_torch_optim_sgd():
    rng = np.random.default_rng(3)
    sizes = (4, 6, 3)
    case = Case(Spec(sizes, ("tanh", "identity"), "softmax_cross_entropy", target="labels"),
                _params(rng, sizes), rng.standard_normal((5, 4)), rng.integers(0, 3, 5), lr=0.3, steps=1)
    o = ta.expected(case)
    net = ta._Net(case)
    loss, _, _, _ = net.forward(net.x)
    loss.backward()
    opt = torch.optim.SGD(list(net.params.values()), lr=0.3)
    opt.step()
    for k, p in net.params.items():
        assert np.array_equal(o.updated[k], p.detach().numpy()), k


def test_float32_inputs_are_rounded_before_the_oracle():
    case = _one_layer("quadratic", "identity").with_spec(dtype="float32")
    W = case.params["W1"].astype(np.float32).astype(np.float64)
    b = case.params["b1"].astype(np.float32).astype(np.float64)
    x = case.x.astype(np.float32).astype(np.float64)
    y = case.y.astype(np.float32).astype(np.float64)
    z = x @ W.T + b
    o = ta.expected(case)
    _close("loss", o.loss, 0.5 * np.sum((z - y) ** 2) / case.m)
    assert o.grads["W1"].dtype == np.float64
    # the float32 rerun measures this computation's rounding, scaled to the implementation's dtype
    assert o.err_est["W1"] > 0 and o.err_est["W1"] < 1e-4 * np.abs(o.grads["W1"]).max()


def test_err_est_keys_and_size_for_float64():
    case = _one_layer("quadratic", "sigmoid")
    o = ta.expected(case)
    for key in ["loss", "W1", "b1", "x", "updated.W1", "trajectory.1.W1", f"trajectory.{case.steps}.b1"]:
        assert key in o.err_est, key
    # float64 estimate = float32 rerun error * eps64/eps32: around 1e-16 relative, never 0 for a real net
    assert 0 < o.err_est["W1"] < 1e-12 * np.abs(o.grads["W1"]).max()
    assert ta.expected(case, estimate=False).err_est == {}


def test_relu_subgradient_at_zero_is_reported():
    assert ta.subgradient_at_zero() == {"relu": 0.0, "leaky_relu": 0.01, "hinge": 0.0}
    rng = np.random.default_rng(0)
    sizes = (2, 3, 1)
    p = _params(rng, sizes)
    # an input x = 0 row makes z = b; b1 = 0 gives an exact zero whatever rounding does
    x0 = np.zeros((1, 2))
    p2 = dict(p)
    p2["b1"] = np.array([0.0, 1.0, -1.0])
    case0 = Case(Spec(sizes, ("relu", "identity")), p2, x0, np.ones((1, 1)))
    o0 = ta.expected(case0)
    assert any("relu'(0) = 0" in n for n in o0.notes), o0.notes
    assert o0.grads["b1"][0] == 0.0  # relu'(0) = 0: no gradient flows through the unit at its kink
    assert o0.grads["b1"][1] != 0.0


def test_oracle_keeps_off_what_made_it_slow_on_tiny_nets(monkeypatch):
    """The oracle is called thousands of times per campaign; its speed on tiny nets is measured by
    `bpcheck bench` (fd section: the oracle next to one bare autograd call, a ratio). Here, the two
    regressions that once made it 10x slower, checked without a clock: torch.optim's bookkeeping
    (the SGD step is done by hand) and multi-threaded torch."""
    import torch

    rng = np.random.default_rng(0)
    sizes = (4, 8, 3)
    case = Case(Spec(sizes, ("sigmoid", "sigmoid")), _params(rng, sizes), rng.standard_normal((4, 4)),
                rng.random((4, 3)))

    def refuse(*a, **k):
        raise AssertionError("the oracle used torch.optim")

    monkeypatch.setattr(torch.optim.SGD, "step", refuse)
    monkeypatch.setattr(torch.optim.SGD, "__init__", refuse)
    ta.expected(case)
    assert torch.get_num_threads() == 1
