"""deeplearning.ai's dropout network: the masks D1, D2 are read back from the cache. When every unit of the
first hidden layer is dropped (or dead), the post-dropout A1 is an all-zero array of D2's shape, so it was read
as D2: 11 of 10^4 campaign cases of the reference failed (loss 0.693 vs 0.854). Integer and boolean arrays,
and a dict's mask-named keys, are now taken first."""

from __future__ import annotations

import numpy as np

from oracles.styles.dlai_layers_norm import _masks
from reports.campaign import CampaignConfig, evaluate_case, parse_subjects
from reports.campaign_case import _draw

SUBJECT = "dlai:reference.dlai_regularization[dropout]"
CAMPAIGN_CASES = (2367, 3585, 3743, 6453, 9196)  # widths 1, 2, 3: the first hidden layer all zero


def test_the_campaigns_whole_layer_dropped_cases_pass():
    subject = parse_subjects(SUBJECT)[0]
    config = CampaignConfig()
    for i in CAMPAIGN_CASES:
        out = evaluate_case(subject, _draw(subject, i, config), config)
        bad = [(o, v.get("tensor")) for o, vs in out.items() for v in vs if v.get("status") not in ("pass", "nondiff")]
        assert not bad, (i, bad)


def _course_cache(d1, a1, d2, a2):
    z = np.full((2, 3), 0.37)
    return (z, d1, a1, "W1", "b1", z, d2, a2, "W2", "b2", z, z, "W3", "b3")


def test_an_all_zero_activation_is_not_taken_for_the_next_mask():
    d1 = np.zeros((2, 3), dtype=int)
    d2 = np.array([[1, 0, 1], [1, 1, 0]])
    a1 = np.zeros((2, 3))  # everything dropped: a float 0/1 array of D2's shape
    a2 = d2 * 2.5
    got = _masks(_course_cache(d1, a1, d2, a2), [(2, 3), (2, 3)])
    assert got[0] is d1 and got[1] is d2


def test_boolean_masks_and_dict_caches():
    d1 = np.array([[True, False, True], [False, True, True]])
    d2 = np.array([[False, True, True], [True, True, False]])
    assert [m is d for m, d in zip(_masks(_course_cache(d1, np.zeros((2, 3)), d2, np.ones((2, 3))),
                                         [(2, 3), (2, 3)]), (d1, d2))] == [True, True]
    f1, f2 = d1.astype(float), d2.astype(float)  # float masks: a dict's names decide
    cache = {"A1": np.zeros((2, 3)), "A2": np.zeros((2, 3)), "D1": f1, "D2": f2}
    got = _masks(cache, [(2, 3), (2, 3)])
    assert got[0] is f1 and got[1] is f2


def test_a_sigmoid_output_near_its_target_is_judged_with_the_rounding_of_a_minus_y():
    """Case 7274 (batch 1): A3 rounds next to Y, so the course's dZ3 = A3 - Y carries eps-level error that a
    2.6e-11 relative difference in every gradient showed; the floor at the sigmoid's input covers it, and a 1%
    error in one bias still fails."""
    from oracles import styles
    from oracles import torch_autograd as ta
    from oracles.compare import compare_observation

    subject = parse_subjects(SUBJECT)[0]
    config = CampaignConfig()
    case = _draw(subject, 7274, config)
    out = evaluate_case(subject, case, config)
    assert not [v for vs in out.values() for v in vs if v.get("status") not in ("pass", "nondiff")]
    obs = styles.run(subject.style, subject.impl, case, subject.entry)
    exp = ta.expected(case, given=obs.aux or None)
    assert all(v.passed for v in compare_observation(case, obs, exp))
    key = max((k for k in obs.grads if k.startswith("b")), key=lambda k: float(np.abs(obs.grads[k]).max()))
    obs.grads[key] = np.array(obs.grads[key], copy=True)
    obs.grads[key].flat[int(np.abs(obs.grads[key]).argmax())] *= 1.01
    assert any(not v.passed for v in compare_observation(case, obs, exp)), key
