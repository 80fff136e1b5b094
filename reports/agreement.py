"""`bpcheck grade DIR --expected FILE`: how far bpcheck's verdicts agree with an instructor's hand grades.

FILE is a TSV, one submission per line: the submission (its file or folder as found in DIR, e.g.
``alice.py`` or ``carol/network.py`` or ``carol``, or the student name) and the expected verdict.
Lines starting with ``#`` and blank lines are skipped. A first line naming its columns is a header:
then the columns called ``file`` (or ``path``, ``submission``, ``student``) and ``expected`` (or
``verdict``) are used, whatever their position, so a corpus manifest with more columns works as it
is. Without a header the first two columns are used.

Verdicts: ``pass``, ``warn``, ``fail``, ``error``; ``correct``/``ok`` mean pass, ``buggy``/``wrong``
mean fail. Agreement is counted two ways: exact (the same verdict) and accept/reject (pass and warn
accept a file, fail and error reject it), since a hand grade rarely says "warn".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExpectedError", "Agreement", "read_expected", "agreement", "format_agreement", "VERDICTS"]

VERDICTS = ("pass", "warn", "fail", "error")
_SYNONYMS = {"correct": "pass", "ok": "pass", "passed": "pass", "buggy": "fail", "wrong": "fail",
             "failed": "fail", "incorrect": "fail", "warning": "warn", "errored": "error"}
_FILE_COLUMNS = ("file", "path", "submission", "student", "name")
_VERDICT_COLUMNS = ("expected", "verdict", "expected_verdict", "truth", "grade")
_ACCEPT = {"pass": True, "warn": True, "fail": False, "error": False}


class ExpectedError(ValueError):
    """The --expected file cannot be used; the message names the line and the fix."""


def _verdict(text: str) -> str | None:
    t = text.strip().lower()
    t = _SYNONYMS.get(t, t)
    return t if t in VERDICTS else None


def read_expected(path: str | Path) -> list[tuple[str, str, int]]:
    """[(submission key, expected verdict, line number)] from the TSV (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ExpectedError(f"--expected {path}: cannot read it ({e.strerror or e})") from None
    rows = [(n, r) for n, r in enumerate(csv.reader(text.splitlines(), delimiter="\t"), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise ExpectedError(f"--expected {path}: no rows; write one line per submission: FILE<TAB>VERDICT "
                            f"(pass, warn, fail or error)")
    file_col, verdict_col = 0, 1
    first = [c.strip().lower() for c in rows[0][1]]
    header = any(c in _FILE_COLUMNS or c in _VERDICT_COLUMNS for c in first)
    if len(first) < 2 or header:  # a header line, or not a TSV at all
        file_col = next((first.index(c) for c in _FILE_COLUMNS if c in first), None)
        verdict_col = next((first.index(c) for c in _VERDICT_COLUMNS if c in first), None)
        if file_col is None or verdict_col is None:
            raise ExpectedError(
                f"--expected {path}, line {rows[0][0]}: expected FILE<TAB>VERDICT (tab-separated), or a header "
                f"naming a file column ({', '.join(_FILE_COLUMNS)}) and a verdict column "
                f"({', '.join(_VERDICT_COLUMNS)}); got {rows[0][1]!r}")
        rows = rows[1:]
    out = []
    for n, r in rows:
        if max(file_col, verdict_col) >= len(r):
            raise ExpectedError(f"--expected {path}, line {n}: {len(r)} column(s); the file and the verdict must be "
                                f"separated by a tab")
        v = _verdict(r[verdict_col])
        if v is None:
            raise ExpectedError(f"--expected {path}, line {n}: unknown verdict {r[verdict_col]!r}; use pass, warn, "
                                f"fail or error (or correct / buggy)")
        out.append((r[file_col].strip(), v, n))
    return out


@dataclass
class Agreement:
    matrix: dict[tuple[str, str], int] = field(default_factory=dict)  # (expected, got) -> submissions
    rows: list[dict] = field(default_factory=list)  # one per compared submission
    unknown: list[str] = field(default_factory=list)  # expected rows naming no submission of DIR
    unexpected: list[str] = field(default_factory=list)  # submissions of DIR without an expected verdict
    not_graded: list[str] = field(default_factory=list)  # expected, but the grade was interrupted

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def exact(self) -> int:
        return sum(r["expected"] == r["got"] for r in self.rows)

    @property
    def accept_reject(self) -> int:
        return sum(_ACCEPT[r["expected"]] == _ACCEPT[r["got"]] for r in self.rows)

    @property
    def disagreements(self) -> list[dict]:
        return [r for r in self.rows if r["expected"] != r["got"]]

    def to_dict(self) -> dict:
        n = max(self.n, 1)
        return {"compared": self.n, "exact": self.exact, "exact_fraction": self.exact / n,
                "accept_reject": self.accept_reject, "accept_reject_fraction": self.accept_reject / n,
                "matrix": {f"{e}->{g}": c for (e, g), c in sorted(self.matrix.items())},
                "disagreements": self.disagreements, "unknown": self.unknown, "unexpected": self.unexpected,
                "not_graded": self.not_graded}


def _keys(student: str, file: str | None, folder: Path) -> set[str]:
    keys = {student}
    if file:
        p = Path(file)
        try:
            rel = p.resolve().relative_to(folder.resolve())
            keys |= {str(rel), rel.as_posix(), rel.parts[0]}
        except ValueError:
            pass
        keys |= {p.name, p.stem}
    return keys


def _reason(record: dict) -> str:
    """The first failing (or erroring) check, in one short line."""
    for c in record.get("checks") or []:
        if c.get("verdict") in ("fail", "error"):
            text = (c.get("diagnosis") or c.get("message") or "").splitlines()
            line = f"{c.get('name')}: {text[0] if text else c.get('verdict')}"
            return line if len(line) <= 140 else line[:137] + "..."
    return ""


def agreement(expected: list[tuple[str, str, int]], records: list[dict], folder: Path,
              not_graded: list[str] = ()) -> Agreement:
    """Compare the expected verdicts with the graded records (compact reports, see reports.grading)."""
    index: dict[str, dict] = {}
    for r in records:
        for k in _keys(r["student"], r.get("file"), folder):
            index.setdefault(k, r)
    pending = set(not_graded)
    out = Agreement()
    seen: set[str] = set()
    for key, verdict, _line in expected:
        clean = key.strip().rstrip("/")
        r = index.get(clean) or index.get(Path(clean).as_posix()) or index.get(Path(clean).stem)
        if r is None:
            (out.not_graded if clean in pending or Path(clean).stem in pending else out.unknown).append(key)
            continue
        if r["student"] in seen:
            continue
        seen.add(r["student"])
        got = r.get("verdict", "error")
        out.matrix[(verdict, got)] = out.matrix.get((verdict, got), 0) + 1
        out.rows.append({"student": r["student"], "file": r.get("file"), "expected": verdict, "got": got,
                         "reason": _reason(r) if got != verdict else ""})
    out.unexpected = [r["student"] for r in records if r["student"] not in seen]
    return out


def format_agreement(a: Agreement) -> str:
    from tabulate import tabulate

    lines = ["## Agreement with the expected verdicts", ""]
    if not a.n:
        lines.append("no submission of the folder has an expected verdict")
    else:
        table = [[f"expected {e}"] + [a.matrix.get((e, g), 0) for g in VERDICTS] for e in VERDICTS
                 if any(a.matrix.get((e, g)) for g in VERDICTS)]
        lines += [tabulate(table, headers=["", *[f"got {g}" for g in VERDICTS]], tablefmt="github"), ""]
        lines.append(f"agreement: {a.exact}/{a.n} exact ({100.0 * a.exact / a.n:.1f}%), {a.accept_reject}/{a.n} "
                     f"accept/reject ({100.0 * a.accept_reject / a.n:.1f}%; pass and warn accept, fail and error "
                     f"reject)")
        if a.disagreements:
            lines += ["", "### Disagreements", "",
                      tabulate([[d["student"], d["expected"], d["got"], d["reason"]] for d in a.disagreements],
                               headers=["submission", "expected", "got", "first failing check"], tablefmt="github")]
    if a.unknown:
        lines += ["", f"not in the folder ({len(a.unknown)}): " + ", ".join(a.unknown)]
    if a.not_graded:
        lines += ["", "not graded (interrupted; --resume grades them): " + ", ".join(a.not_graded)]
    if a.unexpected:
        lines += ["", f"no expected verdict ({len(a.unexpected)}): " + ", ".join(a.unexpected)]
    return "\n".join(lines) + "\n"
