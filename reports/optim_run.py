"""Optimizer checks in-process: the Cases a check draws, one judged Case, and the kill run of optimizer mutants.

``plan_optim_cases(style, rule, n, seed)`` cycles the regimes that expose optimizer bugs (equal
shapes for a shared state, tiny gradients for eps, alternating signs for momentum, constant
gradients, exact zeros); ``check_optim_case`` runs a driver and the judge; ``run_optim_mutant``
is ``reports.mutation_run.run_mutant`` for mutants whose entry is ``optim:<rule>`` (it returns the
same MutantResult, so ``bpcheck mutants`` prints them in the one kill matrix).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from oracles.optim import drivers
from oracles.optim.case import MINI_BATCHES, OptimCase, draw_optim_case
from oracles.optim.judge import Judgement, judge
from oracles.optim.observation import OptimObservation
from oracles.optim.rules import STYLE_RULES

__all__ = ["PLAN", "plan_optim_cases", "check_optim_case", "run_optim_mutant", "optim_case_seed", "optim_subjects",
           "draw_campaign_case", "case_record", "evaluate_optim_case"]

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


# ---------------------------------------------------------------- campaign subjects (reports/campaign.py)


def optim_subjects(module: str, impl, names) -> list[tuple[str, str, str]]:
    """(subject name, style, entry) for every optimizer rule a trusted module defines."""
    style, _why = drivers.detect(names)
    if style is None:
        return []
    return [(f"{style}:{module}[{e}]", style, e) for e in drivers.entry_points(style, impl)]


def draw_campaign_case(subject, index: int, seed: int, dtype: str) -> OptimCase:
    """Case ``index`` of a campaign (seed rule as reports.campaign.case_seed), tagged like MLP campaign cases."""
    rule = drivers.entry_rule(subject.entry)
    fixed = STYLE_RULES[subject.style][rule].fixed if rule != MINI_BATCHES else {}
    from oracles.optim.case import draw_optim_case

    case = draw_optim_case(rule, optim_case_seed(seed, index), regime=None if rule == MINI_BATCHES else
                           PLAN[index % len(PLAN)], dtype=dtype, fixed=fixed)
    return case.with_(tags=case.tags + (f"subject:{subject.name}", f"campaign-seed:{seed}", f"case-index:{index}"))


def case_record(case: OptimCase) -> dict:
    """What a campaign records about a case (the fields reports/campaign_case.py and campaign_results.py fill
    from an MLP Case's spec)."""
    first = next(iter(case.params.values()))
    return {"architecture": [int(np.size(v)) for v in case.params.values()], "activations": [case.rule],
            "loss": case.rule, "dtype": case.dtype,
            "batch": max(case.steps, int(first.shape[-1]) if case.rule == MINI_BATCHES else 1)}


def evaluate_optim_case(subject, case: OptimCase, oracles, *, keep_difference: bool = False,
                        checks=None) -> dict[str, list[dict]]:
    """reports.campaign.evaluate_case for an optimizer subject: oracle -> verdict dicts (the torch slot holds
    torch.optim's or the course formula's verdicts; each verdict names its oracle in its message)."""
    from reports.campaign_case import _synthetic, _verdict_dict
    from reports.campaign_config import HARNESS_CHECK, RUN_CHECK
    from reports.campaign_subjects import _short_exc

    if "torch" not in oracles:
        return {o: [] for o in oracles}
    try:
        obs = drivers.run(subject.style, subject.impl, case, subject.entry)
    except ValueError as e:
        return {"torch": [_synthetic(HARNESS_CHECK, subject.entry, "torch", "error",
                                     f"the optimizer driver refused the case: {_short_exc(e)} (a bpcheck bug)")]}
    except Exception as e:  # noqa: BLE001 - the driver should have caught it
        return {"torch": [_synthetic(RUN_CHECK, subject.entry, "torch", "error", f"raised {_short_exc(e)}")]}
    j = judge(subject.style, case, obs)
    dicts = [_verdict_dict(v, oracle="torch", keep_difference=keep_difference) for v in j.verdicts]
    if checks is not None:
        dicts = [d for d in dicts if (d["check"], "torch") in checks]
    return {"torch": dicts, **{o: [] for o in oracles if o != "torch"}}
