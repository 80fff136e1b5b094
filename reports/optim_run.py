"""Optimizer checks in-process: the Cases a check draws, one judged Case, and the kill run of optimizer mutants.

``plan_optim_cases(style, rule, n, seed)`` cycles the regimes that expose optimizer bugs (equal
shapes for a shared state, tiny gradients for eps, alternating signs for momentum, constant
gradients, exact zeros); ``check_optim_case`` runs a driver and the judge; ``run_optim_mutant``
is ``reports.mutation_run.run_mutant`` for mutants whose entry is ``optim:<rule>`` (it returns the
same MutantResult, so ``bpcheck mutants`` prints them in the one kill matrix).
"""

from __future__ import annotations

from collections import Counter

from oracles.optim import drivers
from oracles.optim.case import MINI_BATCHES, OptimCase, draw_optim_case
from oracles.optim.judge import Judgement, judge
from oracles.optim.observation import OptimObservation
from oracles.optim.rules import STYLE_RULES

__all__ = ["PLAN", "plan_optim_cases", "check_optim_case", "run_optim_mutant", "optim_case_seed"]

PLAN = (None, "square", "tiny", "alternating", None, "large", "constant", "zeros", "square", "tiny", "alternating",
        None)


def optim_case_seed(seed: int, index: int) -> int:
    return int(seed) * 1_000_003 + int(index)


def plan_optim_cases(style: str, rule: str, n: int, seed: int, *, dtype: str = "float64",
                     regimes=PLAN) -> list[OptimCase]:
    """n Cases for one rule as a style teaches it (the course's hard-coded constants fixed), deterministic in seed."""
    fixed = STYLE_RULES[style][rule].fixed if rule != MINI_BATCHES else {}
    return [draw_optim_case(rule, optim_case_seed(seed, i), regime=None if rule == MINI_BATCHES else
                            regimes[i % len(regimes)], dtype=dtype, fixed=fixed) for i in range(n)]


def check_optim_case(style: str, impl, case: OptimCase, entry: str, **kw) -> tuple[OptimObservation, Judgement]:
    obs = drivers.run(style, impl, case, entry)
    return obs, judge(style, case, obs, **kw)


def run_optim_mutant(mutant, *, cases: int = 12, seed: int = 0, control: bool = True, dtype: str = "float64",
                     shrink_steps: int = 0):
    """Kill run of one optimizer mutant: its entry on planned Cases, judged; the reference is the control."""
    from reports.mutation_run import MutantResult

    res = MutantResult(mutant.name, mutant.bug_class, mutant.style, mutant.description)
    entry = mutant.entry
    rule = drivers.entry_rule(entry)
    named: Counter = Counter()
    first: dict[str, str] = {}
    for case in plan_optim_cases(mutant.style, rule, cases, seed, dtype=dtype):
        try:
            _obs, j = check_optim_case(mutant.style, mutant.impl, case, entry, context=f"{mutant.name} {entry}")
        except ValueError as exc:
            res.problems.append(f"{entry}: {exc}")
            continue
        failed = j.failing_checks()
        if control and failed:
            _o, ref = check_optim_case(mutant.style, mutant.reference, case, entry, context="reference")
            alarms = failed & ref.failing_checks()
            for c in alarms:
                res.false_alarms[c] = res.false_alarms.get(c, 0) + 1
            failed -= alarms
        res.n_cases += 1
        if not failed:
            continue
        if res.smallest is None:
            res.smallest_entry = entry
        for c in failed:
            res.kills[c] = res.kills.get(c, 0) + 1
        if not res.example:
            bad = next((v for v in j.verdicts if not v.passed and v.check in failed), None)
            res.example = bad.message if bad is not None else ""
        if j.diagnoses:
            d = j.diagnoses[0]
            named[d.bug_class] += 1
            first.setdefault(d.bug_class, d)
    res.killed = bool(res.kills)
    # across Cases: the diagnosis most failing Cases agree on (a bug a few Cases cannot show stays quiet there)
    generic = ("raised", "unclassified", "state_not_carried")
    res.diagnoses = [first[c] for c, _n in sorted(named.most_common(), key=lambda cn: cn[0] in generic)]
    return res
