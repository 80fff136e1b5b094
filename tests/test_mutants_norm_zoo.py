"""Every normalisation/dropout mutant in the zoo is killed by the checks and named by the diagnosis."""

from __future__ import annotations

import pytest

from reference.mutants import MUTANTS
from reference.mutants_norm import DRIVEN

NORM = sorted(n for n, m in MUTANTS.items() if m.entry in DRIVEN.get(m.style, ()))
# Killed, but since the merge of the verdicts and norm diagnoses (2026-12-01) the net-level case is no
# longer named (diagnosed 'unclassified [out]'): an open gap, kept visible rather than hidden.
_NOT_NAMED_YET = {"saito_net_extend_test_uses_batch_stats"}
NORM_PARAMS = [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="killed but not named since the "
                                                        "merge (open)")) if n in _NOT_NAMED_YET else n for n in NORM]


def test_the_driven_norm_mutants_are_in_the_zoo():
    assert len(NORM) >= 13


@pytest.mark.parametrize("name", NORM_PARAMS)
def test_norm_mutant_killed_and_named(name):
    from reports.mutation_run import run_mutant

    m = MUTANTS[name]
    r = run_mutant(m, cases=12, seed=0, entries=[m.entry])
    assert r.killed and not r.false_alarms and not r.problems, r.to_dict()
    assert r.named, f"{name}: planted {m.bug_class}, diagnosed {r.diagnosis}"
