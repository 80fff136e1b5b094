"""Saito's BatchNormalization and Dropout classes driven unmodified (oracles/styles/saito_layers_norm.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation, failures
from oracles.strategies import draw_case
from reference import saito_norm as R
from reference.mutants import clone_module


def _failing(impl, entry: str, n: int = 16) -> dict[str, int]:
    space = styles.spec_space("saito", impl, entry)
    bad: dict[str, int] = {}
    for i in range(n):
        case = draw_case(space, i, dtype="float64" if i % 2 else "float32")
        obs = styles.run("saito", impl, case, entry)
        for v in failures(compare_observation(case, obs, ta.expected(case, given=obs.aux))):
            bad[v.check] = bad.get(v.check, 0) + 1
    return bad


def test_the_book_layers_are_detected_and_pass():
    assert styles.detect(R.__all__ + ["BatchNormalization.backward", "Dropout.backward"])[0] == "saito"
    assert [e for e in styles.entry_points("saito", R) if e in ("BatchNormalization", "Dropout")] == [
        "BatchNormalization", "Dropout"]
    for entry in ("BatchNormalization", "Dropout"):
        assert _failing(R, entry, 24) == {}
    fixed = styles.spec_space("saito", R, "Dropout").fixed
    assert ("dropout", "p_means", "drop") in fixed and ("dropout", "scaling", "at_test") in fixed
    assert ("batchnorm", "eps", 1e-6) in styles.spec_space("saito", R, "BatchNormalization").fixed


class _Eps5(R.BatchNormalization):
    def forward(self, x, train_flg=True):
        old = R.EPS
        try:
            R.EPS = 1e-5
            return super().forward(x, train_flg)
        finally:
            R.EPS = old


class _Inverted(R.Dropout):
    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask / (1.0 - self.dropout_ratio)
        return x

    def backward(self, dout):
        return dout * self.mask / (1.0 - self.dropout_ratio)


class _KeepsWithRatio(R.Dropout):
    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) < self.dropout_ratio  # keeps with the DROP ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)


@pytest.mark.parametrize("cls,entry,want", [(_Eps5, "BatchNormalization", ("batchnorm", "eps", 1e-5)),
                                            (_Inverted, "Dropout", ("dropout", "scaling", "inverted"))])
def test_another_eps_or_inverted_dropout_is_read_and_passes(cls, entry, want):
    impl = clone_module(R, {cls.__mro__[1].__name__: cls})
    assert want in styles.spec_space("saito", impl, entry).fixed
    assert _failing(impl, entry) == {}


def test_a_dropout_keeping_with_the_drop_ratio_fails_output():
    impl = clone_module(R, {"Dropout": _KeepsWithRatio})
    assert set(_failing(impl, "Dropout")) == {"output"}


def test_multilayernetextend_with_batchnorm_passes_and_its_test_mode_is_judged():
    entry = "MultiLayerNetExtend"
    assert entry in styles.entry_points("saito", R)
    space = styles.spec_space("saito", R, entry)
    seen: set[str] = set()
    for i in range(16):
        case = draw_case(space, i, dtype="float64" if i % 2 else "float32")
        case = case.with_spec(reg=0.05) if i % 3 == 0 else case
        obs = styles.run("saito", R, case, entry)
        vs = compare_observation(case, obs, ta.expected(case))
        assert not failures(vs), [v.message for v in failures(vs)]
        seen |= {v.check for v in vs}
    assert {"output", "grad_W", "grad_param", "state"} <= seen


def test_multilayernetextend_lists_the_activation_it_does_not_drive():
    """The book's MultiLayerNetExtend offers activation='sigmoid'; every Case runs relu, so the option is named
    as not checked (with why) in every run, and a net without the option lists nothing."""
    case = draw_case(styles.spec_space("saito", R, "MultiLayerNetExtend"), 0)
    obs = styles.run("saito", R, case, "MultiLayerNetExtend")
    assert set(obs.not_checked) == {"MultiLayerNetExtend(activation='sigmoid')"}, obs.not_checked
    assert "relu" in obs.not_checked["MultiLayerNetExtend(activation='sigmoid')"]

    class ReluOnly(R.MultiLayerNetExtend):
        def __init__(self, input_size, hidden_size_list, output_size, weight_decay_lambda=0, use_dropout=False,
                     dropout_ration=0.5, use_batchnorm=False, seed=0):
            super().__init__(input_size, hidden_size_list, output_size, weight_decay_lambda=weight_decay_lambda,
                             use_dropout=use_dropout, dropout_ration=dropout_ration, use_batchnorm=use_batchnorm,
                             seed=seed)

    impl = clone_module(R, {"MultiLayerNetExtend": ReluOnly})
    assert styles.run("saito", impl, case, "MultiLayerNetExtend").not_checked == {}
