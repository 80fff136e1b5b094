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
"""

from __future__ import annotations

import importlib
import math
import os
import re
import shlex
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.observation import CHECKS, Observation, check_of
from reports import executors

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
]

ORACLES = ("torch", "fd")
# Measured (11 subjects x 100 cases x both oracles, one worker): 16 s of CPU, about 20 s on an idle
# 2-core machine and 45 s on one loaded to 4x; `bpcheck report` with no arguments stays near a minute.
DEFAULT_CASES = 100
# Pseudo-checks beside oracles.observation.CHECKS.
RUN_CHECK = "run"  # the subject raised something the driver did not catch
HARNESS_CHECK = "harness"  # our own case generator or oracle failed: a bpcheck bug, reported loudly
MAX_OCCURRENCES = 50  # failing cases kept (and saved) per subject x check x oracle
MAX_DIFFERENCE_SIZE = 4096  # difference arrays larger than this are not embedded in results.json
HIST_LO, HIST_HI = -18, 3  # log10 error histogram range (one bin per decade)


class UnknownSubject(ValueError):
    """A --subjects name that names nothing; the message lists the valid names."""


# ----------------------------------------------------------------------------- subjects


@dataclass(frozen=True)
class Subject:
    """One entry point of one trusted implementation. ``module`` is re-resolved in each worker."""

    name: str
    style: str
    module: str  # "reference.nielsen", "mutant:NAME" or "package.module:ATTRIBUTE"
    entry: str

    @property
    def impl(self):
        return _resolve_impl(self.module)


_IMPL_CACHE: dict[str, object] = {}


def _resolve_impl(ref: str):
    if ref in _IMPL_CACHE:
        return _IMPL_CACHE[ref]
    if ref.startswith("mutant:"):
        impl = _mutant_impl(_mutant_registry()[ref[len("mutant:"):]])
    elif ":" in ref:
        mod, attr = ref.split(":", 1)
        impl = getattr(importlib.import_module(mod), attr)
    else:
        impl = importlib.import_module(ref)
    _IMPL_CACHE[ref] = impl
    return impl


def _mutant_registry() -> dict[str, object]:
    """name -> mutant, from reference.mutants.MUTANTS (a dict or a sequence of objects with .name)."""
    try:
        mutants = importlib.import_module("reference.mutants").MUTANTS
    except ModuleNotFoundError as e:
        if e.name != "reference.mutants":
            raise
        return {}
    if isinstance(mutants, dict):
        return dict(mutants)
    return {m.name: m for m in mutants}


def _mutant_impl(m):
    return getattr(m, "impl", m)


def _mutant_entry(m) -> str | None:
    return getattr(m, "entry", None)


def subject_slug(name: str) -> str:
    """A file-name-safe form of a subject name (for cases/<slug>-<caseid>.npz)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def _reference_modules() -> list[str]:
    import pkgutil

    import reference

    skip = {"functions", "mutants"}
    return sorted(
        f"reference.{m.name}"
        for m in pkgutil.iter_modules(reference.__path__)
        if m.name not in skip and not m.name.startswith("_")
    )


def _public_names(impl) -> list[str]:
    """Top-level names plus "Class.method" entries (what oracles.styles.detect reads)."""
    names = getattr(impl, "__all__", None)
    names = list(names) if names else [n for n in dir(impl) if not n.startswith("_")]
    out = list(names)
    for n in names:
        obj = getattr(impl, n, None)
        if isinstance(obj, type):
            out += [f"{n}.{m}" for m in dir(obj) if not m.startswith("_")]
    return out


SKIPPED: list[str] = []  # bundled modules default_subjects() could not load (reported in meta.notes)


def default_subjects() -> list[Subject]:
    """Every bundled reference implementation x every entry point the drivers find in it."""
    from oracles import styles

    subjects = []
    SKIPPED.clear()
    for mod in _reference_modules():
        try:
            impl = _resolve_impl(mod)
        except Exception as e:  # one broken module must not take the whole campaign down: say so instead
            SKIPPED.append(f"{mod} was skipped: importing it raised {_short_exc(e)}")
            continue
        style, _reason = styles.detect(_public_names(impl))
        if style is None:
            continue
        for entry in styles.entry_points(style, impl):
            subjects.append(Subject(f"{style}:{mod}[{entry}]", style, mod, entry))
    from reports.optim_run import optim_subjects  # optimizer rules (issue 11): their own Cases and judge

    for mod in _reference_modules():
        impl = _IMPL_CACHE.get(mod)
        if impl is not None:
            subjects += [Subject(name, style, mod, entry) for name, style, entry in
                         optim_subjects(mod, impl, _public_names(impl))]
    return subjects


def _is_optim(subject: Subject) -> bool:
    return subject.entry.startswith("optim:")


def _load_case(data: bytes):
    """A saved case: an MLP Case, or an optimizer OptimCase (oracles.optim.case)."""
    from oracles.optim.case import OptimCase, is_optim_bytes

    return OptimCase.from_bytes(data) if is_optim_bytes(data) else Case.from_bytes(data)


def mutant_subjects(names: Iterable[str] | None = None) -> list[Subject]:
    """Subjects for the named mutants (all when None); a mutant without an entry runs the style's first."""
    from oracles import styles

    registry = _mutant_registry()
    out = []
    for name in registry if names is None else names:
        m = registry[name]
        impl = _mutant_impl(m)
        style = getattr(m, "style", None) or styles.detect(_public_names(impl))[0]
        entry = _mutant_entry(m) or styles.entry_points(style, impl)[0]
        out.append(Subject(f"mutant:{name}", style, f"mutant:{name}", entry))
    return out


_EXPLICIT = re.compile(r"^(?P<style>[a-z0-9_]+):(?P<module>[A-Za-z_][\w.]*(?::[A-Za-z_]\w*)?)\[(?P<entry>[^\]]+)\]$")


def parse_subjects(text: str | None) -> list[Subject]:
    """--subjects NAME,... -> Subjects (defaults when empty). Raises UnknownSubject listing valid names.

    Accepted: an exact default subject name; a style (all its defaults); ``style:module`` (all
    entries of that module); ``mutant:NAME``; ``mutants`` (all);
    ``STYLE:package.module[ENTRY]`` / ``STYLE:package.module:ATTR[ENTRY]`` for trusted importable code.
    """
    defaults = default_subjects()
    if not text or not text.strip():
        return defaults
    chosen: list[Subject] = []
    unknown: list[str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        found = _match(token, defaults)
        if found is None:
            unknown.append(token)
        else:
            chosen.extend(s for s in found if s not in chosen)
    if unknown:
        mutant_names = sorted(_mutant_registry())
        lines = [f"unknown subject(s): {', '.join(unknown)}.", "Valid subjects:"]
        lines += [f"  {s.name}" for s in defaults]
        if mutant_names:
            lines.append(f"  mutant:NAME with NAME one of: {', '.join(mutant_names)} (or 'mutants' for all)")
        styles_named = ", ".join(sorted({s.style for s in defaults}))
        lines.append(f"  a style name ({styles_named}) selects all its subjects;")
        lines.append("  STYLE:package.module[ENTRY] runs trusted importable code (student files: bpcheck validate)")
        raise UnknownSubject("\n".join(lines))
    return chosen


def _match(token: str, defaults: list[Subject]) -> list[Subject] | None:
    exact = [s for s in defaults if s.name == token]
    if exact:
        return exact
    by_style = [s for s in defaults if s.style == token]
    if by_style:
        return by_style
    by_module = [s for s in defaults if f"{s.style}:{s.module}" == token or s.module == token]
    if by_module:
        return by_module
    if token == "mutants":
        return mutant_subjects() or None
    if token.startswith("mutant:"):
        name = token[len("mutant:"):]
        return mutant_subjects([name]) if name in _mutant_registry() else None
    m = _EXPLICIT.match(token)
    if m:
        try:
            _resolve_impl(m["module"])
        except (ImportError, AttributeError):
            return None
        return [Subject(token, m["style"], m["module"], m["entry"])]
    return None


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class CampaignConfig:
    cases: int = DEFAULT_CASES
    seed: int = 0
    dtype: str = "float64"
    oracles: tuple[str, ...] = ORACLES
    workers: int = 1
    shrink: bool = True
    fd_directions: int = 8
    cluster: str | None = None  # a Dask scheduler address (reports.executors): the cases run there


def case_seed(seed: int, index: int) -> int:
    """The seed of case ``index`` in a campaign with seed ``seed`` (documented, stable)."""
    return int(seed) * 1_000_003 + int(index)


def _optional(module: str):
    """An oracles module that may not exist yet (diagnose, shrink): None when absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        return None


def preload() -> None:
    """Import the drivers and oracles now (a few seconds: torch, hypothesis) rather than inside case 0."""
    for mod in ("oracles.styles", "oracles.strategies", "oracles.torch_autograd", "oracles.finite_diff",
                "oracles.compare"):
        importlib.import_module(mod)
    _init_torch()


def _init_torch() -> None:
    import torch

    torch.set_num_threads(1)  # tiny tensors: one thread is ~60x faster here


# ----------------------------------------------------------------------------- one case


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


def _short_exc(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(e).__name__}: {e}{where}"


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

