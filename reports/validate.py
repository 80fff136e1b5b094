"""Validate one student file: load it in the sandbox, fuzz every entry point, judge, explain.

    report = validate_file("student.py")            # ValidationReport
    report.verdict                                  # pass | warn | fail | error
    print(report.render())                          # the readable report
    assert_backprop_matches("student.py", style="nielsen")   # for instructors' own pytest files

Pipeline: load (oracles.sandbox) -> detect style (oracles.styles.detect, or forced) -> for each
entry point draw Cases from its SpecSpace (oracles.strategies.draw_case; batch 1 and larger,
one-hot and labels, large logits, saturated units, near kinks) -> run them in the child ->
compare with the torch oracle (oracles.compare) -> a consistent cost convention the submission
follows (oracles.diagnose.detect_convention) is judged as that convention, not as a bug -> the
submission's own loss against its own gradient (finite differences along random directions) ->
diagnosis (oracles.diagnose) -> the first failing Case shrunk (oracles.shrink) and printed as a
snippet the student can paste. The child never sees an expected value; the parent never trusts
what the child sends.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.observation import CHECKS, Observation

__all__ = [
    "VERDICTS",
    "Check",
    "ValidationReport",
    "ValidationOptions",
    "validate_file",
    "assert_backprop_matches",
    "worst",
]

VERDICTS = ("pass", "warn", "fail", "error")
_RANK = {v: i for i, v in enumerate(VERDICTS)}

# Regimes cycled over the case index: mostly ordinary, then the stress regimes.
_REGIMES = (None, None, None, None, None, None, "tiny", "large_logits", "saturated", "near_kink")
_SELF_CHECK_CASES = 3  # cases per entry point for the own-loss-vs-own-gradient check
# Batches of 1..8: batch-size bugs (a missing 1/m, a bias not summed) show from m = 2, and a per-sample
# style (Nielsen) pays for every sample in the child.
_MAX_BATCH = 8
_OWN_LOSS_CASES = 20  # the child reports its own loss for the first cases only (candidates for the above)
_FAULT_TEXT = {
    "timeout": "time limit",
    "cpu": "CPU time limit",
    "memory": "memory limit",
    "exit": "exited",
    "killed": "child killed",
    "exception": "raised",
    "protocol": "malformed answer",
    "patched": "numpy monkey-patched",
    "not_run": "not run",
}


def worst(verdicts) -> str:
    vs = list(verdicts)
    return max(vs, key=lambda v: _RANK[v]) if vs else "pass"


@dataclass
class Check:
    """One row of the report: an entry point's check family (or a whole-file check)."""

    name: str
    verdict: str
    message: str
    diagnosis: str = ""
    bug_class: str | None = None
    n_cases: int = 0
    n_failed: int = 0
    case: Case | None = field(default=None, repr=False)
    snippet: str | None = None
    convention: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "message": self.message,
            "diagnosis": self.diagnosis,
            "bug_class": self.bug_class,
            "n_cases": self.n_cases,
            "n_failed": self.n_failed,
            "convention": self.convention,
            "case": None if self.case is None else {"id": self.case.case_id, "describe": self.case.describe()},
            "snippet": self.snippet,
        }


@dataclass
class ValidationOptions:
    style: str = "auto"
    root: str | None = None
    cases: int = 100
    seed: int = 0
    timeout: float = 5.0
    memory_mb: int = 2048
    allow_imports: tuple[str, ...] = ()
    shrink: bool = True
    shrink_steps: int = 60
    budget: float = 60.0  # seconds of child time per entry point; later cases are skipped, not failed
    total_budget: float = 600.0  # seconds per submission; later entry points are not run


@dataclass
class ValidationReport:
    path: str
    style: str | None
    style_reason: str
    checks: list[Check]
    notes: list[str] = field(default_factory=list)
    conventions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    options: ValidationOptions | None = None

    @property
    def verdict(self) -> str:
        return worst(c.verdict for c in self.checks)

    def counts(self) -> dict[str, int]:
        c = Counter(ch.verdict for ch in self.checks)
        return {v: c.get(v, 0) for v in VERDICTS}

    def bug_classes(self) -> list[str]:
        return sorted({c.bug_class for c in self.checks if c.bug_class and c.verdict in ("fail", "error")})

    def to_dict(self) -> dict:
        o = self.options or ValidationOptions()
        return {
            "file": self.path,
            "verdict": self.verdict,
            "style": self.style,
            "style_reason": self.style_reason,
            "counts": self.counts(),
            "checks": [c.to_dict() for c in self.checks],
            "conventions": list(self.conventions),
            "notes": list(self.notes),
            "bug_classes": self.bug_classes(),
            "seconds": round(self.seconds, 3),
            "settings": {"cases": o.cases, "seed": o.seed, "timeout": o.timeout, "memory_mb": o.memory_mb,
                         "root": o.root, "allow_imports": list(o.allow_imports)},
        }

    def render(self, *, snippets: bool = True, verbose: bool = False) -> str:
        """The report a person reads (passing checks of an entry point on one line unless verbose)."""
        mark = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR"}
        lines = [f"bpcheck validate {self.path}", f"style: {self.style or '?'} ({self.style_reason})"]
        o = self.options
        if o is not None:
            lines.append(f"cases: {o.cases} per entry point, seed {o.seed}; limits {o.timeout:g} s per check, "
                         f"{o.memory_mb} MB")
        for c in self.conventions:
            lines.append(f"convention: {c}")
        lines.append("")
        shown: dict[str, str] = {}
        passed: dict[str, list[Check]] = {}  # entry -> its passing rows, printed as one line
        for ch in self.checks:
            entry, _, family = ch.name.partition(": ")
            if ch.verdict == "pass" and family and not verbose:
                if entry not in passed:
                    passed[entry] = []
                    lines.append(entry)  # placeholder, filled in below
                passed[entry].append(ch)
                continue
            count = f" [{ch.n_failed}/{ch.n_cases} cases]" if ch.n_cases and ch.verdict != "pass" else (
                f" [{ch.n_cases} cases]" if ch.n_cases else "")
            lines.append(f"{mark[ch.verdict]:5} {ch.name}{count}: {_indent(ch.message)}")
            if ch.diagnosis and ch.verdict != "pass":
                lines.append(f"      diagnosis: {_indent(ch.diagnosis)}")
            if snippets and ch.snippet and ch.verdict in ("fail", "error"):
                if ch.snippet in shown:
                    lines.append(f"      smallest failing case: the same as for {shown[ch.snippet]}")
                else:
                    shown[ch.snippet] = ch.name
                    lines.append("      smallest failing case (paste into a Python session next to your file):")
                    lines += ["        " + s for s in ch.snippet.splitlines()]
        for entry, rows in passed.items():
            families = ", ".join(r.name.partition(": ")[2] for r in rows)
            most = max(r.n_cases for r in rows)
            conv = {r.convention for r in rows if r.convention}
            text = f"PASS  {entry}: {families} [{most} cases]" + (f" (convention: {', '.join(conv)})" if conv else "")
            lines[lines.index(entry)] = text
        if self.notes:
            lines.append("")
            lines += [f"note: {n}" for n in self.notes]
        c = self.counts()
        lines.append("")
        lines.append(f"verdict: {self.verdict.upper()} ({c['pass']} pass, {c['warn']} warn, {c['fail']} fail, "
                     f"{c['error']} error; {self.seconds:.1f} s)")
        return "\n".join(lines)


def _indent(text: str) -> str:
    return text.replace("\n", "\n        ")


# ---------------------------------------------------------------- the pipeline


def validate_file(path: str | Path, options: ValidationOptions | None = None, **kw) -> ValidationReport:
    """Validate one submission file; never raises for anything the submission does.

    Raises ValueError only for usage errors (unknown style; the message names the choices)."""
    # torch takes ~2 s to import: let it load while the child starts and probes the submission
    import threading

    from oracles.sandbox import Sandbox

    threading.Thread(target=_import_oracle, daemon=True).start()
    o = replace(options or ValidationOptions(), **kw)
    if isinstance(o.allow_imports, str):
        o.allow_imports = (o.allow_imports,)
    o.allow_imports = tuple(o.allow_imports)
    t0 = time.monotonic()
    path = str(path)
    report = ValidationReport(path=path, style=None, style_reason="", checks=[], options=o)
    styles = _styles()
    if o.style != "auto" and o.style not in styles.STYLES:
        raise ValueError(f"unknown style {o.style!r}; choose one of auto, {', '.join(styles.STYLES)}")
    if o.cases < 1:
        raise ValueError(f"cases={o.cases}: give at least 1 case per entry point")
    with Sandbox(path, root=o.root, allow_imports=o.allow_imports, timeout=o.timeout,
                 memory_mb=o.memory_mb) as sb:
        info = sb.load()
        report.notes += info.notes
        if not info.ok:
            report.style_reason = "not loaded"
            report.checks.append(Check("load", "error", _load_message(info), bug_class=_load_class(info)))
            report.seconds = time.monotonic() - t0
            return report
        from reports.validate_optim import optimizer_style, validate_optimizers

        opt_style, opt_why = optimizer_style(info.names, o.style)  # optimizer files (issue 11)
        if o.style == "auto":
            style, why = styles.detect(info.names)
            report.style, report.style_reason = style, f"auto: {why}"
            if style is None and opt_style is not None:
                report.style, report.style_reason = opt_style, f"auto: {opt_why}"
            elif style is None:
                report.checks.append(Check("style", "error", f"{why}; pass --style NAME (one of "
                                           f"{', '.join(styles.STYLES)})", bug_class="style"))
                report.seconds = time.monotonic() - t0
                return report
            elif opt_style is not None:
                report.style_reason += f"; {opt_why}"
        else:
            report.style, report.style_reason = o.style, "forced with --style"
        if opt_style is None and report.style == "mytorch" and sb.optim_entries("mytorch")[0]:
            opt_style = "mytorch"  # a package's optimizers, imported into the file that gathers it
        spaces, why = sb.entries(report.style)
        if not spaces and opt_style is None:
            report.checks.append(Check("entry points", "error", f"no {report.style} entry point could be run: "
                                       f"{why or 'none found'}", bug_class=sb.last_fault or "style"))
        judge = _Judge(sb, report, o)
        judge.names = set(info.names)
        for entry, space in spaces.items():
            if time.monotonic() - t0 > o.total_budget:
                report.checks.append(Check(f"{entry}: run", "error", f"not run: the submission used up its total "
                                           f"time budget of {o.total_budget:g} s (very slow code)",
                                           bug_class="timeout"))
                continue
            judge.entry(entry, space)
        judge.finish()
        if opt_style is not None:
            validate_optimizers(sb, report, o, opt_style)
            if not report.checks:
                report.checks.append(Check("entry points", "error", f"no {opt_style} optimizer or network entry "
                                           f"point could be run", bug_class="style"))
    report.seconds = time.monotonic() - t0
    return report


def _import_oracle() -> None:
    # in the order the main thread needs them: the case generator (hypothesis), then the oracle (torch)
    try:
        import oracles.strategies  # noqa: F401
        import oracles.torch_autograd  # noqa: F401
    except Exception:  # noqa: BLE001 - the main thread's import reports it properly
        pass


def _styles():
    from oracles import styles

    return styles


def _load_message(info) -> str:
    if info.kind in ("syntax", "python2", "not_allowed"):
        return info.message or info.kind
    return info.message or f"the file could not be loaded ({info.kind})"


def _load_class(info) -> str:
    return {"syntax": "syntax_error", "python2": "python2", "not_allowed": "not_allowed"}.get(info.kind or "", "load")


@dataclass
class _Row:
    name: str
    family: str
    n_cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    first: tuple | None = None  # (case, message, diagnoses, verdicts, observed, expected)
    fault: str | None = None
    warn_message: str | None = None
    conventions: Counter = field(default_factory=Counter)
    bad_ordinary: int = 0  # failing cases outside the stress regimes
    ordinary_statuses: Counter = field(default_factory=Counter)
    bad_finite_loss: int = 0  # failing loss cases whose loss is not simply +inf


class _Judge:
    def __init__(self, sb, report: ValidationReport, o: ValidationOptions) -> None:
        self.sb, self.report, self.o = sb, report, o
        self.style = report.style
        self.rows: dict[tuple[str, str], _Row] = {}
        self.notes: list[str] = []
        self.output_entries: dict[str, int] = {}
        self.patched: set[str] = set()
        self.names: set[str] = set()
        self.oracle_cache: dict = {}
        self.shrunk: dict = {}
        self.denied: set[str] = set()
        self.pending: list = []  # entries run but not judged yet (judged while the child works)
        self.self_checks: list = []  # (entry, cases): need the child, so after every entry has run
        self.conv_cases: Counter = Counter()
        self.entry_cases: Counter = Counter()

    @property
    def oracle(self):
        # imported on first use, inside the first wait for the child: the child starts on the cases
        # while torch is still loading in the background thread
        from oracles import torch_autograd

        return torch_autograd

    # -- cases

    def draw(self, entry: str, space) -> list[Case]:
        from oracles.strategies import draw_case

        cases = []
        # One seed stream for every entry point: entry points with the same spec space get the same
        # Cases (and the oracle's answers are cached). A single component run among reference parts
        # (fn:<name>, layer:<Class>) needs fewer Cases (a tenth, at least 10): the assembled entry points
        # exercise it fully.
        base = (self.o.seed * 1_000_003) % (2**62)
        n = self.o.cases if ":" not in entry else min(self.o.cases, max(10, self.o.cases // 10))
        for i in range(n):
            regime = _REGIMES[i % len(_REGIMES)]
            try:
                cases.append(draw_case(space, base + i, regime=regime, max_batch=_MAX_BATCH))
            except ValueError:
                try:
                    cases.append(draw_case(space, base + i, max_batch=_MAX_BATCH))
                except ValueError as e:
                    self.notes.append(f"{entry}: could not draw a case ({e})")
                    break
        if space.layout == "rows" and (entry == "layers" or ":" in entry):
            # every third Case hands affine layers an (m, p, q) batch: Affine/affine_forward must reshape it
            # (layer-level entry points only: whole nets such as CS231n assignment 1's take 2-d X)
            cases = [replace(c, tags=c.tags + ("nd_input",)) if i % 3 == 2 else c for i, c in enumerate(cases)]
        return cases

    def row(self, entry: str, family: str) -> _Row:
        key = (entry, family)
        if key not in self.rows:
            self.rows[key] = _Row(name=f"{entry}: {family}", family=family)
        return self.rows[key]

    # -- one entry point

    def entry(self, entry: str, space) -> None:
        cases = self.draw(entry, space)
        if not cases:
            return
        self.entry_cases[entry] = len(cases)
        expected: dict[int, Observation] = {}

        def meanwhile() -> None:
            # the parent's share, while the child works: this entry's oracle, the previous entry's judging
            for i, c in enumerate(cases):
                key = _case_key(c)
                if key not in self.oracle_cache:
                    self.oracle_cache[key] = self.oracle.expected(c)
                expected[i] = self.oracle_cache[key]
            self.judge_pending()

        # the own loss is only needed for the few self-consistency cases, taken from the first ones
        results = self.sb.run(self.style, entry, cases, own_loss=True, own_loss_limit=_OWN_LOSS_CASES,
                              while_waiting=meanwhile, budget=self.o.budget)
        self.pending.append((entry, cases, results, expected))

    def judge_pending(self) -> None:
        while self.pending:
            self.judge_entry(*self.pending.pop(0))

    def judge_entry(self, entry: str, cases: list[Case], results: list, expected: dict) -> None:
        skipped = sum(r.fault == "budget" for r in results)
        if skipped:
            self.notes.append(f"{entry}: only {len(cases) - skipped} of {len(cases)} cases ran within the "
                              f"{self.o.budget:g} s budget (slow code); the rest were not judged")
            keep = [k for k, r in enumerate(results) if r.fault != "budget"]
            cases, results = [cases[k] for k in keep], [results[k] for k in keep]
            expected = {n: expected[k] for n, k in enumerate(keep) if k in expected}
        faults: list[tuple[Case, object]] = []
        families_seen: set[str] = set()
        self_checks: list[tuple[Case, Observation, float]] = []
        # A convention is a property of the file: learn it from the cases that show it clearly, then
        # judge every case under it (a case where a tensor is ~0 cannot show a factor by itself).
        from oracles.compare import compare_observation

        conventions = Counter()
        self.entry_convention = None
        verdicts: dict[int, list] = {}
        for i, (case, r) in enumerate(zip(cases, results)):
            if not r.fault:
                exp = expected.get(i) or self.oracle.expected(case)
                expected[i] = exp
                verdicts[i] = compare_observation(case, r.obs, exp)
                if any(not v.passed for v in verdicts[i]):
                    conv = self.convention_of(case, r.obs, exp)
                    if conv is not None:
                        conventions[conv] += 1
        if conventions:
            self.entry_convention = conventions.most_common(1)[0][0]
        for i, (case, r) in enumerate(zip(cases, results)):
            if r.output_bytes > self.sb.output_cap:
                self.output_entries[entry] = self.output_entries.get(entry, 0) + r.output_bytes
            self.denied.update(r.denied)
            if r.fault == "patched":
                self.patched.update(r.patched)
                faults.append((case, r))
                continue
            if r.fault:
                faults.append((case, r))
                continue
            obs = r.obs
            for n in obs.notes:
                text = n if n.startswith(entry) else f"{entry}: {n}"
                if text not in self.notes:
                    self.notes.append(text)
            exp = expected.get(i) or self.oracle.expected(case)
            fams = self.judge_case(entry, case, obs, exp, verdicts[i])
            loss_ok = "loss_ok" in fams or "loss" not in fams
            families_seen |= fams - {"loss_ok"}
            # own loss vs own gradient only where the own loss agreed with the oracle's at the point
            # itself: a clipped or 1e-7-shifted cost is a convention, and its slope differs slightly
            if (loss_ok and r.own_loss is not None and math.isfinite(r.own_loss)
                    and case.tags[:1] in (("ordinary",), ())
                    and len(self_checks) < _SELF_CHECK_CASES and any(k[0] in "Wb" for k in obs.grads)):
                self_checks.append((case, obs, r.own_loss))
        for case, r in faults:
            fams = sorted(families_seen) or ["run"]
            if r.fault == "patched":
                fams = ["integrity"]
            for fam in fams:
                row = self.row(entry, fam)
                row.n_cases += 1
                row.statuses["error"] += 1
                if row.fault is None:
                    row.fault = r.fault
                    row.first = (case, f"{_FAULT_TEXT.get(r.fault, r.fault)}: {r.message}", [], [], None, None,
                                 "error")
        if self_checks:
            self.self_checks.append((entry, self_checks))

    def judge_case(self, entry: str, case: Case, obs: Observation, exp: Observation, verdicts: list) -> set[str]:
        by_family: dict[str, list] = {}
        for v in verdicts:
            by_family.setdefault(v.check if v.check in CHECKS else "loss", []).append(v)
        bad_fams = {f for f, vs in by_family.items() if any(not v.passed for v in vs)}
        conv = None
        conv_fams: set[str] = set()
        if bad_fams & {"loss", "grad_W", "grad_b", "grad_x", "grad_hidden", "update", "trajectory"}:
            conv, verdicts2 = self.under_convention(case, obs, exp)
            if conv is not None:
                fixed = {}
                for v in verdicts2:
                    fixed.setdefault(v.check if v.check in CHECKS else "loss", []).append(v)
                conv_fams = {f for f in bad_fams if f in fixed and all(v.passed for v in fixed[f])}
        if conv_fams:
            self.conv_cases[(entry, conv.name)] += 1
        loss_note = None
        if "loss" in bad_fams and "loss" not in conv_fams and obs.loss is not None:
            loss_note = _loss_convention(case, obs.loss, exp.loss)
        diagnoses = None
        for fam, vs in by_family.items():
            row = self.row(entry, fam)
            row.n_cases += 1
            if fam not in bad_fams:
                row.statuses["pass"] += 1
                continue
            if fam in conv_fams:
                row.statuses["pass"] += 1
                row.conventions[conv.name] += 1
                continue
            status = "error" if any(v.status == "error" for v in vs) else "fail"
            if fam == "loss" and loss_note is not None and status == "fail":
                kind, text = loss_note
                if kind == "precision":
                    row.statuses["pass"] += 1
                    continue
                if kind == "convention":
                    row.statuses["pass"] += 1
                    row.conventions[text] += 1
                    self.conv_cases[(entry, text)] += 1
                    continue
                status = "warn"  # saturated outputs: a cost from probabilities cannot be exact there
                row.warn_message = text
            if fam == "side_effects" and self.hygiene_only(vs):
                status = "warn"
                row.warn_message = ("writes into dout in place, as the course's own Relu does: harmless in a "
                                    "plain chain, wrong wherever dout is used again")
            if diagnoses is None:
                diagnoses = self.diagnose(case, verdicts, obs, exp)
            if status == "fail" and diagnoses and diagnoses[0].bug_class == "kink_convention":
                status = "warn"
                row.warn_message = "a different subgradient at exact kinks (relu'(0)); torch uses 0"
            row.statuses[status] += 1
            ordinary = case.tags[:1] not in _STRESS
            if status in ("fail", "error"):
                row.bad_ordinary += ordinary
                row.bad_finite_loss += not all("is inf" in (v.detail or "") for v in vs if not v.passed)
            if ordinary:
                row.ordinary_statuses[status] += 1
            # the case a student sees first: an ordinary one when there is one, the worst of those
            first_ordinary = row.first is not None and row.first[0].tags[:1] not in _STRESS
            if (row.first is None or (ordinary and not first_ordinary)
                    or (ordinary == first_ordinary and _RANK[status] > _RANK[row.first[6]])):
                msg = "\n".join(_short(v.message if v.status != "error" else f"{v.context} > {v.name}: "
                                        f"{self.fault_text(v.detail)}") for v in vs if not v.passed)
                row.first = (case, msg, diagnoses, verdicts, obs, exp, status)
        return {f for f in by_family} | ({"loss_ok"} if "loss" in by_family and "loss" not in bad_fams else set())

    def fault_text(self, detail: str) -> str:
        """Name the limit behind a driver-reported fault (the driver only saw the exception)."""
        if "MemoryError" in detail:
            return f"memory limit ({self.o.memory_mb} MB) exceeded: {detail}"
        if "RecursionError" in detail:
            return f"recursion limit exceeded: {detail}"
        for py2 in ("xrange", "raw_input", "unicode", "basestring", "iteritems", "has_key", "izip"):
            if f"'{py2}'" in detail and ("NameError" in detail or "AttributeError" in detail):
                return f"{detail} (Python 2 code: {py2} does not exist in Python 3)"
        return detail

    def hygiene_only(self, vs) -> bool:
        """In-place writes that the canonical course solution makes too (Saito's Relu into dout)."""
        names = [v.name for v in vs if not v.passed]
        return self.style in ("saito", "cs231n") and bool(names) and all("dout" in n for n in names)

    def diagnose(self, case, verdicts, obs, exp) -> list:
        try:
            from oracles.diagnose import diagnose
        except ImportError:
            return []
        try:
            return diagnose(case, verdicts, obs, exp)
        except Exception as e:  # noqa: BLE001 - a diagnosis failure must not lose the verdict
            self.notes.append(f"diagnosis failed on case {case.case_id}: {type(e).__name__}: {e}")
            return []

    def convention_of(self, case: Case, obs: Observation, exp: Observation):
        try:
            from oracles.diagnose import detect_convention

            return detect_convention(case, obs, exp)
        except Exception:  # noqa: BLE001 - no convention is the safe answer
            return None

    def under_convention(self, case: Case, obs: Observation, exp: Observation):
        """(convention, verdicts under it) when the observation follows the file's convention."""
        from oracles.compare import compare_observation

        conv = getattr(self, "entry_convention", None) or self.convention_of(case, obs, exp)
        if conv is None:
            return None, []
        if conv.spec_changes:
            case2 = case.with_spec(**dict(conv.spec_changes))
            exp2 = self.oracle.expected(case2)
        elif conv.reg_factor != 1.0:
            exp2 = self.oracle.expected(case.with_spec(reg=case.spec.reg * conv.reg_factor))
        else:
            # factor f on the whole cost: loss and gradients scale by f, SGD moves as with lr * f
            g, lf = conv.grad_factor, conv.loss_factor
            stepped = self.oracle.expected(replace(case, lr=case.lr * g))
            exp2 = Observation(
                loss=None if exp.loss is None else exp.loss * lf,
                grads={k: v * g for k, v in exp.grads.items()},
                updated=stepped.updated,
                trajectory=stepped.trajectory,
                notes=list(exp.notes),
                err_est={k: v * (lf if k == "loss" else g) if k in exp.grads or k == "loss" else
                         stepped.err_est.get(k, v) for k, v in exp.err_est.items()},
            )
        return conv, compare_observation(case, obs, exp2)

    # -- the submission's own loss against its own gradient

    def self_consistency(self, entry: str, items) -> None:
        try:
            from oracles import finite_diff
        except ImportError:
            self.notes.append("own loss vs own gradient not checked: oracles.finite_diff is not available")
            return
        from oracles.compare import compare_tensor

        row = self.row(entry, "self_consistency")
        for case, obs, _own in items:
            names = [k for k in case.params if k in obs.grads]
            rng = np.random.default_rng([case.seed, 0xD1])
            direction = {k: rng.standard_normal(case.params[k].shape) for k in names}
            norm = math.sqrt(sum(float(np.sum(d * d)) for d in direction.values()))
            direction = {k: d / norm for k, d in direction.items()}
            failed_eval: list[str] = []

            def f(params, case=case, failed=failed_eval):
                full = dict(case.params)
                full.update({k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
                try:
                    c2 = replace(case, params=full)
                except ValueError as e:
                    failed.append(str(e))
                    return float("nan")
                r = self.sb.own_losses(self.style, entry, [c2])[0]
                if r.fault or r.own_loss is None:
                    failed.append(r.message or "no loss")
                    return float("nan")
                return r.own_loss

            try:
                fd = finite_diff.directional(f, {k: case.params[k] for k in names}, direction)
            except Exception as e:  # noqa: BLE001
                self.notes.append(f"{entry}: own-loss finite differences failed ({type(e).__name__}: {e})")
                return
            value, err = _fd_value(fd)
            analytic = sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) * direction[k]))
                           for k in names if np.shape(obs.grads[k]) == direction[k].shape)
            row.n_cases += 1
            if failed_eval or value is None or not math.isfinite(value):
                row.statuses["error"] += 1
                row.ordinary_statuses["error"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"own loss could not be evaluated: {(failed_eval or ['?'])[0]}", [], [],
                                 obs, None, "error")
                continue
            scale = math.sqrt(sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) ** 2)) for k in names))
            v = compare_tensor("own gradient . d vs d/dt own loss(p + t d)", analytic, value,
                               dtype=case.spec.dtype, oracle="fd", scale=scale, err_est=err, check="loss")
            if v.passed:
                row.statuses["pass"] += 1
            else:
                row.statuses["fail"] += 1
                row.ordinary_statuses["fail"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"the submission's own loss and its own gradient disagree: directional "
                                 f"derivative of its loss {value:.6g}, its gradient gives {analytic:.6g} "
                                 f"({v.message})", [], [], obs, None, "fail")

    # -- rows to checks

    def finish(self) -> None:
        self.judge_pending()
        for entry, items in self.self_checks:
            self.self_consistency(entry, items)
        report = self.report
        order = {f: i for i, f in enumerate(CHECKS + ("self_consistency", "integrity", "run"))}
        for _key, row in sorted(self.rows.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
            report.checks.append(self.to_check(row))
        if not self.output_entries and self.sb.output_so_far > self.sb.output_cap:
            self.output_entries["all checks"] = self.sb.output_so_far
        if self.output_entries:
            total = sum(self.output_entries.values())
            report.checks.append(Check(
                "output", "warn",
                f"the submission printed {total / 1e6:.1f} MB while being checked ({', '.join(self.output_entries)});"
                f" output is cut at {self.sb.output_cap // 1024} KB: remove debug prints from backprop",
                bug_class="output_flood"))
        control = sorted(d for d in self.denied if d.startswith("os."))
        writes = sorted(d[len("write "):] for d in self.denied if d.startswith("write "))
        if control:
            report.checks.append(Check(
                "sandbox", "fail",
                f"the submission tried to control processes or damage files: {', '.join(control)} (refused); "
                f"a gradient never needs these", bug_class="sandbox_violation"))
        if writes:
            report.checks.append(Check(
                "files outside", "warn",
                f"the submission tried to write outside its sandbox: {', '.join(writes[:5])} (refused)",
                bug_class="files_written"))
        files = self.sb.written_files()
        if files:
            report.checks.append(Check(
                "files", "warn",
                f"the submission created files while being checked: {', '.join(files[:8])}; they are ignored "
                f"(results only travel over an authenticated pipe, and file contents cannot be written in the "
                f"sandbox)", bug_class="files_written"))
        if self.patched:
            report.notes.append("monkey-patched (restored after each call): " + ", ".join(sorted(self.patched)))
        if self.sb.events:
            report.notes.append(f"the child interpreter was restarted {self.sb.restarts} time(s) after fatal faults")
        by_name: dict[str, list[str]] = {}
        for (entry, name), n in sorted(self.conv_cases.items()):
            by_name.setdefault(name, []).append(f"{entry} {n}/{self.entry_cases[entry]}")
        for name, where in by_name.items():
            report.conventions.append(f"{name}: judged under it (cases that differ from the canonical convention: "
                                      f"{', '.join(where)}; the others agree either way)")
        report.notes += _collapse(self.notes)

    def to_check(self, row: _Row) -> Check:
        st = row.statuses
        n_bad = st["fail"] + st["error"] + st["warn"]
        if not n_bad:
            conv = ", ".join(row.conventions) if row.conventions else None
            msg = f"all {row.n_cases} cases match"
            if conv:
                msg += f" (under the convention: {conv})"
            if row.family == "self_consistency":
                msg = f"own loss and own gradient agree on {row.n_cases} case(s) (random directional derivative)"
            return Check(row.name, "pass", msg, n_cases=row.n_cases, convention=conv)
        verdict = "error" if st["error"] else ("fail" if st["fail"] else "warn")
        if verdict in ("fail", "error") and row.bad_ordinary == 0 and row.fault is None:
            # Only saturated outputs / huge logits: judged against what the course's own code does there.
            if self.style == "dlai":
                verdict, row.warn_message = "warn", (
                    "only where the output saturates (AL rounds to 0 or 1): the course's own cost and "
                    "dAL = -(Y/AL - (1-Y)/(1-AL)) overflow there too; dZ = AL - Y avoids it")
            elif self.style == "mytorch":
                verdict, row.warn_message = "warn", (
                    "only for huge logits: the writeup's softmax exp(A) / sum exp(A) overflows there too; "
                    "subtract each row's max first")
            elif row.family == "loss" and row.bad_finite_loss == 0 and not st["fail"]:
                verdict, row.warn_message = "warn", (
                    "the loss overflows to inf only where a probability underflows to 0 (huge logits), as the "
                    "course's -log(probs[y]) does; a log-softmax form stays finite")
        elif verdict in ("fail", "error") and self.style == "dlai" and row.fault is None:
            # the course's own formula fails at saturation: judge dlai files on the ordinary cases
            ordinary = row.ordinary_statuses
            verdict = "error" if ordinary["error"] else ("fail" if ordinary["fail"] else verdict)
        case, msg, diagnoses, verdicts, obs, exp = row.first[:6]
        diag = ""
        bug = None
        useful = [d for d in diagnoses or [] if d.bug_class != "raised"]
        if useful:
            diag = "; ".join(_short(str(d)) for d in useful[:2])
            bug = useful[0].bug_class
        elif diagnoses:
            bug = diagnoses[0].bug_class
        elif verdict == "error" and row.fault:
            bug = row.fault
        elif verdict in ("fail", "error"):
            diag = "unclassified"
            bug = "unclassified"
        if row.family == "self_consistency" and verdict == "fail":
            bug = "loss_grad_mismatch"
        n = f"{n_bad} of {row.n_cases} cases"
        head = {"error": f"{n} could not be checked", "fail": f"{n} disagree with the oracle",
                "warn": f"{n} raise a warning"}[verdict]
        if verdict == "warn" and row.warn_message:
            head += f" ({row.warn_message})"
        if verdict == "warn":
            return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                         diagnosis="", bug_class=None, n_cases=row.n_cases, n_failed=n_bad, case=case)
        small = case
        if verdict in ("fail", "error") and self.o.shrink and exp is not None and row.family != "self_consistency":
            small = self.shrink(row, case)
        snippet = None
        if small is not None and verdict in ("fail", "error"):
            try:
                snippet = snippet_for(self.style, row.name.split(": ")[0], small, self.report.path, self.oracle,
                                      self.names)
            except Exception as e:  # noqa: BLE001 - a snippet is a courtesy
                snippet = f"# (no snippet: {type(e).__name__}: {e})"
        return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                     diagnosis=diag, bug_class=bug, n_cases=row.n_cases, n_failed=n_bad, case=small,
                     snippet=snippet)

    def shrink(self, row: _Row, case: Case) -> Case:
        try:
            from oracles.shrink import shrink
        except ImportError:
            return case
        from oracles.compare import compare_observation

        entry = row.name.split(": ")[0]

        def fails(c: Case) -> bool:
            r = self.sb.run(self.style, entry, [c], give_up_after=1)[0]
            if r.fault:
                return False
            vs = compare_observation(c, r.obs, self.oracle.expected(c, estimate=True))
            return any(not v.passed and v.check == row.family for v in vs)

        # rows of one entry point usually fail on the same first case: reuse its shrunk form when it
        # shows this row's failure too (one snippet, one shrink)
        key = (entry, case.case_id)
        done = self.shrunk.get(key)
        if done is not None and done is not case and fails(done):
            return done
        try:
            small = shrink(case, fails, max_steps=self.o.shrink_steps)
        except Exception as e:  # noqa: BLE001
            self.notes.append(f"shrinking failed: {type(e).__name__}: {e}")
            return case
        self.shrunk.setdefault(key, small)
        return small


_STRESS = (("saturated",), ("large_logits",))
_LOG_EPS = 1e-7  # Saito's cross_entropy_error: log(y + 1e-7)
_SATURATED = 1e-8  # a probability this close to 0 or 1 loses most digits in log(p) / log(1 - p)


def _forward_logits(case: Case) -> np.ndarray:
    from reference.functions import activation

    a = case.x.astype(np.float64)
    z = a
    for l, name in enumerate(case.spec.activations, start=1):
        z = a @ case.params[f"W{l}"].T + case.params[f"b{l}"]
        a = activation(name)(z)
    return z


def _loss_convention(case: Case, observed: float, expected_loss: float) -> tuple[str, str] | None:
    """Why an observed loss may differ without a bug: ('convention', name) when it is the cost
    with 1e-7 inside the log; ('saturated', text) when an output probability rounds to 0 or 1."""
    from oracles.compare import compare_tensor
    from reference.functions import sigmoid, softmax

    spec = case.spec
    if spec.loss not in ("softmax_cross_entropy", "binary_cross_entropy"):
        return None
    z = _forward_logits(case)
    t = case.onehot
    if spec.loss == "softmax_cross_entropy":
        p = softmax(z, axis=1)
        per = -np.sum(t * np.log(p + _LOG_EPS), axis=1)
        q = p
    else:
        p = sigmoid(z)
        per = -np.sum(t * np.log(p + _LOG_EPS) + (1 - t) * np.log(1 - p + _LOG_EPS), axis=1)
        q = np.minimum(p, 1 - p)
    loss = float(per.mean() if spec.reduction == "mean" else per.sum())
    loss += 0.5 * spec.reg * sum(float(np.sum(case.params[f"W{l}"] ** 2)) for l in range(1, spec.n_layers + 1))
    if compare_tensor("loss", observed, loss, dtype=spec.dtype, oracle="impl", scale=abs(loss)).passed:
        return "convention", "1e-7 inside the log (Saito's cross_entropy_error)"
    # A cost from probabilities: a = sigmoid(z) near 1 is stored to an absolute eps, so log(1 - a)
    # carries an error ~ eps / (1 - a). Within that, the course formula is as exact as it can be.
    eps = float(np.finfo(spec.dtype).eps)
    per_err = np.sum(eps / np.maximum(q, np.finfo(np.float64).tiny), axis=1)
    est = float(per_err.mean() if spec.reduction == "mean" else per_err.sum())
    if compare_tensor("loss", observed, expected_loss, dtype=spec.dtype, oracle="torch", scale=abs(expected_loss),
                      err_est=est).passed:
        return "precision", "within the precision of a cost computed from probabilities"
    if float(q.min()) < _SATURATED:
        return "saturated", (f"only where an output probability rounds to 0 or 1 (smallest {float(q.min()):.1e}): "
                             f"a cost computed from probabilities cannot be exact there; compute it from the "
                             f"logits to fix it")
    return None


def _fd_value(fd) -> tuple[float | None, float | None]:
    """(derivative, error estimate) from whatever finite_diff.directional returns."""
    if isinstance(fd, tuple):
        vals = [float(v) for v in fd[:2]]
        return vals[0], (vals[1] if len(vals) > 1 else None)
    for a, b in (("value", "err_est"), ("derivative", "err_est"), ("value", "error"), ("d", "err")):
        if hasattr(fd, a):
            return float(getattr(fd, a)), (float(getattr(fd, b)) if getattr(fd, b, None) is not None else None)
    try:
        return float(fd), None
    except (TypeError, ValueError):
        return None, None


def _collapse(notes: list[str]) -> list[str]:
    """Notes that differ only in their numbers (one per layer, per case) shown once, with a count."""
    import re

    groups: dict[str, list[str]] = {}
    for n in notes:
        groups.setdefault(re.sub(r"\d+(\.\d+)?", "#", n), []).append(n)
    return [g[0] if len(g) == 1 else f"{g[0]} (and {len(g) - 1} similar)" for g in groups.values()]


def _short(text: str, limit: int = 400) -> str:
    """Drivers repeat a fault once per sample; the first occurrences say it all."""
    return text if len(text) <= limit else text[: limit - 30].rstrip() + f" ... ({len(text)} chars)"


def _case_key(case: Case) -> tuple:
    return (case.spec, case.seed, case.tags, case.lr, case.steps, case.x.tobytes(), case.y.tobytes(),
            tuple(v.tobytes() for v in case.params.values()))


# ---------------------------------------------------------------- snippets


def _lit(a: np.ndarray) -> str:
    """An exact literal: repr of Python floats round-trips bit for bit."""
    return f"np.array({np.asarray(a).tolist()!r})"


def snippet_for(style: str, entry: str, case: Case, path: str, oracle, names: set[str] | None = None) -> str:
    """A runnable snippet: the Case's numbers as literals, the call in the submission's style, and
    the oracle's expected values to compare with."""
    exp = oracle.expected(case, estimate=False)
    module = Path(path).stem
    spec = case.spec
    L = spec.n_layers
    lines = ["import numpy as np", f"import {module} as student", "",
             f"# {spec.describe()}, batch {case.m}"]
    x, y = case.x, case.y
    row_layout = style in ("saito", "cs231n")
    for l in range(1, L + 1):
        W, b = case.params[f"W{l}"], case.params[f"b{l}"]
        lines.append(f"W{l} = {_lit(W.T if row_layout else W)}")
        lines.append(f"b{l} = {_lit(b if row_layout else b.reshape(-1, 1))}")
    layout = "one sample per row" if row_layout else "one sample per column"
    lines.append(f"x = {_lit(x if row_layout else x.T)}  # {layout}")
    yv = y if (row_layout or spec.target == 'labels') else y.T
    lines.append(f"y = {_lit(yv)}")
    ws = ", ".join(f"W{l}" for l in range(1, L + 1))
    bs = ", ".join(f"b{l}" for l in range(1, L + 1))
    if style == "nielsen":
        lines += [f"net = student.Network({list(spec.sizes)})",
                  f"net.weights, net.biases = [{ws}], [{bs}]"]
        if entry.endswith("[batch]"):
            lines.append("nabla_b, nabla_w = net.backprop(x, y)  # your batch backprop")
        else:
            lines.append("nabla_b, nabla_w = net.backprop(x[:, [0]], y[:, [0]])  # first sample")
    elif style == "dlai":
        lines.append("parameters = {" + ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1)) + "}")
        if entry == "two_layer":
            lines += ["A2, cache = student.forward_propagation(x, parameters)",
                      "grads = student.backward_propagation(parameters, cache, x, y)"]
        else:
            lines += ["AL, caches = student.L_model_forward(x, parameters)",
                      "grads = student.L_model_backward(AL, y, caches)"]
    elif style == "saito":
        lines += _saito_call(entry, case, names)
    elif style == "cs231n":
        lines += _cs231n_call(entry, case, names)
    lines.append("")
    lines.append("# what a correct implementation returns (torch float64 autograd, canonical layout "
                 "W (n_out, n_in)):")
    if exp.loss is not None:
        lines.append(f"expected_loss = {float(exp.loss)!r}")
    for k in sorted(exp.grads):
        if k[0] in "Wb":
            lines.append(f"expected_d{k} = {_lit(exp.grads[k])}")
    return "\n".join(lines)


_SAITO_ACT = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyRelu",
              "softplus": "Softplus", "identity": None}


# Stand-ins for layer classes a file does not define (the driver used reference.layers for them).
_SAITO_STANDINS = {
    "Sigmoid": "class Sigmoid:\n    def forward(self, x):\n        self.out = 1 / (1 + np.exp(-x))\n"
               "        return self.out\n    def backward(self, dout):\n"
               "        return dout * self.out * (1 - self.out)",
    "Tanh": "class Tanh:\n    def forward(self, x):\n        self.out = np.tanh(x)\n        return self.out\n"
            "    def backward(self, dout):\n        return dout * (1 - self.out ** 2)",
    "Relu": "class Relu:\n    def forward(self, x):\n        self.x = x\n        return np.maximum(x, 0)\n"
            "    def backward(self, dout):\n        return dout * (self.x > 0)",
    "LeakyRelu": "class LeakyRelu:\n    def forward(self, x):\n        self.x = x\n"
                 "        return np.where(x > 0, x, 0.01 * x)\n    def backward(self, dout):\n"
                 "        return dout * np.where(self.x > 0, 1.0, 0.01)",
    "Softplus": "class Softplus:\n    def forward(self, x):\n        self.x = x\n        return np.logaddexp(0, x)\n"
                "    def backward(self, dout):\n        return dout / (1 + np.exp(-self.x))",
    "SquaredLoss": "class SquaredLoss:\n    def forward(self, y, t):\n        self.y, self.t = y, t\n"
                   "        return 0.5 * np.sum((y - t) ** 2) / y.shape[0]\n    def backward(self, dout=1):\n"
                   "        return dout * (self.y - self.t) / self.y.shape[0]",
}


def _saito_call(entry: str, case: Case, names: set[str] | None = None) -> list[str]:
    spec, L = case.spec, case.spec.n_layers
    params = ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1))
    if entry in ("TwoLayerNet", "MultiLayerNet"):
        if entry == "TwoLayerNet":
            ctor = f"student.TwoLayerNet(input_size={spec.sizes[0]}, hidden_size={spec.sizes[1]}, " \
                   f"output_size={spec.sizes[-1]})"
        else:
            ctor = f"student.MultiLayerNet(input_size={spec.sizes[0]}, hidden_size_list={list(spec.sizes[1:-1])}, " \
                   f"output_size={spec.sizes[-1]}, activation={spec.activations[0]!r})"
        return [f"net = {ctor}",
                f"for k, v in {{{params}}}.items():",
                "    net.params[k][...] = v  # in place: the layers hold these arrays",
                "print(net.loss(x, y))",
                "grads = net.gradient(x, y)"]
    out, layers = [], []
    last = "SoftmaxWithLoss" if spec.loss == "softmax_cross_entropy" else "SquaredLoss"
    used = {_SAITO_ACT.get(a) for a in spec.activations} | {last}
    for cls in sorted(c for c in used if c in _SAITO_STANDINS and names is not None and c not in names):
        out += [f"{line}" for line in _SAITO_STANDINS[cls].splitlines()]
        out.append(f"student.{cls} = {cls}  # not in your file: a stand-in")
    for l in range(1, L + 1):
        out.append(f"affine{l} = student.Affine(W{l}, b{l})")
        layers.append(f"affine{l}")
        # the output activation is a layer of its own before SquaredLoss; softmax lives in the loss layer
        act = _SAITO_ACT.get(spec.activations[l - 1])
        if act:
            out.append(f"act{l} = student.{act}()")
            layers.append(f"act{l}")
    names = layers
    out += ["h = x", f"for layer in [{', '.join(names)}]:", "    h = layer.forward(h)",
            f"last = student.{last}()", "loss = last.forward(h, y)", "dout = last.backward(1)",
            f"for layer in reversed([{', '.join(names)}]):", "    dout = layer.backward(dout)",
            "print(loss, affine1.dW, affine1.db)  # your dW is (fan_in, fan_out): compare with expected_dW1.T"]
    return out


# Stand-ins for activation functions a file does not define (its own are used where it has them).
_CS231N_ACTS = {
    "relu": ("lambda h: (np.maximum(h, 0), h)", "lambda d, h: d * (h > 0)"),
    "leaky_relu": ("lambda h: (np.where(h > 0, h, 0.01 * h), h)", "lambda d, h: d * np.where(h > 0, 1.0, 0.01)"),
    "sigmoid": ("lambda h: (1 / (1 + np.exp(-h)), 1 / (1 + np.exp(-h)))", "lambda d, s: d * s * (1 - s)"),
    "tanh": ("lambda h: (np.tanh(h), np.tanh(h))", "lambda d, t: d * (1 - t ** 2)"),
    "softplus": ("lambda h: (np.logaddexp(0, h), h)", "lambda d, h: d / (1 + np.exp(-h))"),
}


def _cs231n_call(entry: str, case: Case, names: set[str] | None = None) -> list[str]:
    spec, L = case.spec, case.spec.n_layers
    params = ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1))
    if entry == "TwoLayerNet":
        return [f"net = student.TwoLayerNet(input_dim={spec.sizes[0]}, hidden_dim={spec.sizes[1]}, "
                f"num_classes={spec.sizes[-1]}, reg={spec.reg!r})",
                f"net.params.update({{{params}}})", "loss, grads = net.loss(x, y)"]
    if entry == "FullyConnectedNet":
        return [f"net = student.FullyConnectedNet({list(spec.sizes[1:-1])}, input_dim={spec.sizes[0]}, "
                f"num_classes={spec.sizes[-1]}, reg={spec.reg!r}, dtype=np.float64)",
                f"net.params.update({{{params}}})", "loss, grads = net.loss(x, y)"]
    out, back = [], []
    for act in sorted({a for a in spec.activations[:-1] if a != "identity"}):
        for part, code in zip(("forward", "backward"), _CS231N_ACTS.get(act, ())):
            if names is not None and f"{act}_{part}" not in names:
                out.append(f"student.{act}_{part} = {code}  # not in your file: a stand-in")
    out.append("h = x")
    for l in range(1, L + 1):
        out.append(f"h, cache_a{l} = student.affine_forward(h, W{l}, b{l})")
        back.insert(0, f"dout, dW{l}, db{l} = student.affine_backward(dout, cache_a{l})")
        act = spec.activations[l - 1]
        if l < L and act != "identity":
            out.append(f"h, cache_f{l} = student.{act}_forward(h)")
            back.insert(0, f"dout = student.{act}_backward(dout, cache_f{l})")
    fn = "svm_loss" if spec.loss == "hinge" else "softmax_loss"
    return out + [f"loss, dout = student.{fn}(h, y)"] + back + ["dx = dout",
                                                                 "print(loss, dW1)  # dW1 is (fan_in, fan_out)"]


# ---------------------------------------------------------------- for instructors' pytest files


def assert_backprop_matches(path: str | Path, style: str = "auto", **opts) -> ValidationReport:
    """Validate ``path`` and raise AssertionError with the report's text unless it passes (warnings pass).

    Options as for ``bpcheck validate``: root, cases (default 100), seed, timeout, memory_mb,
    allow_imports. Example, in an instructor's test file::

        from bpcheck import assert_backprop_matches

        def test_student_backprop():
            assert_backprop_matches("submissions/alice/network.py", style="nielsen", cases=30)
    """
    report = validate_file(path, style=style, **opts)
    if report.verdict in ("fail", "error"):
        raise AssertionError(report.render())
    return report
