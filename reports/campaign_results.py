"""Campaign results: save the failing cases and build the results dict (reports/results_schema.json).

Separate from reports/campaign.py because turning the aggregate into the documented JSON shape is
pure bookkeeping: it runs nothing, and the renderers read only what it returns.
"""

from __future__ import annotations

import math
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from oracles.case import Case
from oracles.observation import CHECKS
from reports.campaign_case import _diagnosis_text, _load_case, _synthetic
from reports.campaign_config import HARNESS_CHECK, RUN_CHECK, _optional
from reports.campaign_subjects import subject_slug

if TYPE_CHECKING:  # the aggregate lives with the orchestration, which imports this module
    from reports.campaign import _Aggregate


def _versions() -> dict:
    from importlib import metadata

    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    import platform

    return {"bpcheck": version("bpcheck"), "numpy": np.__version__, "torch": version("torch"),
            "python": platform.python_version()}


def _save_cases(groups: list[dict], agg: _Aggregate, cases_dir, replay_dir) -> None:
    """Write every kept failing case and the smallest case of each group; fill in paths and replay lines."""
    for g in groups:
        g["_files"] = {}
    if cases_dir is None:
        return
    cases_dir = Path(cases_dir)
    shown = Path(replay_dir) if replay_dir is not None else cases_dir
    saved: dict[bytes, str] = {}

    def save(name: str, data: bytes) -> tuple[str, str]:
        if data not in saved:
            case = _load_case(data)
            fname = f"{subject_slug(name)}-{case.case_id}.npz"
            case.save(cases_dir / fname)
            saved[data] = fname
        fname = saved[data]
        return f"cases/{fname}", f"bpcheck replay {shlex.quote(str(shown / fname))}"

    for g in groups:
        for o in g["occurrences"]:
            data = agg.case_bytes.get((g["subject"], o["case_index"]))
            if data is not None:
                o["case_path"], o["replay"] = save(g["subject"], data)
        small = g["smallest"]
        if small.get("case") is not None:
            small["case_path"], small["replay"] = save(g["subject"], small["case"])


def _row_status(m: dict) -> str:
    if m["failed"]:
        return "fail"
    return "pass" if m["passed"] else "skip"


def _results(subjects, config, agg: _Aggregate, groups, *, started, wall, interrupted, phase, command) -> dict:
    order = {c: k for k, c in enumerate((RUN_CHECK, *CHECKS, HARNESS_CHECK))}
    checks = []
    for (name, check), row in sorted(agg.rows.items(),
                                     key=lambda kv: ([s.name for s in subjects].index(kv[0][0]),
                                                     order.get(kv[0][1], 99), kv[0][1])):
        m = row.get("merged", {"cases": 0, "passed": 0, "failed": 0, "nondiff": 0})
        per = {o: row["oracles"][o] for o in config.oracles if o in row["oracles"]}
        checks.append({"subject": name, "check": check, "status": _row_status(m), **m,
                       "worst_norm_rel": {o: r["worst_norm_rel"] for o, r in per.items()},
                       "worst_max_rel": {o: r["worst_max_rel"] for o, r in per.items()},
                       "oracles": per})
    discrepancies = []
    for k, g in enumerate(groups, 1):
        small = g["smallest"]
        case = _load_case(small["case"]) if small.get("case") is not None else None
        verdicts = small.get("verdicts") or (g["occurrences"][0]["verdicts"] if g["occurrences"] else [])
        first = verdicts[0] if verdicts else _synthetic(g["check"], "?", g["oracle"], "fail", "failed")
        occurrences = []
        for o in g["occurrences"]:
            v0 = o["verdicts"][0]
            occurrences.append({
                "case_index": o["case_index"], "case_seed": o["case_seed"], "case_id": o["case_id"],
                "architecture": o["architecture"], "batch": o["batch"], "spec": o["spec"],
                "tensor": v0["tensor"], "tensors": [v["tensor"] for v in o["verdicts"]],
                "status": v0["status"], "message": v0["message"],
                **{k2: v0[k2] for k2 in ("max_abs", "max_abs_index", "max_rel", "max_rel_index", "norm_rel",
                                         "norm_ratio", "allowed")},
                "diagnosis": v0["diagnosis"] or "unclassified",
                "case_path": o.get("case_path"), "replay": o.get("replay"),
            })
        diagnosis = next((v["diagnosis"] for v in verdicts if v.get("diagnosis")), "") or "unclassified"
        discrepancies.append({
            "id": f"D{k}", "subject": g["subject"], "style": g["style"], "check": g["check"],
            "oracle": g["oracle"], "failed_cases": g["failed_cases"], "message": first["message"],
            "tensor": first["tensor"], "diagnosis": diagnosis,
            "pattern": _pattern(agg, g["subject"], g["check"], g["oracle"]),
            "smallest": None if case is None else {
                "case_id": case.case_id, "case_index": small["index"], "case_seed": case.seed,
                "spec": case.describe(), **_case_fields(case), "shrunk": bool(small["shrunk"]),
                "case_path": small.get("case_path"), "replay": small.get("replay"),
            },
            "tensors": [_tensor_record(v) for v in verdicts],
            "drawn_tensors": [_tensor_record(v) for v in small.get("drawn_verdicts") or []],
            "occurrences": occurrences,
        })
    return _json_ready({
        "schema": "bpcheck-results/1",
        "meta": {
            "versions": _versions(),
            "seed": config.seed,
            "cases": config.cases,
            "case_seed_rule": "case i uses seed * 1_000_003 + i",
            "dtype": config.dtype,
            "oracles": list(config.oracles),
            "workers": config.workers,
            "cluster": config.cluster,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "wall_time_s": round(wall, 3),
            "interrupted": interrupted,
            "interrupted_during": phase if interrupted else None,
            "cases_planned": len(subjects) * config.cases,
            "cases_run": sum(agg.cases_run.values()),
            "command": command,
        },
        "subjects": [{"name": s.name, "style": s.style, "module": s.module, "entry": s.entry,
                      "cases_run": agg.cases_run[s.name],
                      "status": "fail" if any(c["status"] == "fail" for c in checks if c["subject"] == s.name)
                      else "pass"} for s in subjects],
        "checks": checks,
        "discrepancies": discrepancies,
        "summary": {
            "subjects": len(subjects),
            "failing_subjects": sum(1 for c in {c["subject"] for c in checks if c["status"] == "fail"}),
            "discrepancies": len(discrepancies),
            "failed_checks": sum(1 for c in checks if c["status"] == "fail"),
            "passed": not discrepancies,
        },
    })


def _case_fields(case) -> dict:
    """architecture, activations, loss, dtype, batch of a smallest case (an optimizer case fills them its way)."""
    if not isinstance(case, Case):
        from reports.optim_run import case_record

        return case_record(case)
    return {"architecture": list(case.spec.sizes), "activations": list(case.spec.activations),
            "loss": case.spec.loss, "dtype": case.spec.dtype, "batch": case.m}


def _pattern(agg: _Aggregate, name: str, check: str, oracle: str) -> str:
    """oracles.diagnose.diagnose_campaign over this subject's cases for one failing check ("" if none)."""
    mod = _optional("oracles.diagnose")
    if mod is None or not hasattr(mod, "diagnose_campaign"):
        return ""
    from types import SimpleNamespace

    known = getattr(mod, "BUG_CLASSES", {})
    rows = []
    for (target, m, tags, xmax), failing in agg.profiles.get(name, []):
        # a stand-in with what the cross-case hypotheses look at (no Case kept per case)
        proxy = SimpleNamespace(spec=SimpleNamespace(target=target), m=m, tags=tags, x=np.array([[xmax]]))
        failing = failing or {}
        failed = (check, oracle) in failing
        ds = []
        if failed:
            text = failing[(check, oracle)] or "unclassified: no diagnosis"
            bug, _, msg = text.partition(": ")
            ds = [mod.Diagnosis(bug if bug in known else "unclassified", msg or text)]
        rows.append((proxy, failed, ds))
    try:
        found = mod.diagnose_campaign(rows)
    except Exception:  # a pattern is a nicety
        return ""
    conditional = [d for d in found if d.bug_class in ("one_hot_only", "batch_only", "large_inputs")]
    return _diagnosis_text(conditional[0]) if conditional else ""


def _tensor_record(v: dict) -> dict:
    return {**{k: v[k] for k in v if k != "difference"}, "diagnosis": v.get("diagnosis") or "unclassified",
            "difference": v.get("difference"), "difference_shape": v.get("difference_shape")}


def _json_ready(obj):
    """Strict JSON: non-finite floats become null (the status and message say what happened)."""
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj

