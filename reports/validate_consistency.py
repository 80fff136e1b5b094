"""No finding may contradict the one next to it (issue 9 section 4).

Seen on real files before this: "consistent with convention X" next to "the forward pass is wrong";
"every gradient matches" next to a gradient check that raised; "update not checked" next to update
checks reported as ERROR; "the loss itself differs (0.682512 vs 0.682512)". The diagnosis code avoids
each at its source; ``contradictions`` finds any that slip through (the tests run it over the
fixtures), and ``drop_contradicted_notes`` removes a note the checks themselves disprove.
"""

from __future__ import annotations

import re

from reports.validate_report import ValidationReport

__all__ = ["contradictions", "drop_contradicted_notes"]

_SAME_NUMBERS = re.compile(r"\((-?[\d.e+-]+) vs (-?[\d.e+-]+)[,)]")
_NOT_CHECKED = re.compile(r"^(?P<entry>[^:]+): .*\b(?P<family>update|loss|gradients?) not checked")


def _entry_rows(report: ValidationReport) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for c in report.checks:
        entry, _, family = c.name.partition(": ")
        if family:
            rows.setdefault(entry, {})[family] = c.verdict
    return rows


def _families(word: str) -> tuple[str, ...]:
    return {"update": ("update", "trajectory"), "loss": ("loss",)}.get(word, ("grad_W", "grad_b"))


def contradictions(report: ValidationReport) -> list[str]:
    """Every pair of findings in the report that cannot both be true, as sentences (empty: consistent)."""
    out = []
    rows = _entry_rows(report)
    for c in report.checks:
        text = f"{c.message}\n{c.diagnosis}"
        if "consistent with the convention" in text and "forward pass is wrong" in text:
            out.append(f"{c.name}: a convention and a wrong forward pass in one finding")
        entry = c.name.partition(": ")[0]
        if "every gradient matches" in c.diagnosis:
            bad = [f for f, v in rows.get(entry, {}).items() if f.startswith("grad_") and v in ("fail", "error")]
            if bad:
                out.append(f"{c.name}: 'every gradient matches' beside failing {', '.join(bad)}")
        if "forward pass is wrong" in f"{c.plain}\n{text}" and rows.get(entry, {}).get("loss") == "pass":
            out.append(f"{c.name}: 'the forward pass is wrong' beside a passing loss check")
        for a, b in _SAME_NUMBERS.findall(text):
            if a == b and "differ" in text:
                out.append(f"{c.name}: a difference the printed digits do not show ({a} vs {b})")
    for note in report.notes:
        m = _NOT_CHECKED.match(note)
        if m:
            judged = [f for f in _families(m["family"]) if f in rows.get(m["entry"], {})]
            if judged:
                out.append(f"note '{note}' beside the checks {m['entry']}: {', '.join(judged)}")
    return out


def drop_contradicted_notes(report: ValidationReport) -> None:
    """A note saying an entry's update (loss, gradients) was not checked, beside rows that checked it, goes."""
    rows = _entry_rows(report)
    keep = []
    for note in report.notes:
        m = _NOT_CHECKED.match(note)
        if m and any(f in rows.get(m["entry"], {}) for f in _families(m["family"])):
            continue
        keep.append(note)
    report.notes = keep
