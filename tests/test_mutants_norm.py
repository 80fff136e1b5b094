"""The normalisation / dropout mutants are real bugs: each one's observable behaviour (outputs,
gradients, running statistics, test-mode output) differs from its reference on an ordinary input,
while the reference itself is pinned against torch in test_reference_norm.py. (That the checks
kill and name them through the style drivers is tested with the drivers.)"""

from __future__ import annotations

import numpy as np
import pytest

from oracles.compare import compare_tensor
from reference.mutants import MUTANTS, reference_impl

_SOURCES = ("reference/cs231n_norm.py", "reference/cs231n_fc_net.py", "reference/saito_norm.py",
            "reference/dlai_regularization.py")


@pytest.fixture(scope="module")
def norm_mutants():
    """Every norm mutant: those in the zoo (their entry point has a driver) and those still PENDING."""
    from reference.mutants_norm import PENDING

    return {**{n: m for n, m in MUTANTS.items() if m.source in _SOURCES}, **PENDING}


def _inputs(seed=0, shape=(6, 4)):
    rng = np.random.default_rng(seed)
    D = shape[1]
    return (rng.standard_normal(shape) * 2 + 1, rng.standard_normal(D), rng.standard_normal(D),
            rng.standard_normal(shape), rng)


def _cs_bn(impl, backward):
    x, gamma, beta, dout, rng = _inputs()
    D = x.shape[1]
    bn = {"mode": "train", "momentum": 0.8, "running_mean": rng.standard_normal(D),
          "running_var": rng.random(D) + 0.5}
    test_bn = {**bn, "mode": "test"}
    out, cache = impl.batchnorm_forward(x, gamma, beta, bn)
    dx, dgamma, dbeta = getattr(impl, backward)(dout, cache)
    test_out, _ = impl.batchnorm_forward(x, gamma, beta, test_bn)
    return dict(out=out, dx=dx, dgamma=dgamma, dbeta=dbeta, running_mean=bn["running_mean"],
                running_var=bn["running_var"], test_out=test_out)


def _cs_layer(impl, name, x, gamma, beta, dout, *args):
    out, cache = getattr(impl, f"{name}_forward")(x, gamma, beta, *args)
    dx, dgamma, dbeta = getattr(impl, f"{name}_backward")(dout, cache)
    return dict(out=out, dx=dx, dgamma=dgamma, dbeta=dbeta)


def _cs_dropout(impl):
    x, _, _, dout, _ = _inputs(shape=(20, 30))
    out, cache = impl.dropout_forward(x, {"mode": "train", "p": 0.7, "seed": 1})
    np.random.seed(2)
    dx = impl.dropout_backward(dout, cache)
    test_out, _ = impl.dropout_forward(x, {"mode": "test", "p": 0.7})
    return dict(out=out, dx=dx, test_out=test_out)


def _cs_fc_net(impl):
    x, _, _, _, rng = _inputs(shape=(8, 5))
    net = impl.FullyConnectedNet([6, 6], input_dim=5, num_classes=3, dropout_keep_ratio=0.7, weight_scale=0.5,
                                 dtype=np.float64, seed=3)
    loss, grads = net.loss(x, rng.integers(0, 3, 8))
    return dict(loss=loss, **grads)


def _cs_fc_net_bn(impl):
    x, _, _, _, rng = _inputs(shape=(8, 5))
    net = impl.FullyConnectedNet([6, 6], input_dim=5, num_classes=3, normalization="batchnorm", weight_scale=0.5,
                                 dtype=np.float64, seed=3)
    loss, grads = net.loss(x, rng.integers(0, 3, 8))  # train: the running statistics move off zero and one
    return dict(loss=loss, **grads, scores=net.loss(x + 0.5))


def _saito_bn(impl):
    x, gamma, beta, dout, _ = _inputs()
    layer = impl.BatchNormalization(gamma, beta, momentum=0.8)
    out = layer.forward(x, train_flg=True)
    dx = layer.backward(dout)
    layer.forward(x + 1, train_flg=True)
    return dict(out=out, dx=dx, dgamma=layer.dgamma, dbeta=layer.dbeta, running_mean=layer.running_mean,
                running_var=layer.running_var, test_out=layer.forward(x, train_flg=False))


def _saito_dropout(impl):
    x, _, _, dout, _ = _inputs(shape=(20, 30))
    layer = impl.Dropout(0.4)
    np.random.seed(1)
    out = layer.forward(x, train_flg=True)
    dx = layer.backward(dout)
    return dict(out=out, dx=dx, test_out=layer.forward(x, train_flg=False))


def _saito_net(impl):
    x, _, _, _, rng = _inputs(shape=(8, 5))
    net = impl.MultiLayerNetExtend(5, [6, 6], 3, use_dropout=True, dropout_ration=0.3, use_batchnorm=True, seed=2)
    np.random.seed(3)
    grads = net.gradient(x, rng.integers(0, 3, 8))
    return dict(**grads, scores=net.predict(x + 0.5, train_flg=False))


def _dlai(impl, entry):
    rng = np.random.default_rng(5)
    params = {}
    dims = [3, 5, 4, 1]
    for l in range(1, 4):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) * 0.7
        params[f"b{l}"] = rng.standard_normal((dims[l], 1)) * 0.3
    X, Y = rng.standard_normal((3, 10)), (rng.random((1, 10)) < 0.5).astype(float)
    if entry == "dropout":
        A3, cache = impl.forward_propagation_with_dropout(X, params, 0.7)
        return dict(A3=A3, **impl.backward_propagation_with_dropout(X, Y, cache, 0.7))
    A3, cache = impl.forward_propagation(X, params)
    return dict(cost=impl.compute_cost_with_regularization(A3, Y, params, 0.6),
                **impl.backward_propagation_with_regularization(X, Y, cache, 0.6))


def observe(impl, entry):
    x, gamma, beta, dout, rng = _inputs()
    images = rng.standard_normal((3, 4, 2, 3)) * 2 + 1
    dimg = rng.standard_normal(images.shape)
    g4, b4 = rng.standard_normal((1, 4, 1, 1)), rng.standard_normal((1, 4, 1, 1))
    table = {
        "fn:batchnorm": lambda: _cs_bn(impl, "batchnorm_backward"),
        "fn:batchnorm_alt": lambda: _cs_bn(impl, "batchnorm_backward_alt"),
        "fn:layernorm": lambda: _cs_layer(impl, "layernorm", x, gamma, beta, dout, {}),
        "fn:spatial_batchnorm": lambda: _cs_layer(impl, "spatial_batchnorm", images, g4.ravel(), b4.ravel(), dimg,
                                                  {"mode": "train"}),
        "fn:spatial_groupnorm": lambda: _cs_layer(impl, "spatial_groupnorm", images, g4, b4, dimg, 2, {}),
        "fn:dropout": lambda: _cs_dropout(impl),
        "FullyConnectedNet[dropout]": lambda: _cs_fc_net(impl),
        "FullyConnectedNet[batchnorm]": lambda: _cs_fc_net_bn(impl),
        "BatchNormalization": lambda: _saito_bn(impl),
        "Dropout": lambda: _saito_dropout(impl),
        "MultiLayerNetExtend": lambda: _saito_net(impl),
        "MultiLayerNetExtend[dropout]": lambda: _saito_net(impl),  # _saito_net runs with use_dropout=True
        "dropout": lambda: _dlai(impl, "dropout"),
        "regularization": lambda: _dlai(impl, "regularization"),
    }
    return table[entry]()


def test_there_are_enough_norm_mutants_with_new_bug_classes(norm_mutants):
    assert len(norm_mutants) >= 14
    assert {m.style for m in norm_mutants.values()} == {"cs231n", "saito", "dlai"}
    assert len({m.bug_class for m in norm_mutants.values()}) >= 10


def test_every_norm_mutant_behaves_differently_from_its_reference(norm_mutants):
    same = []
    for name, m in sorted(norm_mutants.items()):
        got, want = observe(m.impl, m.entry), observe(reference_impl(m.source), m.entry)
        assert set(got) == set(want), name
        verdicts = [compare_tensor(k, got[k], want[k], oracle="impl") for k in sorted(want)]
        if all(v.passed for v in verdicts):
            same.append(name)
    assert not same, f"mutants indistinguishable from their reference: {same}"


def test_the_check_above_can_fail(norm_mutants):
    """The references observed twice agree (the seeds make every draw repeat)."""
    for source, entry in {(m.source, m.entry) for m in norm_mutants.values()}:
        a, b = observe(reference_impl(source), entry), observe(reference_impl(source), entry)
        for k in a:
            assert compare_tensor(k, a[k], b[k], oracle="impl").passed, (source, entry, k)
