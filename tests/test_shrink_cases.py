"""shrink: a failing Case gets smaller and keeps failing; deterministic; respects the SpecSpace."""

from __future__ import annotations

import numpy as np

from oracles.case import SpecSpace
from oracles.shrink import candidates, shrink
from oracles.strategies import draw_case


def _big(seed=1):
    space = SpecSpace()
    for s in range(seed, seed + 50):
        c = draw_case(space, s, min_layers=3, min_width=4, min_batch=4)
        if c.spec.n_layers >= 3 and c.m >= 4:
            return c
    raise AssertionError("no big case drawn")


def test_candidates_are_valid_and_simpler():
    case = _big()
    for cand in list(candidates(case))[:40]:
        assert cand.spec.n_layers <= case.spec.n_layers
        assert cand.m <= case.m


def test_shrink_keeps_failing_and_shrinks():
    case = _big()

    def fails(c):  # "the bug shows when some input exceeds 0.5 in magnitude"
        return float(np.abs(c.x).max()) > 0.5

    assert fails(case)
    small = shrink(case, fails)
    assert fails(small)
    assert small.spec.n_layers == 1 and small.m == 1 and small.spec.sizes[0] == 1
    assert shrink(case, fails).case_id == small.case_id  # deterministic


def test_shrink_with_real_mutant_keeps_failing():
    import oracles.styles as styles
    from oracles.compare import compare_observation
    from oracles.torch_autograd import expected
    from reference.mutants import MUTANTS

    mut = MUTANTS["matrix_missing_mean"]
    entry = "Network[batch]"
    space = styles.spec_space(mut.style, mut.impl, entry)
    case = next(c for c in (draw_case(space, s) for s in range(20)) if c.m >= 3 and c.spec.n_layers >= 2)

    def fails(c):
        obs = styles.run(mut.style, mut.impl, c, entry)
        return any(not v.passed for v in compare_observation(c, obs, expected(c)))

    assert fails(case)
    small = shrink(case, fails, space=space, max_steps=60)
    assert fails(small)
    assert space.allows(small.spec) is None
    assert small.spec.n_params < case.spec.n_params and small.m <= 2  # missing 1/m needs m >= 2
    assert small.m == 2
