"""The normalisation and dropout references (CS231n, Saito) pinned against torch directly.

Every forward output and every gradient is compared with torch.nn.functional (batch_norm,
layer_norm, group_norm) and autograd of sum(out * dout), through the project's one comparison:
float64 and float32 inputs, the oracle computing in float64 on the very values the reference
received, its error estimate measured by re-running the oracle in float32. The courses'
conventions where they differ from torch (momentum weighing the old running value, the biased
variance in the running update, dropout's p) are written out here as formulas, not taken from
the reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from oracles.compare import EPS, compare_tensor
from reference import cs231n_norm as C
from reference import saito_norm as S

DTYPES = ["float64", "float32"]


def oracle(fn, inputs, dout=None):
    """fn(*tensors) in float64 and float32 on the same values: (value, grads) and error estimates.

    grads are d sum(out * dout) / d input. The estimate for each tensor is its float32 rounding,
    ||t32 - t64||, which the comparison scales down to float64 itself when judging float64."""
    runs = []
    for tdtype in (torch.float64, torch.float32):
        ts = [torch.tensor(np.asarray(a, dtype=np.float64), dtype=tdtype, requires_grad=True) for a in inputs]
        out = fn(*ts)
        if dout is not None:
            (out * torch.tensor(dout, dtype=tdtype)).sum().backward()
            grads = [t.grad.double().numpy() for t in ts]
        else:
            grads = []
        runs.append([out.detach().double().numpy(), *grads])
    exact, rough = runs
    est = [float(np.linalg.norm(r - e)) for r, e in zip(rough, exact)]
    return exact, est


def assert_close(name, actual, expected, est, dtype):
    scaled = est * EPS[dtype] / EPS["float32"]  # the condition of this computation, in dtype's units
    verdict = compare_tensor(name, actual, expected, dtype=dtype, oracle="torch", err_est=scaled)
    assert verdict.passed, verdict.message


def assert_all(names, actuals, expected, est, dtype):
    for name, a, e, s in zip(names, actuals, expected, est):
        assert_close(name, a, e, s, dtype)


def draw(rng, shape, dtype, scale=1.0, shift=0.0):
    return (shift + scale * rng.standard_normal(shape)).astype(dtype)


# ---- CS231n batchnorm -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backward", ["batchnorm_backward", "batchnorm_backward_alt"])
@pytest.mark.parametrize("seed", range(4))
def test_batchnorm_train_matches_torch(dtype, backward, seed):
    rng = np.random.default_rng(seed)
    N, D = rng.integers(2, 9), rng.integers(1, 7)
    x = draw(rng, (N, D), dtype, scale=rng.uniform(0.1, 10), shift=rng.uniform(-5, 5))
    gamma, beta, dout = draw(rng, (D,), dtype), draw(rng, (D,), dtype), draw(rng, (N, D), dtype)
    eps = float(rng.choice([1e-5, 1e-3]))
    out, cache = C.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})
    dx, dgamma, dbeta = getattr(C, backward)(dout, cache)

    def bn(x, g, b):
        return TF.batch_norm(x, None, None, g, b, training=True, eps=eps)

    expected, est = oracle(bn, [x, gamma, beta], dout)
    assert_all(["out", "dx", "dgamma", "dbeta"], [out, dx, dgamma, dbeta], expected, est, dtype)
    assert out.dtype == dx.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_running_statistics_follow_the_course_formula(dtype):
    """momentum weighs the old value and the variance is biased: torch's momentum is 1 - momentum
    and torch updates with the unbiased variance, so only the mean agrees with torch itself."""
    rng = np.random.default_rng(7)
    N, D, momentum = 5, 4, 0.8
    bn_param = {"mode": "train", "momentum": momentum,
                "running_mean": draw(rng, (D,), dtype), "running_var": np.abs(draw(rng, (D,), dtype))}
    rm0, rv0 = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    x = draw(rng, (N, D), dtype, scale=3.0, shift=1.0)
    C.batchnorm_forward(x, np.ones(D, dtype), np.zeros(D, dtype), bn_param)

    rm_t, rv_t = torch.tensor(rm0, dtype=torch.float64), torch.tensor(rv0, dtype=torch.float64)
    xt = torch.tensor(x, dtype=torch.float64)
    TF.batch_norm(xt, rm_t, rv_t, training=True, momentum=1 - momentum)
    assert_close("running_mean", bn_param["running_mean"], rm_t.numpy(), 0.0, dtype)
    course_var = momentum * rv0.astype(np.float64) + (1 - momentum) * xt.var(0, unbiased=False).numpy()
    assert_close("running_var", bn_param["running_var"], course_var, 0.0, dtype)
    # the unbiased (torch) update is a different number here: the convention is visible
    assert not np.allclose(bn_param["running_var"], rv_t.numpy(), rtol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_running_statistics_start_at_zero_and_default_momentum(dtype):
    rng = np.random.default_rng(8)
    x = draw(rng, (6, 3), dtype, shift=2.0)
    bn_param = {"mode": "train"}
    C.batchnorm_forward(x, np.ones(3, dtype), np.zeros(3, dtype), bn_param)
    x64 = x.astype(np.float64)
    assert_close("running_mean", bn_param["running_mean"], 0.1 * x64.mean(0), 0.0, dtype)
    assert_close("running_var", bn_param["running_var"], 0.1 * x64.var(0), 0.0, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_test_mode_uses_running_statistics(dtype):
    rng = np.random.default_rng(9)
    N, D = 4, 5
    rm, rv = draw(rng, (D,), dtype), np.abs(draw(rng, (D,), dtype)) + 0.1
    gamma, beta = draw(rng, (D,), dtype), draw(rng, (D,), dtype)
    x = draw(rng, (N, D), dtype, scale=4.0)
    bn_param = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy(), "eps": 1e-5}
    out, _ = C.batchnorm_forward(x, gamma, beta, bn_param)

    def bn(x, g, b):
        return TF.batch_norm(x, torch.tensor(rm, dtype=x.dtype), torch.tensor(rv, dtype=x.dtype), g, b,
                             training=False, eps=1e-5)

    expected, est = oracle(bn, [x, gamma, beta])
    assert_close("out", out, expected[0], est[0], dtype)
    assert np.array_equal(bn_param["running_mean"], rm) and np.array_equal(bn_param["running_var"], rv)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(3))
def test_spatial_batchnorm_matches_torch(dtype, seed):
    rng = np.random.default_rng(20 + seed)
    N, Ch, H, W = (int(v) for v in rng.integers(1, 4, size=4))
    N += 1  # at least two samples
    x = draw(rng, (N, Ch, H, W), dtype, scale=2.0, shift=1.0)
    gamma, beta, dout = draw(rng, (Ch,), dtype), draw(rng, (Ch,), dtype), draw(rng, x.shape, dtype)
    bn_param = {"mode": "train", "momentum": 0.7}
    out, cache = C.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = C.spatial_batchnorm_backward(dout, cache)

    def bn(x, g, b):
        return TF.batch_norm(x, None, None, g, b, training=True, eps=1e-5)

    expected, est = oracle(bn, [x, gamma, beta], dout)
    assert_all(["out", "dx", "dgamma", "dbeta"], [out, dx, dgamma, dbeta], expected, est, dtype)
    per_channel = x.astype(np.float64).transpose(1, 0, 2, 3).reshape(Ch, -1)
    assert_close("running_mean", bn_param["running_mean"], 0.3 * per_channel.mean(1), 0.0, dtype)
    assert_close("running_var", bn_param["running_var"], 0.3 * per_channel.var(1), 0.0, dtype)

    test_out, _ = C.spatial_batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "test"})
    rm, rv = bn_param["running_mean"].astype(np.float64), bn_param["running_var"].astype(np.float64)

    def bn_test(x, g, b):
        return TF.batch_norm(x, torch.tensor(rm, dtype=x.dtype), torch.tensor(rv, dtype=x.dtype), g, b,
                             training=False, eps=1e-5)

    expected, est = oracle(bn_test, [x, gamma, beta])
    assert_close("test out", test_out, expected[0], est[0], dtype)


# ---- layernorm and groupnorm ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_layernorm_matches_torch(dtype, seed):
    rng = np.random.default_rng(30 + seed)
    N, D = rng.integers(1, 6), rng.integers(2, 9)
    x = draw(rng, (N, D), dtype, scale=rng.uniform(0.1, 10), shift=rng.uniform(-5, 5))
    gamma, beta, dout = draw(rng, (D,), dtype), draw(rng, (D,), dtype), draw(rng, (N, D), dtype)
    out, cache = C.layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    dx, dgamma, dbeta = C.layernorm_backward(dout, cache)

    def ln(x, g, b):
        return TF.layer_norm(x, (int(D),), g, b, eps=1e-5)

    expected, est = oracle(ln, [x, gamma, beta], dout)
    assert_all(["out", "dx", "dgamma", "dbeta"], [out, dx, dgamma, dbeta], expected, est, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gamma_shape", ["(1, C, 1, 1)", "(C,)"])
@pytest.mark.parametrize("seed", range(3))
def test_spatial_groupnorm_matches_torch(dtype, gamma_shape, seed):
    rng = np.random.default_rng(40 + seed)
    G = int(rng.integers(1, 4))
    N, Ch, H, W = int(rng.integers(1, 4)), G * int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    shape = (1, Ch, 1, 1) if gamma_shape == "(1, C, 1, 1)" else (Ch,)
    x = draw(rng, (N, Ch, H, W), dtype, scale=3.0, shift=-1.0)
    gamma, beta, dout = draw(rng, shape, dtype), draw(rng, shape, dtype), draw(rng, x.shape, dtype)
    out, cache = C.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-5})
    dx, dgamma, dbeta = C.spatial_groupnorm_backward(dout, cache)
    assert dgamma.shape == dbeta.shape == shape

    def gn(x, g, b):
        return TF.group_norm(x, G, g.reshape(-1), b.reshape(-1), eps=1e-5)

    expected, est = oracle(gn, [x, gamma, beta], dout)
    assert_all(["out", "dx", "dgamma", "dbeta"], [out, dx, dgamma, dbeta], expected, est, dtype)


# ---- CS231n dropout -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_train_matches_torch_with_the_mask_it_used(dtype):
    rng = np.random.default_rng(50)
    p = 0.6
    x, dout = draw(rng, (7, 9), dtype), draw(rng, (7, 9), dtype)
    param = {"mode": "train", "p": p, "seed": 3}
    out, cache = C.dropout_forward(x, param)
    dx = C.dropout_backward(dout, cache)
    keep = cache[1] != 0
    assert 0 < keep.sum() < keep.size

    def drop(x):
        return x * torch.tensor(keep, dtype=x.dtype) / p

    expected, est = oracle(drop, [x], dout)
    assert_all(["out", "dx"], [out, dx], expected, est, dtype)
    assert out.dtype == np.dtype(dtype)


def test_dropout_keeps_units_with_probability_p():
    """p is the keep probability (the course since 2018): a binomial test on 10^5 units."""
    x = np.ones((200, 500))
    for p in (0.2, 0.5, 0.9):
        out, _ = C.dropout_forward(x, {"mode": "train", "p": p, "seed": 11})
        kept = np.count_nonzero(out)
        n = x.size
        assert abs(kept - p * n) < 5 * np.sqrt(n * p * (1 - p)), (p, kept / n)
        assert np.allclose(out[out != 0], 1 / p)  # inverted: kept units scaled up


def test_dropout_seed_gives_the_same_mask_and_test_mode_is_the_identity():
    x = np.random.default_rng(51).standard_normal((5, 6))
    a, _ = C.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 2})
    b, _ = C.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 2})
    c, _ = C.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 5})
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    out, cache = C.dropout_forward(x, {"mode": "test", "p": 0.5})
    assert np.array_equal(out, x) and cache[1] is None
    assert np.array_equal(C.dropout_backward(x, cache), x)


# ---- Saito ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 2, 3)])
def test_saito_batchnorm_matches_torch(dtype, shape):
    """Per feature of the flattened rows (an image batch too), eps 1e-6 inside the sqrt."""
    rng = np.random.default_rng(60)
    D = int(np.prod(shape[1:]))
    x = draw(rng, shape, dtype, scale=2.0, shift=1.0)
    gamma, beta, dout = draw(rng, (D,), dtype), draw(rng, (D,), dtype), draw(rng, shape, dtype)
    layer = S.BatchNormalization(gamma, beta, momentum=0.8)
    out = layer.forward(x, train_flg=True)
    dx = layer.backward(dout)

    def bn(x, g, b):
        return TF.batch_norm(x.reshape(x.shape[0], -1), None, None, g, b, training=True, eps=1e-6).reshape(shape)

    expected, est = oracle(bn, [x, gamma, beta], dout)
    assert_all(["out", "dx", "dgamma", "dbeta"], [out, dx, layer.dgamma, layer.dbeta], expected, est, dtype)
    rows = x.astype(np.float64).reshape(shape[0], -1)
    assert_close("running_mean", layer.running_mean, 0.2 * rows.mean(0), 0.0, dtype)
    assert_close("running_var", layer.running_var, 0.2 * rows.var(0), 0.0, dtype)

    test_out = layer.forward(x, train_flg=False)
    rm, rv = layer.running_mean.astype(np.float64), layer.running_var.astype(np.float64)

    def bn_test(x, g, b):
        return TF.batch_norm(x.reshape(x.shape[0], -1), torch.tensor(rm, dtype=x.dtype),
                             torch.tensor(rv, dtype=x.dtype), g, b, training=False, eps=1e-6).reshape(shape)

    expected, est = oracle(bn_test, [x, gamma, beta])
    assert_close("test out", test_out, expected[0], est[0], dtype)


def test_saito_dropout_is_not_inverted_and_ratio_drops():
    np.random.seed(0)
    x = np.ones((300, 300))
    layer = S.Dropout(dropout_ratio=0.3)
    out = layer.forward(x, train_flg=True)
    n, kept = x.size, np.count_nonzero(out)
    assert abs(kept - 0.7 * n) < 5 * np.sqrt(n * 0.21)
    assert set(np.unique(out)) == {0.0, 1.0}  # kept units are not scaled at train time
    dout = np.random.default_rng(1).standard_normal(x.shape)
    assert np.array_equal(layer.backward(dout), dout * (out != 0))
    assert np.allclose(layer.forward(x, train_flg=False), 0.7)  # test time scales by the keep probability


# ---- compositions ---------------------------------------------------------------------------


def _keep_masks_from_seed(seed, shapes, p):
    """CS231n's dropout_forward reseeds numpy's global generator at every call when the param
    carries a seed, so each layer's mask is rand(shape) < p right after np.random.seed(seed)."""
    masks = []
    for shape in shapes:
        np.random.seed(seed)
        masks.append(np.random.rand(*shape) < p)
    return masks


def _torch_fcnet(params, X, y, normalization, keep_masks, p, reg, L, eps=1e-5):
    h = X.reshape(X.shape[0], -1)
    for i in range(1, L):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        if normalization == "batchnorm":
            a = TF.batch_norm(a, None, None, params[f"gamma{i}"], params[f"beta{i}"], training=True, eps=eps)
        elif normalization == "layernorm":
            a = TF.layer_norm(a, (a.shape[1],), params[f"gamma{i}"], params[f"beta{i}"], eps=eps)
        h = torch.relu(a)
        if keep_masks:
            h = h * torch.tensor(keep_masks[i - 1], dtype=h.dtype) / p
    scores = h @ params[f"W{L}"] + params[f"b{L}"]
    loss = TF.cross_entropy(scores, torch.tensor(y))
    for i in range(1, L + 1):
        loss = loss + 0.5 * reg * (params[f"W{i}"] ** 2).sum()
    return loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.7])
def test_cs231n_fc_net_matches_torch(dtype, normalization, keep):
    from reference.cs231n_fc_net import FullyConnectedNet

    rng = np.random.default_rng(70)
    N, D, hidden, C_ = 6, 5, [4, 3], 3
    net = FullyConnectedNet(hidden, input_dim=D, num_classes=C_, dropout_keep_ratio=keep,
                            normalization=normalization, reg=0.3, weight_scale=0.8, dtype=getattr(np, dtype), seed=4)
    for k in net.params:  # gamma and beta away from their identity start
        net.params[k] = net.params[k] + draw(rng, net.params[k].shape, dtype, scale=0.3)
    X, y = draw(rng, (N, D), dtype, scale=2.0), rng.integers(0, C_, N)
    loss, grads = net.loss(X, y)

    names = sorted(net.params)
    masks = _keep_masks_from_seed(4, [(N, h) for h in hidden], keep) if keep != 1 else None

    def f(*ts):
        return _torch_fcnet(dict(zip(names, ts)), X_t, y, normalization, masks, keep, 0.3, net.num_layers)

    runs = []
    for tdtype in (torch.float64, torch.float32):
        X_t = torch.tensor(X.astype(np.float64), dtype=tdtype)
        ts = [torch.tensor(net.params[k].astype(np.float64), dtype=tdtype, requires_grad=True) for k in names]
        out = f(*ts)
        out.backward()
        runs.append([out.detach().double().numpy()] + [t.grad.double().numpy() for t in ts])
    est = [float(np.linalg.norm(r - e)) for r, e in zip(runs[1], runs[0])]
    assert_all(["loss", *names], [loss, *(grads[k] for k in names)], runs[0], est, dtype)
    assert set(grads) == set(names)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cs231n_fc_net_test_mode_uses_running_statistics(dtype):
    from reference.cs231n_fc_net import FullyConnectedNet

    rng = np.random.default_rng(71)
    N, D = 5, 4
    net = FullyConnectedNet([3], input_dim=D, num_classes=2, dropout_keep_ratio=0.5, normalization="batchnorm",
                            weight_scale=1.0, dtype=getattr(np, dtype), seed=1)
    X, y = draw(rng, (N, D), dtype, shift=1.0), rng.integers(0, 2, N)
    net.loss(X, y)  # one training pass: running stats from zero with momentum 0.9
    scores = net.loss(X)  # test mode: running statistics, no dropout
    P = {k: torch.tensor(v.astype(np.float64)) for k, v in net.params.items()}
    a = torch.tensor(X.astype(np.float64)) @ P["W1"] + P["b1"]
    rm, rv = 0.1 * a.mean(0), 0.1 * a.var(0, unbiased=False)  # the course's biased running variance
    h = torch.relu(TF.batch_norm(a, rm, rv, P["gamma1"], P["beta1"], training=False, eps=1e-5))
    expected = (h @ P["W2"] + P["b2"]).numpy()
    assert_close("scores", scores, expected, 1e-6 * np.abs(expected).max(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_batchnorm,use_dropout", [(True, False), (False, True), (True, True)])
def test_saito_multi_layer_net_extend_matches_torch(dtype, use_batchnorm, use_dropout):
    rng = np.random.default_rng(80)
    N, D, hidden, C_, lam, ratio = 6, 5, [4, 4], 3, 0.2, 0.4
    net = S.MultiLayerNetExtend(D, hidden, C_, weight_decay_lambda=lam, use_dropout=use_dropout,
                                dropout_ration=ratio, use_batchnorm=use_batchnorm, seed=3, dtype=getattr(np, dtype))
    for k in net.params:
        net.params[k][...] += draw(rng, net.params[k].shape, dtype, scale=0.3)  # in place: the layers hold them
    x, t = draw(rng, (N, D), dtype, scale=2.0), rng.integers(0, C_, N)
    np.random.seed(5)
    grads = net.gradient(x, t)
    masks = [net.layers[f"Dropout{i}"].mask for i in (1, 2)] if use_dropout else None
    names = sorted(net.params)

    def f(tdtype):
        P = {k: torch.tensor(net.params[k].astype(np.float64), dtype=tdtype, requires_grad=True) for k in names}
        h = torch.tensor(x.astype(np.float64), dtype=tdtype)
        for i in (1, 2):
            a = h @ P[f"W{i}"] + P[f"b{i}"]
            if use_batchnorm:
                a = TF.batch_norm(a, None, None, P[f"gamma{i}"], P[f"beta{i}"], training=True, eps=1e-6)
            h = torch.relu(a)
            if use_dropout:
                h = h * torch.tensor(masks[i - 1], dtype=tdtype)  # not inverted
        loss = TF.cross_entropy(h @ P["W3"] + P["b3"], torch.tensor(t))
        loss = loss + sum(0.5 * lam * (P[f"W{i}"] ** 2).sum() for i in (1, 2, 3))
        loss.backward()
        return [P[k].grad.double().numpy() for k in names]

    exact, rough = f(torch.float64), f(torch.float32)
    est = [float(np.linalg.norm(r - e)) for r, e in zip(rough, exact)]
    assert set(grads) == set(names)
    assert_all(names, [grads[k] for k in names], exact, est, dtype)


# ---- deeplearning.ai course 2: L2 regularisation and dropout ---------------------------------


def _dlai_case(rng, dtype, m=7):
    dims = [3, 5, 4, 1]
    params = {}
    for l in range(1, 4):
        # moderate logits: where A3 rounds to 1 the course's cost (computed from A3) is not exact
        params[f"W{l}"] = draw(rng, (dims[l], dims[l - 1]), dtype, scale=0.6)
        params[f"b{l}"] = draw(rng, (dims[l], 1), dtype, scale=0.5)
    X = draw(rng, (dims[0], m), dtype, scale=1.5)
    Y = (rng.random((1, m)) < 0.5).astype(dtype)
    return params, X, Y


def _dlai_torch(params, X, Y, lambd=0.0, masks=None, keep_prob=1.0, tdtype=torch.float64):
    P = {k: torch.tensor(v.astype(np.float64), dtype=tdtype, requires_grad=True) for k, v in params.items()}
    A = torch.tensor(X.astype(np.float64), dtype=tdtype)
    m = X.shape[1]
    for l in (1, 2):
        A = torch.relu(P[f"W{l}"] @ A + P[f"b{l}"])
        if masks is not None:
            A = A * torch.tensor(masks[l - 1], dtype=tdtype) / keep_prob
    Z3 = P["W3"] @ A + P["b3"]
    Yt = torch.tensor(Y.astype(np.float64), dtype=tdtype)
    cost = TF.binary_cross_entropy_with_logits(Z3, Yt, reduction="sum") / m
    cost = cost + lambd / (2 * m) * sum((P[f"W{l}"] ** 2).sum() for l in (1, 2, 3))
    cost.backward()
    return float(cost.detach()), {("d" + k): P[k].grad.double().numpy() for k in P}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_dlai_regularization_matches_torch(dtype, lambd):
    from reference import dlai_regularization as R

    params, X, Y = _dlai_case(np.random.default_rng(90), dtype)
    A3, cache = R.forward_propagation(X, params)
    cost = R.compute_cost_with_regularization(A3, Y, params, lambd)
    grads = R.backward_propagation_with_regularization(X, Y, cache, lambd)
    exact_cost, exact = _dlai_torch(params, X, Y, lambd)
    rough_cost, rough = _dlai_torch(params, X, Y, lambd, tdtype=torch.float32)
    assert_close("cost", cost, exact_cost, abs(rough_cost - exact_cost), dtype)
    for k in exact:
        assert_close(k, grads[k], exact[k], float(np.linalg.norm(rough[k] - exact[k])), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keep_prob", [0.5, 0.86])
def test_dlai_dropout_matches_torch_with_the_course_masks(dtype, keep_prob):
    from reference import dlai_regularization as R

    params, X, Y = _dlai_case(np.random.default_rng(91), dtype, m=9)
    A3, cache = R.forward_propagation_with_dropout(X, params, keep_prob)
    grads = R.backward_propagation_with_dropout(X, Y, cache, keep_prob)
    # the course's masks: numpy's global generator reseeded with 1, one rand draw per hidden layer
    np.random.seed(1)
    masks = [np.random.rand(5, 9) < keep_prob, np.random.rand(4, 9) < keep_prob]
    assert np.array_equal(cache[1], masks[0]) and np.array_equal(cache[6], masks[1])
    exact_cost, exact = _dlai_torch(params, X, Y, masks=masks, keep_prob=keep_prob)
    rough_cost, rough = _dlai_torch(params, X, Y, masks=masks, keep_prob=keep_prob, tdtype=torch.float32)
    assert_close("cost", R.compute_cost(A3, Y), exact_cost, abs(rough_cost - exact_cost), dtype)
    for k in exact:
        assert_close(k, grads[k], exact[k], float(np.linalg.norm(rough[k] - exact[k])), dtype)
