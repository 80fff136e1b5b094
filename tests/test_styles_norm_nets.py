"""Compositions with normalisation and dropout driven unmodified: CS231n's FullyConnectedNet with
normalization / dropout_keep_ratio, and deeplearning.ai course 2's regularisation and dropout model."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation, failures
from oracles.strategies import draw_case
from reference import cs231n_fc_net as FC
from reference import dlai_regularization as DL
from reference.mutants import MUTANTS


def _failing(style, impl, entry, n=12, reg=None):
    space = styles.spec_space(style, impl, entry)
    bad: dict[str, int] = {}
    checks: set[str] = set()
    for i in range(n):
        case = draw_case(space, i, dtype="float64" if i % 2 else "float32")
        if reg is not None and i % 2:
            case = case.with_spec(reg=reg)
        obs = styles.run(style, impl, case, entry)
        vs = compare_observation(case, obs, ta.expected(case, given=obs.aux))
        checks |= {v.check for v in vs}
        for v in failures(vs):
            bad[v.check] = bad.get(v.check, 0) + 1
    return bad, checks


@pytest.mark.parametrize("entry,want", [("FullyConnectedNet[batchnorm]", {"grad_param", "state"}),
                                        ("FullyConnectedNet[layernorm]", {"grad_param"}),
                                        ("FullyConnectedNet[dropout]", {"grad_W"})])
def test_the_reference_net_passes_with_normalisation_and_dropout(entry, want):
    assert entry in styles.entry_points("cs231n", FC)
    bad, checks = _failing("cs231n", FC, entry, reg=0.05)
    assert bad == {} and want <= checks


@pytest.mark.parametrize("entry", ["regularization", "dropout"])
def test_the_dlai_course2_model_passes(entry):
    assert styles.detect(DL.__all__)[0] == "dlai" and entry in styles.entry_points("dlai", DL)
    bad, checks = _failing("dlai", DL, entry, reg=0.05 if entry == "regularization" else None)
    assert bad == {} and {"loss", "grad_W", "grad_b"} <= checks


def test_the_net_reads_the_masks_its_dropout_drew():
    space = styles.spec_space("cs231n", FC, "FullyConnectedNet[dropout]")
    case = draw_case(space, 3)
    obs = styles.run("cs231n", FC, case, "FullyConnectedNet[dropout]")
    assert set(obs.aux) == set(case.spec.aux_names())
    ones = {k: np.ones_like(v) for k, v in obs.aux.items()}
    # with the wrong masks the oracle disagrees: the masks it was given are the ones that were used
    assert not failures(compare_observation(case, obs, ta.expected(case, given=obs.aux)))
    if any((v == 0).any() for v in obs.aux.values()):
        assert failures(compare_observation(case, obs, ta.expected(case, given=ones)))


@pytest.mark.parametrize("name", ["cs231n_fc_net_dropout_p_as_drop", "dlai_dropout_threshold_flipped",
                                  "dlai_dropout_backward_no_mask"])
def test_net_level_dropout_bugs_fail(name):
    m = MUTANTS[name]
    bad, _ = _failing(m.style, m.impl, m.entry)
    assert bad, name
