"""A correct GELU or softmax layer alone is judged with the rounding its course formula carries (Phi as
0.5 (1 + erf), dx = a (dout - <dout, a>)): a 10^4-case campaign of the MyTorch reference flagged 9 GELU and
7 softmax cases at rounding level before. A 1% error still fails."""

from __future__ import annotations

import numpy as np

import reference.mytorch as mytorch
from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation
from oracles.strategies import draw_case
from reports.campaign import _fd_verdicts

CAMPAIGN_SEEDS = {"layer:GELU": (373, 1325, 4689, 5379, 5399), "layer:Softmax": (588, 919, 5984)}


def _verdicts(entry, seed, grads=None, floor=True):
    case = draw_case(styles.spec_space("mytorch", mytorch, entry), seed)
    obs = styles.run("mytorch", mytorch, case, entry)
    if grads is not None:
        obs.grads.update(grads(obs.grads))
    exp = ta.expected(case)
    if not floor:
        exp.err_est = ta._err_est(case, exp.loss, exp.grads, exp.trajectory or [], exp.state, None, exp.out)
    return list(_fd_verdicts(case, obs, directions=8, impl_err=dict(exp.err_est))) + \
        list(compare_observation(case, obs, exp))


def test_the_campaigns_rounding_level_cases_pass():
    for entry, seeds in CAMPAIGN_SEEDS.items():
        for seed in seeds:
            bad = [v.message for v in _verdicts(entry, seed) if not v.passed]
            assert not bad, (entry, seed, bad)


def test_without_the_floor_some_of_them_cried_wolf():
    assert any(not v.passed for entry, seeds in CAMPAIGN_SEEDS.items() for s in seeds
               for v in _verdicts(entry, s, floor=False))


def test_a_one_percent_error_in_dx_still_fails():
    checked = 0
    for entry in CAMPAIGN_SEEDS:
        for seed in range(6):
            case = draw_case(styles.spec_space("mytorch", mytorch, entry), seed)
            if float(np.abs(ta.expected(case).grads["x"]).max()) < 1e-6:
                continue  # a softmax over one feature: dx is 0, and 1% of it too
            vs = _verdicts(entry, seed, grads=lambda g: {"x": np.asarray(g["x"]) * 1.01})
            assert any(not v.passed for v in vs), (entry, seed)
            checked += 1
    assert checked >= 6
