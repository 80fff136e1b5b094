"""What ``bpcheck validate`` returns: one Check per row, the ValidationReport and its readable form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reports.validate_coverage import Coverage

if TYPE_CHECKING:  # annotations only: `bpcheck validate` imports this before it starts the child (light)
    from oracles.case import Case

__all__ = ["VERDICTS", "Check", "ValidationOptions", "ValidationReport", "worst"]

VERDICTS = ("pass", "warn", "fail", "error")
_RANK = {v: i for i, v in enumerate(VERDICTS)}


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
    no_snippet: str | None = None  # why no faithful snippet could be written (then snippet is None)
    convention: str | None = None
    plain: str = ""  # one line in plain words, printed before the evidence

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
            "plain": self.plain,
            "case": None if self.case is None else {"id": self.case.case_id, "describe": self.case.describe()},
            "snippet": self.snippet,
            "no_snippet": self.no_snippet,
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
    strict_numpy: bool = False  # judge numpy 1.x APIs against the installed numpy (no compatibility layer)


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
    coverage: Coverage | None = None
    rerun: str = ""  # the one-line command that re-runs these checks (the same seed draws the same cases)

    @property
    def verdict(self) -> str:
        return worst(c.verdict for c in self.checks)

    def headline(self) -> str:
        """'PASS (checked 9 of 14 functions; not checked: batchnorm_backward, ...)': never a bare PASS
        for a file with code no check reached."""
        text = self.verdict.upper()
        cov = self.coverage.headline() if self.coverage is not None else ""
        if cov and (self.verdict in ("pass", "warn") or not self.coverage.complete):
            text += f" ({cov})"
        return text

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
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
            "seconds": round(self.seconds, 3),
            "rerun": self.rerun,
            "settings": {"cases": o.cases, "seed": o.seed, "timeout": o.timeout, "memory_mb": o.memory_mb,
                         "root": o.root, "allow_imports": list(o.allow_imports), "strict_numpy": o.strict_numpy},
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
        grouped: dict[tuple[str, str], list[str]] = {}  # (entry, plain) -> families: one line per problem
        for ch in self.checks:
            if ch.verdict in ("fail", "error") and ch.plain:
                entry, _, family = ch.name.partition(": ")
                grouped.setdefault((entry, ch.plain), []).append(family)
        problems = [f"{entry}: {', '.join(f for f in fams if f)}: {plain}" if any(fams) else f"{entry}: {plain}"
                    for (entry, plain), fams in grouped.items()]
        if problems:
            # one plain line per problem first; the evidence follows, row by row
            lines.append("problems:")
            lines += [f"  - {_clip(p)}" for p in problems]
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
            if ch.plain and ch.verdict in ("fail", "error"):
                lines.append(f"{mark[ch.verdict]:5} {ch.name}{count}: {_clip(ch.plain)}")
                lines.append(f"      {_indent(_clip_lines(ch.message))}")
            else:
                lines.append(f"{mark[ch.verdict]:5} {ch.name}{count}: {_indent(_clip_lines(ch.message))}")
            if ch.diagnosis and ch.verdict != "pass":
                lines.append(f"      diagnosis: {_indent(_clip_lines(_not_repeated(ch.diagnosis, ch.message)))}")
            if snippets and ch.snippet and ch.verdict in ("fail", "error"):
                if ch.snippet in shown:
                    lines.append(f"      smallest failing case: the same as for {shown[ch.snippet]}")
                else:
                    shown[ch.snippet] = ch.name
                    lines.append("      smallest failing case (paste into a Python session next to your file):")
                    lines += ["        " + s for s in ch.snippet.splitlines()]
            elif snippets and ch.no_snippet and ch.verdict in ("fail", "error"):
                if ch.no_snippet in shown:
                    lines.append(f"      smallest failing case: no paste-able snippet (as for {shown[ch.no_snippet]})")
                else:  # (the report's last lines give the command that re-runs these cases)
                    shown[ch.no_snippet] = ch.name
                    lines.append(f"      smallest failing case: no paste-able snippet ({_clip(ch.no_snippet, 200)}); "
                                 f"re-run with the command below")
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
        if self.rerun and self.verdict in ("fail", "error"):
            lines.append(self.rerun)  # every failure: one line that replays it
        lines.append(f"verdict: {self.headline()} ({c['pass']} pass, {c['warn']} warn, {c['fail']} fail, "
                     f"{c['error']} error; {self.seconds:.1f} s)")
        return "\n".join(lines)


def _indent(text: str) -> str:
    return text.replace("\n", "\n        ")


_MAX_LINE = 300  # issue 9 section 5: no 400-character lines; the JSON keeps every character


def _clip(text: str, limit: int = _MAX_LINE) -> str:
    return text if len(text) <= limit else text[: limit - 20].rstrip() + f" ... (+{len(text) - limit + 20} chars)"


def _clip_lines(text: str) -> str:
    return "\n".join(_clip(t) for t in text.splitlines())


def _not_repeated(diagnosis: str, message: str) -> str:
    """A hypothesis line whose words the evidence already printed keeps only its name: 'transpose [grad_W]'."""
    out = []
    for line in diagnosis.splitlines():
        head, sep, body = line.partition(": ")
        out.append(head if sep and body and body in message else line)
    return "\n".join(out)
