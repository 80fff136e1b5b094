"""Patterns seen on real public files (docs/real-world/*.tsv), each reproduced by a fixture of our own.

CI has no corpus: these fixtures keep what the corpus taught. One row of
tests/submissions/real_patterns.tsv per fixture: what a correct checker concludes (pass or fail, and
for a fail a regex the diagnosis must match, as scripts/corpus.py scores the real files), whether
bpcheck does so today (status: pass, or xfail while the fix is pending; strict, so a fix that lands
flips the row and forces it to be marked), the owner of the fix, and the corpus rows showing it.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from reports.validate import validate_file

HERE = Path(__file__).resolve().parent
TABLE = HERE / "submissions" / "real_patterns.tsv"
COLUMNS = ("fixture", "style", "expected", "named", "status", "owner", "cases", "corpus_rows", "pattern")


def _corpus_module():
    spec = importlib.util.spec_from_file_location("_bpcheck_corpus_script", HERE.parent / "scripts" / "corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _rows() -> list[dict]:
    with TABLE.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader((ln for ln in f if not ln.startswith("#")), delimiter="\t")]
    return rows


def test_table_is_well_formed():
    rows = _rows()
    assert rows, "no patterns"
    for r in rows:
        assert tuple(r) == COLUMNS, f"columns {tuple(r)}"
        assert (HERE / "submissions" / r["fixture"]).is_file(), r["fixture"]
        assert r["expected"] in ("pass", "fail") and r["status"] in ("pass", "xfail") and r["owner"] in (
            "loader", "verdicts", "lead", "speed", "corpus"), r
        assert (r["expected"] == "fail") == bool(r["named"]), f"{r['fixture']}: a fail row needs a named regex"
        re.compile(r["named"])
        text = (HERE / "submissions" / r["fixture"]).read_text()
        if r["fixture"].endswith(".ipynb"):  # the expectation is in the first (markdown) cell
            assert f"expect: {r['expected']}" in text.split('"cell_type": "code"')[0], r["fixture"]
        else:
            first = text.splitlines()[0]
            assert first.startswith(f"# expect: {r['expected']}"), f"{r['fixture']}: first line {first!r}"


def _param(r: dict):
    marks = []
    if r["status"] == "xfail":
        marks.append(pytest.mark.xfail(strict=True, reason=f"pending ({r['owner']}): {r['pattern']}"))
    if int(r["cases"] or 4) > 10:
        marks.append(pytest.mark.slow)
    return pytest.param(r, id=Path(r["fixture"]).stem, marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in _rows()])
def test_real_pattern(row):
    report = validate_file(HERE / "submissions" / row["fixture"], cases=int(row["cases"] or 4), shrink=False,
                           timeout=5.0)
    got = {"pass": "pass", "warn": "pass", "fail": "fail"}.get(report.verdict, "error")
    assert got == row["expected"], f"{row['fixture']}: {report.verdict}, expected {row['expected']}\n{report.render()}"
    if row["expected"] == "fail":
        text = _corpus_module().diagnosis_text(report.to_dict())
        assert re.search(row["named"], text, re.IGNORECASE | re.DOTALL), (
            f"{row['fixture']}: the diagnosis does not name the bug (/{row['named']}/):\n{text[:2000]}")
