"""One campaign case: draw it, run the subject, judge it with each oracle, and shrink it when it fails.

Everything here works on one (subject, case) and returns plain picklable dicts: the worker processes
run ``_run_chunk`` and ``_smallest`` from this module (pickled by module path), and the aggregation
in reports/campaign.py only ever sees their outcomes. Separate from reports/campaign.py so that the
orchestration (pool, signals, aggregation) and the per-case judging can be read on their own.

The hooks ``_observe``, ``_torch_expected``, ``_draw`` and ``_space`` are looked up in this module at
call time: tests replace them here (tests/test_report_doubles.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from oracles.case import Case
from oracles.observation import Observation, check_of
from reports import executors
from reports.campaign_config import HARNESS_CHECK, ORACLES, RUN_CHECK, CampaignConfig, _optional, case_seed
from reports.campaign_subjects import Subject, _is_optim, _short_exc

__all__ = ["evaluate_case", "regime_for"]

MAX_DIFFERENCE_SIZE = 4096  # difference arrays larger than this are not embedded in results.json


def _load_case(data: bytes):
    """A saved case: an MLP Case, or an optimizer OptimCase (oracles.optim.case)."""
    from oracles.optim.case import OptimCase, is_optim_bytes

    return OptimCase.from_bytes(data) if is_optim_bytes(data) else Case.from_bytes(data)


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _idx(v) -> list[int]:
    try:
        return [int(i) for i in (v or ())]
    except TypeError:
        return []


def _verdict_dict(v, *, oracle: str, keep_difference: bool) -> dict:
    """A TensorVerdict (or an fd ScreenResult, whose figures live in its .verdict) as a JSON-ready dict."""
    outer = v
    inner = getattr(v, "verdict", None)
    if inner is not None:  # ScreenResult: status and message outside, the numbers inside
        v = inner
    name = str(getattr(outer, "name", "?"))
    check = getattr(outer, "check", None) or getattr(inner, "check", None)
    if not check:
        try:
            check = check_of(_tensor_key(name))
        except (KeyError, IndexError):
            check = "?"
    d = {
        "tensor": name,
        "check": str(check),
        "oracle": oracle,
        "status": str(getattr(outer, "status", "fail")),
        "message": str(getattr(outer, "message", "")),
        "n_mismatched": int(getattr(v, "n_mismatched", 0) or 0),
        "n_total": int(getattr(v, "n_total", 0) or 0),
        "max_abs": _num(getattr(v, "max_abs", None)),
        "max_abs_index": _idx(getattr(v, "max_abs_index", ())),
        "max_rel": _num(getattr(v, "max_rel", None)),
        "max_rel_index": _idx(getattr(v, "max_rel_index", ())),
        "norm_err": _num(getattr(v, "norm_err", None)),
        "norm_rel": _num(getattr(v, "norm_rel", None)),
        "norm_ratio": _num(getattr(v, "norm_ratio", None)),
        "allowed": _num(getattr(v, "allowed", None)),
        "diagnosis": _diagnosis_text(getattr(v, "diagnosis", "")),
        "difference": None,
    }
    if (getattr(v, "detail", "") or getattr(outer, "detail", "")) and d["status"] not in ("pass", "nondiff"):
        # structural failures (shape, NaN, type, mutation) carry no meaningful error figures
        for k in ("max_abs", "max_rel", "norm_err", "norm_rel", "norm_ratio"):
            d[k] = None
    if keep_difference and inner is None:  # fd figures are directional derivatives: no tensor to map
        a, e = getattr(v, "actual", None), getattr(v, "expected", None)
        if a is not None and e is not None:
            a, e = np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)
            if a.shape == e.shape and 0 < a.size <= MAX_DIFFERENCE_SIZE:
                diff = a - e
                d["difference"] = [_num(x) for x in diff.ravel()]
                d["difference_shape"] = list(diff.shape)
            elif 0 < a.size <= MAX_DIFFERENCE_SIZE and 0 < e.size <= MAX_DIFFERENCE_SIZE:
                # shapes differ (a transpose, a missing sum): show both side by side instead
                d["actual"], d["actual_shape"] = [_num(x) for x in a.ravel()], list(a.shape)
                d["expected"], d["expected_shape"] = [_num(x) for x in e.ravel()], list(e.shape)
    return d


def _diagnosis_text(d) -> str:
    if not d:
        return ""
    if isinstance(d, str):
        return d
    if isinstance(d, (list, tuple)):  # diagnoses come most specific first: the first one speaks
        return _diagnosis_text(d[0])
    bug, msg = getattr(d, "bug_class", None), getattr(d, "message", None)
    if bug and msg:
        return f"{bug}: {msg}"
    return str(d)


def _synthetic(check: str, tensor: str, oracle: str, status: str, message: str) -> dict:
    return {
        "tensor": tensor, "check": check, "oracle": oracle, "status": status, "message": message,
        "n_mismatched": 0, "n_total": 0, "max_abs": None, "max_abs_index": [], "max_rel": None,
        "max_rel_index": [], "norm_err": None, "norm_rel": None, "norm_ratio": None, "allowed": None,
        "diagnosis": "",
        "difference": None,
    }


def _fd_verdicts(case: Case, observed: Observation, *, directions: int, impl_err: dict | None = None) -> list:
    """The fd oracle: screen the implementation's parameter gradients with directional derivatives;
    ``impl_err``: the torch oracle's rounding estimate per tensor (what a correct implementation carries)."""
    from oracles import finite_diff

    out: list = []
    for family, cause in observed.errors.items():
        if family.startswith("grad_"):
            out.append(_synthetic(family, family, "fd", "error", f"{family}: {cause}"))
    # every gradient the implementation exposed that finite differences can check: W*, b*, x, A*
    names = [n for n in finite_diff.fd_names(case) if n in observed.grads]
    grads = {}
    for name in names:
        g = observed.grads[name]
        try:
            finite = bool(np.all(np.isfinite(np.asarray(g, dtype=np.float64))))
        except (TypeError, ValueError):
            finite = True  # not numbers at all: screen names that problem itself
        if not finite:
            out.append(_synthetic(check_of(name), name, "fd", "fail", f"{name}: the gradient contains NaN or inf"))
            continue
        grads[name] = g
    if grads:
        res = finite_diff.screen(case, grads, directions=directions, seed=case.seed, names=list(grads),
                                 given=observed.aux or None, impl_err=impl_err)
        out += [res[n] for n in grads if n in res]
    return out


def _observe(subject: Subject, case: Case) -> Observation:
    from oracles import styles

    return styles.run(subject.style, subject.impl, case, subject.entry)


def _torch_expected(case: Case, given: dict | None = None) -> Observation:
    """The torch oracle; ``given``: what the implementation chose (its dropout masks, Observation.aux)."""
    from oracles import torch_autograd

    return torch_autograd.expected(case, given=given or None)


def _oracle_verdicts(subject: Subject, case: Case, observed: Observation, oracle: str, config: CampaignConfig,
                     expected_cache: dict) -> list:
    if oracle == "torch":
        from oracles.compare import compare_observation

        if "torch" not in expected_cache:
            expected_cache["torch"] = _torch_expected(case, observed.aux)
        return compare_observation(case, observed, expected_cache["torch"], oracle="torch")
    if oracle == "fd":
        impl_err = None
        if not case.spec.is_mlp:  # layer Specs: the measured rounding of a correct implementation (MLP: a priori)
            if "torch" not in expected_cache:
                expected_cache["torch"] = _torch_expected(case, observed.aux)
            impl_err = dict(expected_cache["torch"].err_est or {})
        return _fd_verdicts(case, observed, directions=config.fd_directions, impl_err=impl_err)
    raise ValueError(f"unknown oracle {oracle!r}; choose from {ORACLES}")


def _diagnose(case, verdicts, observed, expected) -> None:
    """Let oracles.diagnose name the bug on the failing verdicts (it sets verdict.diagnosis)."""
    mod = _optional("oracles.diagnose")
    if mod is None or expected is None or all(getattr(v, "passed", True) for v in verdicts):
        return
    try:
        found = mod.diagnose(case, verdicts, observed, expected)
    except Exception:  # a diagnosis is a nicety: never lose a verdict to it
        return
    text = _diagnosis_text(list(found or []))
    for v in verdicts:
        if not getattr(v, "passed", True) and not getattr(v, "diagnosis", "") and text:
            try:
                v.diagnosis = text
            except AttributeError:
                pass


def _tensor_key(name: str) -> str:
    """"grads['W1']" -> "W1"; "W1" -> "W1"."""
    m = re.search(r"\['([^']+)'\]$", name)
    return m.group(1) if m else name


def evaluate_case(subject: Subject, case: Case, config: CampaignConfig, *, keep_difference: bool = False,
                  checks: Sequence[tuple[str, str]] | None = None) -> dict[str, list[dict]]:
    """Run ``subject`` and every oracle on ``case``: oracle -> list of verdict dicts.

    Never raises for faults of the subject (they become verdicts of check ``run``) or of our own
    oracles (check ``harness``); KeyboardInterrupt passes through.
    """
    oracles = list(config.oracles)
    if _is_optim(subject):
        from reports.optim_run import evaluate_optim_case

        return evaluate_optim_case(subject, case, oracles, keep_difference=keep_difference, checks=checks)
    try:
        observed = _observe(subject, case)
    except ValueError as e:
        # the drivers' contract: ValueError means "this entry point cannot run this Case", i.e. the
        # case generator drew outside spec_space: our fault, not the subject's
        msg = f"the {subject.style} driver refused the case: {_short_exc(e)} (a bpcheck bug)"
        return {o: [_synthetic(HARNESS_CHECK, subject.entry, o, "error", msg)] for o in oracles}
    except Exception as e:  # the driver should have caught it; never let it stop the campaign
        msg = f"the implementation raised {_short_exc(e)}"
        return {o: [_synthetic(RUN_CHECK, subject.entry, o, "error", msg)] for o in oracles}
    if not isinstance(observed, Observation):
        msg = f"the driver returned {type(observed).__name__}, not an Observation"
        return {o: [_synthetic(RUN_CHECK, subject.entry, o, "error", msg)] for o in oracles}
    out: dict[str, list[dict]] = {}
    cache: dict = {}
    for oracle in oracles:
        try:
            verdicts = _oracle_verdicts(subject, case, observed, oracle, config, cache)
            if oracle == "torch":
                _diagnose(case, verdicts, observed, cache.get("torch"))
            dicts = [v if isinstance(v, dict) else _verdict_dict(v, oracle=oracle, keep_difference=keep_difference)
                     for v in verdicts]
        except Exception as e:
            dicts = [_synthetic(HARNESS_CHECK, oracle, oracle, "error",
                                f"bpcheck's {oracle} oracle failed on this case: {_short_exc(e)} (a bpcheck bug)")]
        if checks is not None:
            dicts = [d for d in dicts if (d["check"], oracle) in checks]
        out[oracle] = dicts
    # the fd oracle sees the same bug the torch oracle diagnosed: lend it the diagnosis per tensor
    named = {_tensor_key(v["tensor"]): v["diagnosis"] for v in out.get("torch", []) if v["diagnosis"]}
    for v in out.get("fd", []):
        if v["status"] in ("fail", "error") and not v["diagnosis"]:
            v["diagnosis"] = named.get(_tensor_key(v["tensor"]), "")
    return out


def _case_status(verdicts: list[dict]) -> str:
    statuses = {v["status"] for v in verdicts}
    if statuses & {"fail", "error"}:
        return "fail"
    if "nondiff" in statuses:
        return "nondiff"
    return "pass"


def _case_checks(verdicts: list[dict], ran: bool) -> dict[str, list[dict]]:
    """check -> verdicts; ``ran``: count side_effects as run (and passed unless a verdict failed)."""
    by: dict[str, list[dict]] = {}
    for v in verdicts:
        by.setdefault(v["check"], []).append(v)
    if ran and "side_effects" not in by:
        by["side_effects"] = []
    return by


def regime_for(index: int) -> str | None:
    """Half the cases are ordinary; the other half cycle through the special regimes
    (saturated, near_kink, exact_zero, large_logits, tiny: see oracles.strategies.REGIMES)."""
    from oracles.strategies import REGIMES

    special = [r for r in REGIMES if r is not None]
    k = index % (2 * len(special))
    return None if k < len(special) else special[k - len(special)]


def _space(subject: Subject):
    from oracles import styles

    return styles.spec_space(subject.style, subject.impl, subject.entry)


def _draw(subject: Subject, index: int, config: CampaignConfig) -> Case:
    from oracles import strategies
    from oracles.strategies_layers import LAYER_REGIMES

    if _is_optim(subject):
        from reports.optim_run import draw_campaign_case

        return draw_campaign_case(subject, index, config.seed, config.dtype)

    seed = case_seed(config.seed, index)
    space, regime = _space(subject), regime_for(index)
    if space.sequences and regime not in LAYER_REGIMES:
        regime = None  # the MLP's stress regimes rescale an MLP's layers; a layer sequence takes None or tiny
    case = strategies.draw_case(space, seed, dtype=config.dtype, regime=regime)
    return replace(case, tags=tuple(case.tags) + (f"subject:{subject.name}", f"campaign-seed:{config.seed}",
                                                   f"case-index:{index}"))


def _run_one(subject: Subject, index: int, config: CampaignConfig) -> dict:
    """One case of one subject -> a compact, picklable outcome."""
    with _quiet():
        return _run_one_loud(subject, index, config)


def _quiet():
    """Overflow and NaN in an implementation (or an oracle's error model) are judged, not printed:
    thousands of RuntimeWarnings would bury the report on the terminal."""
    import contextlib
    import warnings

    stack = contextlib.ExitStack()
    stack.enter_context(np.errstate(all="ignore"))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore", RuntimeWarning)
    return stack


def _run_one_loud(subject: Subject, index: int, config: CampaignConfig) -> dict:
    out = {"subject": subject.name, "index": index, "seed": case_seed(config.seed, index), "case_id": None,
           "sizes": None, "batch": None, "describe": None, "checks": {}, "failures": {}, "case_bytes": None,
           "features": None}
    try:
        case = _draw(subject, index, config)
    except Exception as e:
        v = _synthetic(HARNESS_CHECK, "draw_case", "torch", "error",
                       f"bpcheck could not draw case {index} for this subject: {_short_exc(e)} (a bpcheck bug)")
        out["checks"] = {"torch": {HARNESS_CHECK: _summary([v])}}
        out["failures"] = {"torch": {HARNESS_CHECK: [v]}}
        return out
    if _is_optim(subject):
        from reports.optim_run import case_record

        rec = case_record(case)
        out.update(case_id=case.case_id, sizes=rec["architecture"], batch=rec["batch"], describe=case.describe())
    else:
        out.update(case_id=case.case_id, sizes=list(case.spec.sizes), batch=case.m, describe=case.describe(),
                   # what the cross-case hypotheses look at, kept small: long campaigns hold one per case
                   features={"target": case.spec.target, "m": case.m,
                             "tags": [t for t in case.tags if t in ("large_logits", "saturated")],
                             "xmax": float(np.abs(case.x).max())})
    per_oracle = evaluate_case(subject, case, config, keep_difference=False)
    ran = not any(v["check"] == RUN_CHECK for vs in per_oracle.values() for v in vs)
    any_fail = False
    for oracle, verdicts in per_oracle.items():
        by = _case_checks(verdicts, ran and oracle == "torch")  # only torch judges side effects
        out["checks"][oracle] = {check: _summary(vs) for check, vs in by.items()}
        bad = {check: [v for v in vs if v["status"] in ("fail", "error")] for check, vs in by.items()}
        bad = {c: vs for c, vs in bad.items() if vs}
        if bad:
            out["failures"][oracle] = bad
            any_fail = True
    if any_fail:
        out["case_bytes"] = case.to_bytes()
    return out


def _summary(verdicts: list[dict]) -> dict:
    """One case, one check, one oracle: status and the worst errors among judged tensors."""
    judged = [v for v in verdicts if v["status"] in ("pass", "fail")]

    def worst(key):
        vals = [v[key] for v in judged if v[key] is not None]
        bad_nonfinite = any(v[key] is None and v["status"] == "fail" for v in judged)
        return math.inf if bad_nonfinite and judged else (max(vals) if vals else None)

    return {"status": _case_status(verdicts), "norm_rel": worst("norm_rel"), "max_rel": worst("max_rel"),
            "max_abs": worst("max_abs")}


def _run_chunk(task: tuple[Subject, list[int], CampaignConfig]) -> list[dict]:
    subject, indices, config = task
    return [_run_one(subject, i, config) for i in indices]


def _chunk_outcomes(task: tuple[Subject, list[int], CampaignConfig], chunk, config: CampaignConfig) -> list[dict]:
    """A chunk's outcomes; a chunk that could not run (executors.TaskLost) becomes one harness error per
    case, marked not run: reported, never silently dropped."""
    if not isinstance(chunk, executors.TaskLost):
        return chunk
    subject, indices, _ = task
    what = "raised in the worker (a bpcheck bug)" if chunk.raised else "was lost"
    return [_not_run(subject, i, config, f"case {i} {what}: {chunk.message}") for i in indices]


def _not_run(subject: Subject, index: int, config: CampaignConfig, message: str) -> dict:
    v = _synthetic(HARNESS_CHECK, "worker", "torch", "error", message)
    return {"subject": subject.name, "index": index, "seed": case_seed(config.seed, index), "case_id": None,
            "sizes": None, "batch": None, "describe": None, "checks": {"torch": {HARNESS_CHECK: _summary([v])}},
            "failures": {"torch": {HARNESS_CHECK: [v]}}, "case_bytes": None, "features": None, "not_run": True}


# ----------------------------------------------------------------------------- shrinking a failing case


def _smallest(task) -> dict:
    """Shrink a failing case (while each of its failing checks still fails) and re-judge it."""
    with _quiet():
        return _smallest_loud(task)


def _smallest_loud(task) -> dict:
    subject, pairs, index, data, config, shrink = task
    if data is None:  # a harness fault before a case existed
        return {"case": None, "verdicts": {}, "shrunk": False, "index": index}
    case = _load_case(data)
    oracles = tuple(o for o in config.oracles if any(o == p[1] for p in pairs))
    narrowed = replace(config, oracles=oracles)

    def fails(c: Case) -> bool:
        try:
            per = evaluate_case(subject, c, narrowed, checks=pairs)
        except Exception:
            return False
        return all(any(v["check"] == check and v["status"] in ("fail", "error") for v in per.get(oracle, []))
                   for check, oracle in pairs)

    drawn = case
    shrunk = False
    mod = _optional("oracles.shrink") if (shrink and all(c != HARNESS_CHECK for c, _ in pairs)
                                          and isinstance(case, Case)) else None
    if mod is not None:
        try:
            # stay inside what the entry point supports, or the driver's refusal would look like a failure
            small = mod.shrink(case, fails, space=_space(subject))
            if isinstance(small, Case) and small.case_id != case.case_id and fails(small):
                keep = [t for t in case.tags if t.startswith(("subject:", "campaign-seed:", "case-index:"))]
                tags = tuple(t for t in small.tags if t not in keep and t != "shrunk")
                case = replace(small, tags=tags + tuple(keep) + ("shrunk",))
                shrunk = True
        except Exception:
            pass  # shrinking is best effort: the original failing case is still a valid witness

    def failing(c: Case) -> dict:
        per = evaluate_case(subject, c, narrowed, keep_difference=True)
        return {(check, oracle): [v for v in per.get(oracle, [])
                                  if v["check"] == check and v["status"] in ("fail", "error")]
                for check, oracle in pairs}

    # the drawn case too: its (larger) difference heat maps show patterns a 1x1 case cannot
    drawn_verdicts = failing(drawn) if shrunk else {}
    return {"case": case.to_bytes(), "verdicts": failing(case), "drawn_verdicts": drawn_verdicts,
            "shrunk": shrunk, "index": index}
