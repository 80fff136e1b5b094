"""FullyConnectedNet's options across the handout years, and the ones bpcheck does not drive, said.

Real files (docs/real-world/layers.tsv, CS231n fc_net.py 2017-2020): the driver knew only 2020's
normalization= / dropout_keep_ratio=. A 2017 net (use_batchnorm=True) or a 2019 net (dropout=keep) had those
paths skipped in silence; a net whose batchnorm crashed in loss() was skipped too, because its gamma was not
named gamma1 on a one-hidden-layer probe; a layernorm left 'todo' read PASS with nothing said."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation, failures
from oracles.strategies import draw_case
from oracles.styles import cs231n_layers_fcnet as fcnet
from reference import cs231n_fc_net as FC
from reference.mutants import clone_module
from reports.validate_coverage import Coverage, build_coverage

Base = FC.FullyConnectedNet


class Net2019(Base):
    """2018-2019: dropout is the keep probability, 1 = none."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        super().__init__(hidden_dims, input_dim=input_dim, num_classes=num_classes, dropout_keep_ratio=dropout,
                         normalization=normalization, reg=reg, weight_scale=weight_scale, dtype=dtype, seed=seed)


class Net2017(Base):
    """2016-2017: use_batchnorm=True; dropout is a strength with 0 = none."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout=0, use_batchnorm=False, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        super().__init__(hidden_dims, input_dim=input_dim, num_classes=num_classes, dropout_keep_ratio=1 - dropout,
                         normalization="batchnorm" if use_batchnorm else None, reg=reg, weight_scale=weight_scale,
                         dtype=dtype, seed=seed)


class LayernormTodo(Base):
    """layernorm accepted but never built (a real file prints 'todo')."""

    def __init__(self, hidden_dims, *args, normalization=None, **kw):
        super().__init__(hidden_dims, *args, normalization=normalization, **kw)
        if normalization == "layernorm":
            self.params = {k: v for k, v in self.params.items() if not k.startswith(("gamma", "beta"))}
            self.normalization = None


class BatchnormCrashes(Base):
    """batchnorm's parameters built, its loss path broken (a real file: KeyError in loss())."""

    def loss(self, X, y=None):
        if self.normalization == "batchnorm":
            return self.bn_params[len(self.bn_params)]["mode"]  # IndexError on every call
        return super().loss(X, y)


def _impl(cls):
    return clone_module(FC, {"FullyConnectedNet": cls})


def _bad(impl, entry, n=6):
    space = styles.spec_space("cs231n", impl, entry)
    out = {}
    for i in range(n):
        case = draw_case(space, i, dtype="float64")
        obs = styles.run("cs231n", impl, case, entry)
        for v in failures(compare_observation(case, obs, ta.expected(case, given=obs.aux))):
            out[v.check] = out.get(v.check, 0) + 1
    return out


@pytest.mark.parametrize("cls, entry", [(Net2019, "FullyConnectedNet[dropout]"),
                                        (Net2017, "FullyConnectedNet[batchnorm]")])
def test_older_apis_are_driven_and_a_correct_net_passes(cls, entry):
    impl = _impl(cls)
    assert entry in styles.entry_points("cs231n", impl)
    assert _bad(impl, entry) == {}


def test_the_2017_dropout_strength_is_listed_as_not_driven():
    declined = fcnet.declined_options(_impl(Net2017))
    assert list(declined) == ["FullyConnectedNet(dropout=...)"], declined


def test_an_unbuilt_option_is_listed_not_checked_and_a_crashing_one_fails():
    todo = _impl(LayernormTodo)
    assert "FullyConnectedNet[layernorm]" not in styles.entry_points("cs231n", todo)
    declined = fcnet.declined_options(todo)
    assert "not implemented" in declined["FullyConnectedNet(normalization='layernorm')"]
    crashes = _impl(BatchnormCrashes)
    assert "FullyConnectedNet[batchnorm]" in styles.entry_points("cs231n", crashes)
    assert _bad(crashes, "FullyConnectedNet[batchnorm]", n=2).get("loss")
    assert fcnet.declined_options(_impl(Base)) == {}


def test_a_declined_option_shows_in_the_headline(tmp_path):
    f = tmp_path / "fc_net.py"
    f.write_text("class FullyConnectedNet:\n    def loss(self, X, y=None):\n        pass\n")
    cov = build_coverage(f, {"FullyConnectedNet.loss"}, {"FullyConnectedNet(normalization='layernorm')": "why"})
    assert isinstance(cov, Coverage) and not cov.complete
    assert "not checked: FullyConnectedNet(normalization='layernorm')" in cov.headline()
