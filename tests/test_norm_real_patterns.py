"""Three normalisation/dropout bugs first seen in real CS231n assignment-2 files (docs/real-world/layers.tsv,
rows cs231n-153079019shariq2017-layers and cs231n-1602077-layers), each named, each written here as our own
variant of the reference (reference/cs231n_norm.py), and none of them fired on the reference itself:

* batchnorm's train-mode forward dividing by sqrt(var) + eps (``norm_eps_outside``): a 3e-6 relative output
  error, so only a float64 check sees it;
* running_var taking in var + eps (std ** 2 with std = sqrt(var + eps)) (``running_var_eps``): off by
  (1 - momentum) eps;
* a dropout mask drawn as np.random.randn(...) < p (``dropout_mask_normal``): p = 0.5 keeps Phi(0.5) = 69%."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation
from oracles.diagnose import diagnose
from oracles.keep_rate import read_dropout
from oracles.strategies import draw_case
from reference import cs231n_norm as R
from reference.mutants import clone_module


def _variant(**over):
    m = clone_module(R)
    for k, v in over.items():
        setattr(m, k, v)
    return m


def _classes(impl, entry: str, n: int = 8) -> tuple[set[str], int]:
    """(bug classes named over n float64 Cases, how many Cases failed)."""
    space = styles.spec_space("cs231n", impl, entry)
    named, failed = set(), 0
    for i in range(n):
        case = draw_case(space, i, dtype="float64")
        obs = styles.run("cs231n", impl, case, entry)
        exp = ta.expected(case, given=obs.aux)
        verdicts = compare_observation(case, obs, exp)
        if any(not v.passed for v in verdicts):
            failed += 1
            named |= {d.bug_class for d in diagnose(case, verdicts, obs, exp)}
    return named, failed


def _bn_forward(bug: str):
    """A student's batchnorm_forward with one of the two real bugs (``eps_outside`` or ``running_var_eps``)."""

    def batchnorm_forward(x, gamma, beta, bn_param):
        mode, eps, momentum = bn_param["mode"], bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
        D = x.shape[1]
        rm = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        rv = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
        if mode == "train":
            mu = x.mean(axis=0)
            var = ((x - mu) ** 2).mean(axis=0)
            std = np.sqrt(var) + eps if bug == "eps_outside" else np.sqrt(var + eps)
            xhat = (x - mu) / std
            out, cache = gamma * xhat + beta, (xhat, x - mu, std, gamma)
            rm = momentum * rm + (1 - momentum) * mu
            rv = momentum * rv + (1 - momentum) * (std ** 2 if bug == "running_var_eps" else var)
        else:
            out, cache = gamma * (x - rm) / np.sqrt(rv + eps) + beta, None
        bn_param["running_mean"], bn_param["running_var"] = rm, rv
        return out, cache

    return batchnorm_forward


def _dropout_randn(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.randn(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def test_batchnorm_dividing_by_sqrt_var_plus_eps_is_named():
    named, failed = _classes(_variant(batchnorm_forward=_bn_forward("eps_outside")), "fn:batchnorm")
    assert failed and "norm_eps_outside" in named, named


def test_running_var_with_eps_is_named():
    named, failed = _classes(_variant(batchnorm_forward=_bn_forward("running_var_eps")), "fn:batchnorm")
    assert failed and "running_var_eps" in named, named


@pytest.mark.parametrize("entry", ["fn:batchnorm", "fn:layernorm", "fn:spatial_batchnorm"])
def test_the_reference_gets_none_of_them(entry):
    # (it passes: no diagnosis runs at all; the hypotheses must not fit the correct values either)
    assert _classes(R, entry) == (set(), 0)


def test_a_randn_mask_reads_as_phi_of_p_and_is_named():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 100)) + 3.0
    np.random.seed(1)
    out, _ = _dropout_randn(x, {"p": 0.5, "mode": "train"})
    r = read_dropout(x, out, 0.5)
    assert r.meaning == "neither" and "np.random.randn" in r.describe()
    np.random.seed(1)
    good, _ = R.dropout_forward(x, {"p": 0.5, "mode": "train"})
    assert "randn" not in read_dropout(x, good, 0.5).describe()
    named, failed = _classes(_variant(dropout_forward=_dropout_randn), "fn:dropout", n=4)
    assert failed and "dropout_mask_normal" in named and "dropout_p_flipped" not in named, named
