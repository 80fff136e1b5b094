"""Every normalisation/dropout mutant in the zoo is killed by the checks and named by the diagnosis."""

from __future__ import annotations

import pytest

from reference.mutants import MUTANTS
from reference.mutants_norm import DRIVEN

NORM = sorted(n for n, m in MUTANTS.items() if m.entry in DRIVEN.get(m.style, ()))
# saito_net_extend_test_uses_batch_stats is named by the net-level hypothesis (oracles/diagnose/norm.py:
# the test-mode output equals the train-mode forward of the same Case); it was 'unclassified [out]'.
NORM_PARAMS = NORM
# Run on every entry point of their file (as `bpcheck mutants` does), these were named 'batch_only' ("fails only
# with batch size > 1"): the batch-of-one Cases that passed came from the file's other layers, where the
# batchnorm never runs; and the net's Cases outnumbered the layer's own. Named now (oracles/diagnose/campaign.py).
ALL_ENTRIES = ("saito_bn_no_mean_path", "saito_bn_running_stats_frozen", "mytorch_bn_running_old_dropped",
               "mytorch_bn_eval_not_normalised", "saito_net_extend_test_uses_batch_stats")


def test_the_driven_norm_mutants_are_in_the_zoo():
    assert len(NORM) >= 13


@pytest.mark.parametrize("name", NORM_PARAMS)
def test_norm_mutant_killed_and_named(name):
    from reports.mutation_run import run_mutant

    m = MUTANTS[name]
    r = run_mutant(m, cases=12, seed=0, entries=[m.entry])
    assert r.killed and not r.false_alarms and not r.problems, r.to_dict()
    assert r.named, f"{name}: planted {m.bug_class}, diagnosed {r.diagnosis}"


@pytest.mark.parametrize("name", ALL_ENTRIES)
def test_norm_mutant_named_on_every_entry_point(name):
    from reports.mutation_run import run_mutant

    m = MUTANTS[name]
    r = run_mutant(m, cases=12, seed=0)
    assert r.killed and not r.false_alarms, r.to_dict()
    assert r.named, f"{name}: planted {m.bug_class}, diagnosed {r.diagnosis} ({r.diagnosis.message})"


def test_batch_only_needs_a_passing_single_sample_of_the_failing_kind():
    """A batch of one that passes in another layer of the file is no evidence that the batchnorm needs m > 1."""
    from oracles import styles
    from oracles.diagnose import Diagnosis, diagnose_campaign
    from oracles.strategies import draw_case
    from reference import cs231n, cs231n_norm

    bn = draw_case(styles.spec_space("cs231n", cs231n_norm, "fn:batchnorm"), 1)
    mlp = draw_case(styles.spec_space("cs231n", cs231n, "layers"), 2, min_batch=1, max_batch=1)
    assert bn.m > 1 and mlp.m == 1
    named = [Diagnosis("bn_no_mean_path", "dx without the mean path")]
    ds = diagnose_campaign([(bn, True, named), (mlp, False, [])])
    assert [d.bug_class for d in ds] == ["bn_no_mean_path"], ds
    mlp_fail = draw_case(styles.spec_space("cs231n", cs231n, "layers"), 3, min_batch=4, max_batch=4)
    generic = [Diagnosis("unclassified", "?")]
    ds = diagnose_campaign([(mlp_fail, True, generic), (mlp, False, [])])  # same kind: still a condition
    assert ds[0].bug_class == "batch_only", ds
