"""Patterns seen on real later-assignment files (docs/real-world/layers.tsv), each reproduced by a fixture of our own.

CI has no corpus: these fixtures keep what the real CS231n assignment-2, deeplearning.ai course 2/4, Saito
ch. 6-7 and MyTorch files taught. One row of tests/submissions/real_layers/patterns.tsv per fixture (under
real_layers/fx/, deeper than the */*.py glob of the per-style fixture tests on purpose: many are pending):
what a correct checker concludes (pass, or fail with a regex the diagnosis must match, as scripts/corpus.py
scores the real files), whether bpcheck does so today (status pass, or xfail while the owner's fix is
pending; strict, so a fix that lands turns the row into XPASS and forces it to be marked pass).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from reports.validate import validate_file

HERE = Path(__file__).resolve().parent
BASE = HERE / "submissions" / "real_layers"
TABLE = BASE / "patterns.tsv"
COLUMNS = ("fixture", "style", "expected", "named", "status", "owner", "cases", "corpus_rows", "pattern")
OWNERS = ("loader", "verdicts", "lead", "speed", "corpus", "norm", "conv", "optim")


def _rows() -> list[dict]:
    with TABLE.open(encoding="utf-8") as f:
        return list(csv.DictReader((ln for ln in f if not ln.startswith("#")), delimiter="\t"))


def _diagnosis_text(d: dict) -> str:
    """The text a named regex must match: the same reading as scripts/corpus.py's (one definition)."""
    from test_real_patterns import _corpus_module

    return _corpus_module().diagnosis_text(d)


def test_table_is_well_formed():
    rows = _rows()
    assert rows, "no patterns"
    corpus_ids = {ln.split("\t")[0] for name in ("layers.tsv", "holdout.tsv")  # holdout: the held-out sample
                  for ln in (HERE.parent / "docs" / "real-world" / name).read_text(encoding="utf-8").splitlines()
                  if ln and not ln.startswith("#")}
    for r in rows:
        assert tuple(r) == COLUMNS, f"columns {tuple(r)}"
        path = BASE / "fx" / r["fixture"]
        assert path.is_file(), r["fixture"]
        assert r["expected"] in ("pass", "fail") and r["status"] in ("pass", "xfail") and r["owner"] in OWNERS, r
        assert (r["expected"] == "fail") == bool(r["named"]), f"{r['fixture']}: a fail row needs a named regex"
        re.compile(r["named"])
        assert path.read_text().splitlines()[0].startswith(f"# expect: {r['expected']}"), r["fixture"]
        missing = [c for c in r["corpus_rows"].split(";") if c not in corpus_ids]
        assert not missing, f"{r['fixture']}: corpus rows not in layers.tsv: {missing}"


def _param(r: dict):
    marks = []
    if r["status"] == "xfail":
        marks.append(pytest.mark.xfail(strict=True, reason=f"pending ({r['owner']}): {r['pattern']}"))
    return pytest.param(r, id=Path(r["fixture"]).stem, marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in _rows()])
def test_real_layer_pattern(row):
    report = validate_file(BASE / "fx" / row["fixture"], cases=int(row["cases"] or 4),
                           shrink=False, timeout=10.0)
    got = {"pass": "pass", "warn": "pass", "fail": "fail"}.get(report.verdict, "error")
    assert got == row["expected"], f"{row['fixture']}: {report.verdict}, expected {row['expected']}\n{report.render()}"
    if row["expected"] == "fail":
        text = _diagnosis_text(report.to_dict())
        assert re.search(row["named"], text, re.IGNORECASE | re.DOTALL), (
            f"{row['fixture']}: the diagnosis does not name the bug (/{row['named']}/):\n{text[:2000]}")
