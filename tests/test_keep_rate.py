"""The dropout reading: exact binomial p-values, which meaning of p a layer uses, its scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oracles.keep_rate import ALPHA, binomial_pvalue, keep_from, read_dropout
from reference import cs231n_norm, saito_norm


@pytest.mark.parametrize("k,n,p,expected", [
    (5, 10, 0.5, 1.0),
    (0, 10, 0.5, 2 / 1024),           # both tails: 0 and 10
    (9, 10, 0.5, 2 * 11 / 1024),      # 0, 1, 9, 10
    (3, 3, 1.0, 1.0),
    (2, 3, 1.0, 0.0),
    (0, 4, 0.0, 1.0),
    (1, 1, 0.25, 0.25),               # outcome 1 (0.25) is the less likely one
])
def test_binomial_pvalue_by_hand(k, n, p, expected):
    assert math.isclose(binomial_pvalue(k, n, p), expected, rel_tol=1e-9, abs_tol=1e-15)


def test_binomial_pvalue_asymmetric_tail():
    """n = 4, p = 0.1, k = 2: pmf(2) = 6 * .01 * .81 = .0486; no likelier: k = 2, 3, 4."""
    tail = 6 * 0.01 * 0.81 + 4 * 0.001 * 0.9 + 0.0001
    assert math.isclose(binomial_pvalue(2, 4, 0.1), tail, rel_tol=1e-9)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        binomial_pvalue(5, 4, 0.1)


def test_keep_from_the_mask_or_from_the_output():
    x = np.array([[1.0, 0.0, 2.0], [3.0, -1.0, 0.5]])
    out = np.array([[2.0, 0.0, 0.0], [6.0, -2.0, 0.0]])
    keep, known = keep_from(x, out)
    assert known.tolist() == [[True, False, True], [True, True, True]]
    assert keep.tolist() == [[True, False, False], [True, True, False]]
    keep, known = keep_from(x, out, mask=np.array([[2.0, 2.0, 0.0], [2.0, 2.0, 0.0]]))
    assert known.all() and keep.tolist() == [[True, True, False], [True, True, False]]


@pytest.mark.parametrize("p", [0.1, 0.3, 0.45, 0.7])
def test_cs231n_dropout_reads_as_keep_and_inverted(p):
    x = np.random.default_rng(0).uniform(0.5, 2.0, (100, 100))
    out, cache = cs231n_norm.dropout_forward(x, {"mode": "train", "p": p, "seed": 4})
    for mask in (cache[1], None):
        r = read_dropout(x, out, p, mask)
        assert r.meaning == "keep" and r.inverted is True, r.describe()
        assert math.isclose(r.keep_probability, p)


def test_saito_dropout_reads_as_drop_and_not_inverted():
    np.random.seed(1)
    x = np.random.default_rng(1).uniform(0.5, 2.0, (100, 100))
    layer = saito_norm.Dropout(0.3)
    out = layer.forward(x, train_flg=True)
    r = read_dropout(x, out, 0.3, layer.mask)
    assert r.meaning == "drop" and r.inverted is False and math.isclose(r.keep_probability, 0.7), r.describe()


def test_mixed_conventions_are_neither_inverted_nor_plain():
    """Keeps with 1 - p but scales by 1/p (a bug seen in real files): the expectation is off."""
    rng = np.random.default_rng(2)
    x, p = rng.uniform(0.5, 2.0, (100, 100)), 0.3
    out = x * (rng.random(x.shape) >= p) / p
    r = read_dropout(x, out, p)
    assert r.meaning == "drop" and r.inverted is None


def test_a_rate_that_fits_neither_and_p_half_fits_either():
    rng = np.random.default_rng(3)
    x = np.ones((100, 100))
    assert read_dropout(x, x * (rng.random(x.shape) < 0.5), 0.3).meaning == "neither"
    assert read_dropout(x, x * (rng.random(x.shape) < 0.5), 0.5).meaning == "either"


def test_no_false_alarm_over_many_draws():
    """A correct layer is never read as anything else: 300 draws of 10^4 units at several p."""
    rng = np.random.default_rng(4)
    x = np.ones((100, 100))
    for i in range(300):
        p = (0.1, 0.25, 0.4, 0.6, 0.75, 0.9)[i % 6]
        r = read_dropout(x, x * (rng.random(x.shape) < p) / p, p)
        assert r.meaning == "keep", (i, r.describe())
        assert r.p_value_keep >= ALPHA


@pytest.mark.parametrize("doc,meaning", [
    ("- p: Dropout parameter. We keep each neuron output with probability p.", "keep"),
    ("- p: Dropout parameter. We drop each neuron output with probability p.", "drop"),
    ("Here, p is the probability of keeping a neuron output, as opposed to the probability of dropping", "keep"),
    ("Performs the forward pass for (inverted) dropout.", None),
    (None, None),
])
def test_declared_meaning_from_the_docstring(doc, meaning):
    from oracles.keep_rate import declared_meaning

    assert declared_meaning(doc) == meaning


def test_a_mask_that_keeps_every_unit_is_said_so():
    # mask = np.random.rand(...) < p / p (a held-out real file): p / p = 1, every unit kept and unscaled
    x = np.random.default_rng(0).standard_normal((100, 100)) + 3.0
    r = read_dropout(x, x.copy(), 0.3)
    assert r.meaning == "neither" and "every unit was kept" in r.describe(), r.describe()
    r = read_dropout(x, np.zeros_like(x), 0.3)
    assert r.meaning == "neither" and "no unit was kept" in r.describe(), r.describe()
    good = read_dropout(x, x * (np.random.default_rng(1).random(x.shape) < 0.3) / 0.3, 0.3)
    assert good.meaning == "keep" and "every unit" not in good.describe()
