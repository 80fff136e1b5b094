"""Campaigns: subjects x cases x oracles -> one results dict (the single source of every report).

A *subject* is one entry point of one implementation we trust enough to run in-process: a
bundled reference module (``nielsen:reference.nielsen[Network]``), a mutant from
``reference.mutants`` (``mutant:NAME``) or any importable module the user names explicitly
(``STYLE:package.module[ENTRY]``; trusted code only: student files go through ``bpcheck validate``).

Cases: case ``i`` of a campaign with seed ``S`` is ``draw_case(space, case_seed(S, i), ...)`` with
``case_seed(S, i) = S * 1_000_003 + i`` (stable across versions and worker counts; every subject
sees the same seeds, so a mutant and its reference are fuzzed with the same draws).

Oracles: ``torch`` (float64 autograd, compared with ``oracles.compare.compare_observation``) and
``fd`` (``oracles.finite_diff.screen`` on the implementation's parameter gradients; "not
differentiable here" is a skip, never a failure).

Faults never crash a campaign: the drivers put implementation faults into
``Observation.errors``; anything that still escapes is caught per case and reported under the
pseudo-check ``run`` (the subject) or ``harness`` (our own oracles). Ctrl-C and SIGTERM stop the
campaign and return the complete-so-far results with ``interrupted = True``.

Aggregation is order independent (counts, maxima with index tie-breaks, occurrences sorted by
case index), so ``workers=K`` gives the same results as ``workers=1`` for the same seed.

The pieces live in their own modules: reports/campaign_config.py (CampaignConfig, the seed rule),
reports/campaign_subjects.py (what runs), reports/campaign_case.py (one case, judged and shrunk) and
reports/campaign_results.py (the results dict). This module runs the campaign and aggregates it;
the names other code imports from here are re-exported.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from reports import executors
from reports.campaign_case import (
    _chunk_outcomes,
    _fd_verdicts,  # noqa: F401 - re-exported (tests)
    _load_case,  # noqa: F401 - re-exported (reports/report_cmd.py)
    _run_chunk,
    _run_one,
    _smallest,
    _synthetic,  # noqa: F401 - re-exported
    _verdict_dict,  # noqa: F401 - re-exported
    evaluate_case,
    regime_for,
)
from reports.campaign_config import (
    DEFAULT_CASES,
    HARNESS_CHECK,  # noqa: F401 - re-exported
    ORACLES,
    RUN_CHECK,  # noqa: F401 - re-exported
    CampaignConfig,
    _init_torch,
    case_seed,
    preload,
)
from reports.campaign_results import _results, _save_cases
from reports.campaign_subjects import (
    SKIPPED,
    Subject,
    UnknownSubject,
    _short_exc,  # noqa: F401 - re-exported
    default_subjects,
    mutant_subjects,
    parse_subjects,
    subject_slug,
)

__all__ = [
    "ORACLES",
    "DEFAULT_CASES",
    "Subject",
    "CampaignConfig",
    "UnknownSubject",
    "case_seed",
    "default_subjects",
    "mutant_subjects",
    "parse_subjects",
    "run_campaign",
    "evaluate_case",
    "subject_slug",
    "regime_for",
    "preload",
    "SKIPPED",
]

MAX_OCCURRENCES = 50  # failing cases kept (and saved) per subject x check x oracle
HIST_LO, HIST_HI = -18, 3  # log10 error histogram range (one bin per decade)


# ----------------------------------------------------------------------------- aggregation


def _histogram() -> dict:
    return {"log10_edges": list(range(HIST_LO, HIST_HI + 1)), "counts": [0] * (HIST_HI - HIST_LO),
            "zeros": 0, "below": 0, "above": 0}


def _hist_add(h: dict, value: float | None) -> None:
    if value is None:
        return
    if value == 0:
        h["zeros"] += 1
    elif not math.isfinite(value) or value >= 10.0**HIST_HI:
        h["above"] += 1
    elif value < 10.0**HIST_LO:
        h["below"] += 1
    else:
        h["counts"][min(int(math.floor(math.log10(value))) - HIST_LO, len(h["counts"]) - 1)] += 1


def _counts() -> dict:
    return {"cases": 0, "passed": 0, "failed": 0, "nondiff": 0, "worst_norm_rel": None, "worst_norm_rel_case": None,
            "worst_max_rel": None, "worst_max_abs": None}


def _worse(current, current_case, value, case) -> tuple:
    """Maximum with the lowest case index on ties: the same result in any arrival order."""
    if value is None:
        return current, current_case
    if current is None or value > current or (value == current and case < current_case):
        return value, case
    return current, current_case


class _Aggregate:
    def __init__(self, subjects: list[Subject], oracles: Sequence[str]):
        self.subjects = {s.name: s for s in subjects}
        self.oracles = list(oracles)
        self.rows: dict[tuple[str, str], dict] = {}
        self.cases_run: dict[str, int] = {s.name: 0 for s in subjects}
        self.occurrences: dict[tuple[str, str, str], list[dict]] = {}
        self.failed_cases: dict[tuple[str, str, str], int] = {}
        self.case_bytes: dict[tuple[str, int], bytes] = {}
        # subject -> [((target, m, tags, max|x|), {(check, oracle): diagnosis} or None)], for patterns
        # across cases (fails only with labels, only for batch > 1, only for large inputs)
        self.profiles: dict[str, list[tuple[dict, dict]]] = {s.name: [] for s in subjects}

    def add(self, outcome: dict) -> None:
        name, i = outcome["subject"], outcome["index"]
        self.cases_run[name] += 0 if outcome.get("not_run") else 1
        merged: dict[str, set[str]] = {}
        for oracle, checks in outcome["checks"].items():
            for check, s in checks.items():
                row = self.rows.setdefault((name, check), {"oracles": {}})
                r = row["oracles"].setdefault(oracle, {**_counts(), "histogram": _histogram()})
                r["cases"] += 1
                r[{"pass": "passed", "fail": "failed", "nondiff": "nondiff"}[s["status"]]] += 1
                r["worst_norm_rel"], r["worst_norm_rel_case"] = _worse(
                    r["worst_norm_rel"], r["worst_norm_rel_case"], s["norm_rel"], i)
                r["worst_max_rel"] = _worse(r["worst_max_rel"], 0, s["max_rel"], 0)[0]
                r["worst_max_abs"] = _worse(r["worst_max_abs"], 0, s["max_abs"], 0)[0]
                _hist_add(r["histogram"], s["norm_rel"])
                merged.setdefault(check, set()).add(s["status"])
        for check, statuses in merged.items():
            row = self.rows[(name, check)]
            m = row.setdefault("merged", {"cases": 0, "passed": 0, "failed": 0, "nondiff": 0})
            m["cases"] += 1
            if "fail" in statuses:
                m["failed"] += 1
            else:
                m["passed"] += 1
                m["nondiff"] += "nondiff" in statuses
        dropped = set()
        for oracle, checks in outcome["failures"].items():
            for check, verdicts in checks.items():
                key = (name, check, oracle)
                self.failed_cases[key] = self.failed_cases.get(key, 0) + 1
                occ = self.occurrences.setdefault(key, [])
                occ.append({"case_index": i, "case_seed": outcome["seed"], "case_id": outcome["case_id"],
                            "architecture": outcome["sizes"], "batch": outcome["batch"],
                            "spec": outcome["describe"], "verdicts": verdicts})
                occ.sort(key=lambda o: o["case_index"])
                dropped.update(o["case_index"] for o in occ[MAX_OCCURRENCES:])
                del occ[MAX_OCCURRENCES:]
        if outcome["features"] is not None:
            f = outcome["features"]
            failing = {(check, oracle): next((v["diagnosis"] for v in vs if v["diagnosis"]), "")
                       for oracle, checks in outcome["failures"].items() for check, vs in checks.items()}
            self.profiles[name].append(((f["target"], f["m"], tuple(f["tags"]), f["xmax"]), failing or None))
        if outcome["case_bytes"] is not None:
            self.case_bytes[(name, i)] = outcome["case_bytes"]
        # keep the bytes of kept occurrences only: a long campaign of a broken subject stays small
        for j in dropped:
            if not any(o["case_index"] == j for (s, _c, _o), occ in self.occurrences.items() if s == name
                       for o in occ):
                self.case_bytes.pop((name, j), None)


# ----------------------------------------------------------------------------- the campaign


def _progress(total: int, enabled: bool | None):
    if enabled is None:
        enabled = sys.stdout.isatty() and sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="case", file=sys.stderr, dynamic_ncols=True, leave=False)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled exactly like Ctrl-C."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def _chunks(subjects: list[Subject], config: CampaignConfig) -> list[tuple[Subject, list[int], CampaignConfig]]:
    # Small chunks keep both workers busy to the end and the progress bar moving.
    size = max(1, min(10, config.cases // (4 * max(1, config.workers)) or 1))
    tasks = []
    for s in subjects:
        for start in range(0, config.cases, size):
            tasks.append((s, list(range(start, min(config.cases, start + size))), config))
    return tasks


def run_campaign(
    subjects: Sequence[Subject],
    config: CampaignConfig,
    *,
    cases_dir: Path | str | None = None,
    replay_dir: str | None = None,
    progress: bool | None = None,
    on_case: Callable[[dict], None] | None = None,
    command: str | None = None,
    notes: Sequence[str] = (),
    runner: executors.Runner | None = None,
) -> dict:
    """Run the campaign and return the results dict (see reports/results_schema.json).

    Where the cases run: in this process (``workers=1``), in ``config.workers`` local processes, on
    the Dask cluster ``config.cluster``, or on ``runner`` (an open ``reports.executors.Runner``
    the caller owns and closes; it is stopped on an interrupt).

    ``cases_dir``: where failing Cases are saved (``<slug>-<caseid>.npz``); ``replay_dir`` is how
    that folder is spelled in replay commands (defaults to ``cases_dir``). ``on_case`` is called
    with each outcome as it arrives (tests use it to interrupt). Ctrl-C/SIGTERM end the campaign
    early with ``meta.interrupted = True``; the results so far are returned, never lost.
    """
    subjects = list(subjects)
    if config.cases < 1:
        raise ValueError(f"cases={config.cases}: a campaign needs at least 1 case per subject")
    if config.workers < 1:
        raise ValueError(f"workers={config.workers}: use 1 (serial) or more")
    bad = [o for o in config.oracles if o not in ORACLES]
    if bad:
        raise ValueError(f"unknown oracle(s) {bad}; choose from {ORACLES}")
    started = time.time()
    t0 = time.perf_counter()
    agg = _Aggregate(subjects, config.oracles)
    interrupted = False
    phase = "cases"
    old_term = None
    if threading_main():
        old_term = signal.signal(signal.SIGTERM, _raise_terminated)
    bar = _progress(len(subjects) * config.cases, progress)
    pool = runner
    groups: list[dict] = []
    try:
        try:
            _init_torch()
            if pool is None and (config.workers > 1 or config.cluster):
                pool = executors.Runner(config.workers, config.cluster)
            if pool is not None and pool.kind != "serial":
                tasks = _chunks(subjects, config)
                stream = (o for k, chunk in pool.imap_unordered(_run_chunk, tasks)
                          for o in _chunk_outcomes(tasks[k], chunk, config))
            else:
                stream = (_run_one(s, i, config) for s in subjects for i in range(config.cases))
            for outcome in stream:
                agg.add(outcome)
                if bar is not None:
                    bar.update(1)
                if on_case is not None:
                    on_case(outcome)
            phase = "shrink"
            groups = _discrepancy_groups(agg, config, pool, shrink=config.shrink)
        except KeyboardInterrupt:
            interrupted = True
            if pool is not None:
                pool.kill()
                pool = None
            if not groups:  # no more running of anything: report the failing cases as recorded
                groups = _discrepancy_groups(agg, config, None, shrink=False, judge=False)
    finally:
        if pool is not None and pool is not runner:
            pool.close()
        if bar is not None:
            bar.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    wall = time.perf_counter() - t0
    _save_cases(groups, agg, cases_dir, replay_dir)
    results = _results(subjects, config, agg, groups, started=started, wall=wall, interrupted=interrupted,
                       phase=phase, command=command)
    results["meta"]["notes"] = list(notes)
    return results


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _discrepancy_groups(agg: _Aggregate, config: CampaignConfig, pool, *, shrink: bool,
                        judge: bool = True) -> list[dict]:
    """One group per subject x check x oracle that failed, with its smallest (shrunk) failing case.

    Groups whose first failing case is the same case are shrunk together (while *every* one of
    their checks still fails): one shrink per failing case instead of one per check."""
    keys = sorted(agg.occurrences)
    buckets: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for name, check, oracle in keys:
        first = agg.occurrences[(name, check, oracle)][0]["case_index"]
        buckets.setdefault((name, first), []).append((check, oracle))
    tasks = [(agg.subjects[name], pairs, index, agg.case_bytes.get((name, index)), config, shrink)
             for (name, index), pairs in sorted(buckets.items())]
    if not judge:
        done = [_as_recorded(agg, t) for t in tasks]
    elif pool is not None and len(tasks) > 1:
        # a shrink whose worker died is replaced by the failing case as recorded: never lost
        done = [_as_recorded(agg, t) if isinstance(r, executors.TaskLost) else r
                for t, r in zip(tasks, pool.map(_smallest, tasks))]
    else:
        done = [_smallest(t) for t in tasks]
    smallest = {(t[0].name, t[2]): r for t, r in zip(tasks, done)}
    groups = []
    for name, check, oracle in keys:
        occ = agg.occurrences[(name, check, oracle)]
        small = smallest[(name, occ[0]["case_index"])]
        mine = {**small, "verdicts": small["verdicts"].get((check, oracle), []),
                "drawn_verdicts": small.get("drawn_verdicts", {}).get((check, oracle), [])}
        groups.append({"subject": name, "style": agg.subjects[name].style, "check": check, "oracle": oracle,
                       "failed_cases": agg.failed_cases[(name, check, oracle)], "occurrences": occ,
                       "smallest": mine})
    return groups


def _as_recorded(agg: _Aggregate, task) -> dict:
    """The first failing case and its verdicts as the campaign recorded them (nothing re-run)."""
    subject, pairs, index, data, _config, _shrink = task
    verdicts = {}
    for check, oracle in pairs:
        occ = agg.occurrences.get((subject.name, check, oracle), [])
        verdicts[(check, oracle)] = next((o["verdicts"] for o in occ if o["case_index"] == index), [])
    return {"case": data, "verdicts": verdicts, "drawn_verdicts": {}, "shrunk": False, "index": index}
