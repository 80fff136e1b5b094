"""The project's rule "modules stay small and single-purpose; split one that grows past about 600 lines",
as a check: by session 7 seven modules had grown past it unnoticed (reports/campaign.py to 1,201 lines)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]
LIMIT = 600
# Tables, not logic: each mutant is a stand-alone one-bug copy of a reference function (a submission must
# stand alone), so the file grows by one copy per bug class and reads entry by entry.
ALLOWED = {"reference/mutants.py": 800}


def test_no_module_grows_past_the_limit():
    over = {}
    for folder in ("oracles", "reports", "reference", "scripts", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("tests/submissions/"):  # student-like fixtures: their layout is the point
                continue
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > ALLOWED.get(rel, LIMIT):
                over[rel] = n
    assert not over, f"split these modules (limit {LIMIT} lines): {over}"
