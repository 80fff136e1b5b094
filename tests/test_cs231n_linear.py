"""CS231n assignment 1's linear classifiers (oracles/styles/cs231n_linear.py, oracles/layers/linear.py,
oracles/diagnose/linear.py): the kind's forward, the L2 convention probe, entry points, and the diagnosis of
the SVM's correct-class column; expected values are hand-derived."""

from __future__ import annotations

import types

import numpy as np
import pytest

from oracles.layers import kind
from oracles.styles import cs231n_linear as L
from reference import cs231n_linear as R


def test_linear_kind_is_x_times_w_transposed_without_bias():
    x = np.array([[1.0, 2.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (C, D): three classes
    assert kind("linear").numpy(x, {"W": W}, {"out": 3}, None).tolist() == [[1.0, 2.0, 3.0]]
    assert [p.name for p in kind("linear").params] == ["W"] and kind("linear").params[0].regularised


def _year2016(fn):
    def f(W, X, y, reg):
        loss, dW = fn(W, X, y, 0.0)
        return loss + 0.5 * reg * np.sum(W * W), dW + reg * W
    return f


@pytest.mark.parametrize("name", L.ENTRIES)
def test_probe_reads_each_handout_year(name):
    fn, loss = getattr(R, name), L._LOSS[name]
    f, g = L.reg_factor(fn, loss, 4, 3, 5, np.float64)
    assert f == pytest.approx(1.0, rel=1e-12) and g == pytest.approx(2.0, rel=1e-12)
    f, g = L.reg_factor(_year2016(fn), loss, 4, 3, 5, np.float64)
    assert f == pytest.approx(0.5, rel=1e-12) and g == pytest.approx(1.0, rel=1e-12)


def test_year_from_loss_then_gradient_then_default():
    assert L._year(1.0, 1.0, np.float64)[0] == 1.0  # the loss decides; dW's half L2 is the file's bug
    assert L._year(0.5, 1.0, np.float64)[0] == 0.5
    c, why = L._year(0.0, 1.0, np.float64)  # no L2 in the loss: dW's reg * W is the 2016 year
    assert c == 0.5 and "dW" in why
    c, why = L._year(0.0, 0.0, np.float64)
    assert c == 1.0 and "neither" in why
    c, why = L._year(None, None, np.float64)
    assert c == 1.0 and "neither" in why


def test_entries_are_the_functions_the_file_defines():
    mod = types.SimpleNamespace(svm_loss_naive=R.svm_loss_naive, softmax_loss_vectorized=R.softmax_loss_vectorized)
    assert L.entry_points(mod) == ["softmax_loss_vectorized", "svm_loss_naive"]


def test_reg_passed_so_the_file_and_the_oracle_agree():
    """A 2016 file gets spec.reg, a 2017 file spec.reg / 2: both then add 0.5 * spec.reg * sum W^2."""
    from oracles import torch_autograd
    from oracles.strategies import draw_case

    space = L.spec_space(R, "svm_loss_vectorized")
    case = draw_case(space, 3).with_spec(reg=0.2)
    want = torch_autograd.expected(case, estimate=False)
    for impl in (R, types.SimpleNamespace(svm_loss_vectorized=_year2016(R.svm_loss_vectorized))):
        obs = L.run(impl, case, "svm_loss_vectorized")
        assert obs.loss == pytest.approx(want.loss, rel=1e-12)
        np.testing.assert_allclose(obs.grads["W1"], want.grads["W1"], rtol=1e-10, atol=1e-12)


def _svm_correct_column(extra: int):
    """The hinge's dW with the correct class column given -(count + extra) * X_i (hand-written loops)."""
    def f(W, X, y, reg):
        dW = np.zeros_like(W)
        for i in range(X.shape[0]):
            s = X[i] @ W
            count = 0
            for j in range(W.shape[1]):
                if j != y[i] and s[j] - s[y[i]] + 1 > 0:
                    dW[:, j] += X[i]
                    count += 1
            dW[:, y[i]] -= (count + extra) * X[i]
        return R.svm_loss_naive(W, X, y, reg)[0], dW / X.shape[0] + 2 * reg * W
    return f


@pytest.mark.parametrize("extra,named", [(0, None), (1, "svm_correct_class")])
def test_svm_correct_column_named(extra, named):
    """The right column (count) passes undiagnosed; count + 1 (the own margin counted) is named."""
    from oracles import torch_autograd
    from oracles.compare import compare_observation
    from oracles.diagnose import diagnose
    from oracles.strategies import draw_case

    space = L.spec_space(R, "svm_loss_naive")
    impl = types.SimpleNamespace(svm_loss_naive=_svm_correct_column(extra))
    case = draw_case(space, 11, max_batch=8)
    obs, want = L.run(impl, case, "svm_loss_naive"), torch_autograd.expected(case)
    verdicts = compare_observation(case, obs, want)
    classes = [d.bug_class for d in diagnose(case, verdicts, obs, want)]
    assert classes == ([] if named is None else classes[:0] + [named] + classes[1:])
    if named:
        assert classes[0] == named


def test_svm_column_never_moved_named():
    from oracles import torch_autograd
    from oracles.compare import compare_observation
    from oracles.diagnose import diagnose
    from oracles.strategies import draw_case
    from reference.mutants import MUTANTS

    impl = MUTANTS["cs231n_svm_naive_correct_class_not_pushed"].impl
    case = draw_case(L.spec_space(R, "svm_loss_naive"), 11, max_batch=8).with_spec(reg=0.05)
    obs, want = L.run(impl, case, "svm_loss_naive"), torch_autograd.expected(case)
    ds = diagnose(case, compare_observation(case, obs, want), obs, want)
    assert ds and ds[0].bug_class == "svm_correct_class" and "never" in ds[0].message
