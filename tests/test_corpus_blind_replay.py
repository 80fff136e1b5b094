"""scripts/corpus.py score --blind / --replay: a measurement taken before the truth is written, scored later.

The held-out sample (docs/real-world/holdout.tsv) was scored this way: bpcheck ran on rows whose truth was not
written yet (--blind keeps the reports, prints verdicts only), and the kept reports were scored (--replay) once
the truth was committed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEAD = "id\trepo\tpath\tcommit\tstyle\tform\tsupport\ttruth\texpected\tbug\tnamed\tpatterns\tevidence"
C40 = "0123456789abcdef0123456789abcdef01234567"


def _corpus():
    spec = importlib.util.spec_from_file_location("_bpcheck_corpus_script_br", HERE.parent / "scripts" / "corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _report(verdict: str, text: str = "") -> str:
    return json.dumps({"verdict": verdict, "checks": [{"name": "Network: update", "verdict": verdict,
                                                       "plain": text}] if verdict != "pass" else []})


def test_replay_scores_kept_reports_against_the_truth_written_later(tmp_path, capsys):
    m = _corpus()
    man = tmp_path / "m.tsv"
    man.write_text("\n".join([HEAD,
                              f"a\to/r\tx.py\t{C40}\tnielsen\tpy\t\tbuggy\tfail\tline 3\tupdate\t\t",
                              f"b\to/r\ty.py\t{C40}\tnielsen\tpy\t\tcorrect\tpass\t\t\t\t",
                              f"c\to/r\tz.py\t{C40}\tnielsen\tpy\t\tcorrect\tpass\t\t\t\t"]) + "\n")
    saved = tmp_path / "reports"
    saved.mkdir()
    (saved / "a.json").write_text(_report("fail", "gradients right, the parameter update wrong"))
    (saved / "b.json").write_text(_report("fail", "training loop raised OSError"))
    (saved / "c.json").write_text(_report("warn"))
    out = tmp_path / "o.json"
    assert m.main(["score", "--manifest", str(man), "--replay", str(saved), "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert (got["n"], got["right"], got["buggy"], got["named"]) == (3, 2, 1, 1)
    assert [r["got"] for r in got["rows"]] == ["fail", "fail", "warn"]
    assert "right verdicts: 2/3" in capsys.readouterr().out


def test_blind_accepts_rows_without_truth_and_prints_verdicts_only(tmp_path, capsys):
    m = _corpus()
    man = tmp_path / "m.tsv"
    man.write_text("\n".join([HEAD, f"a\to/r\tx.py\t{C40}\tnielsen\tpy\t\t\t\t\t\t\t",
                              f"b\to/r\ty.py\t{C40}\tnielsen\tpy\t\t\t\t\t\t\t"]) + "\n")
    saved = tmp_path / "reports"
    saved.mkdir()
    (saved / "a.json").write_text(_report("fail", "the secret diagnosis"))
    assert m.main(["score", "--manifest", str(man), "--replay", str(saved)]) == 2  # judged: no row to score
    capsys.readouterr()
    assert m.main(["score", "--blind", "--manifest", str(man), "--replay", str(saved)]) == 0
    text = capsys.readouterr().out
    assert "a" in text and "got fail" in text and "got missing" in text and "the secret diagnosis" not in text
    assert "right verdicts" not in text and "fail 1, missing 1" in text
