"""The FD screen of a layer Spec in float32 allows the rounding a correct float32 implementation carries
(the torch oracle's measured estimate): batchnorm's dx cancels far beyond float32's epsilon, and a 10^4-case
float32 campaign of the CS231n reference found 126 false alarms before. A 1% error still fails."""

from __future__ import annotations

import numpy as np

from oracles import finite_diff, styles
from oracles import torch_autograd as ta
from oracles.strategies import draw_case
from reference import cs231n_norm

SEED = 43  # a float32 batchnorm Case whose correct dx differs from FD by more than float32's epsilon allows


def _case_and_grads():
    space = styles.spec_space("cs231n", cs231n_norm, "fn:batchnorm")
    case = draw_case(space, SEED).with_spec(dtype="float32")
    obs = styles.run("cs231n", cs231n_norm, case, "fn:batchnorm")
    assert not obs.errors, obs.errors
    return case, dict(obs.grads), obs.aux or None


def test_without_the_implementations_rounding_the_screen_cries_wolf():
    case, grads, aux = _case_and_grads()
    res = finite_diff.screen(case, grads, seed=case.seed, given=aux)
    assert any(r.status == "fail" for r in res.values()), "the pinned Case no longer needs the estimate"


def test_with_it_a_correct_float32_batchnorm_passes_and_a_one_percent_error_fails():
    case, grads, aux = _case_and_grads()
    impl_err = ta.expected(case, given=aux).err_est
    res = finite_diff.screen(case, grads, seed=case.seed, given=aux, impl_err=impl_err)
    assert all(r.status == "pass" for r in res.values()), {k: r.status for k, r in res.items()}
    wrong = dict(grads)
    wrong["beta1"] = np.array(grads["beta1"], copy=True)
    wrong["beta1"].flat[0] *= 1.01
    res = finite_diff.screen(case, wrong, seed=case.seed, given=aux, impl_err=impl_err)
    assert res["beta1"].status == "fail"
