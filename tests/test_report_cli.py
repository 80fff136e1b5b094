"""`bpcheck report` / `bpcheck replay` end to end with the real drivers and oracles: exit codes,
replayable failures, workers == serial, SIGTERM, and the HTML in headless Chromium (when installed)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_report_doubles import BROKEN_NIELSEN_SUBJECT
from test_report_schema import SCHEMA_PATH, validate

from reports.cli import main

REPO = Path(__file__).resolve().parents[1]
NIELSEN = "nielsen:reference.nielsen[Network]"


def _report(tmp_path: Path, *args: str, out: str = "out") -> tuple[int, Path]:
    target = tmp_path / out
    return main(["report", "--out", str(target), *args]), target


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


# ---------------------------------------------------------------- usage errors: exit 2, nothing run


@pytest.mark.parametrize("args", [["--cases", "0"], ["--cases", "many"], ["--workers", "0"], ["--seed", "-1"],
                                  ["--dtype", "float16"]])
def test_bad_options_are_usage_errors(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", *args])
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err


def test_unknown_subject_lists_the_valid_ones(tmp_path, capsys):
    code, out = _report(tmp_path, "--subjects", f"{NIELSEN},nielsen:reference.nope[Network]")
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown subject(s): nielsen:reference.nope[Network]" in err
    assert NIELSEN in err and "mutant:NAME" in err
    assert not (out / "results.json").exists()


def test_unwritable_out_fails_before_any_work(tmp_path, capsys, monkeypatch):
    from reports import campaign

    def no_work(*args, **kwargs):
        raise AssertionError("work started although --out is unusable")

    for name in ("parse_subjects", "preload", "run_campaign"):
        monkeypatch.setattr(campaign, name, no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _ = _report(tmp_path, "--cases", "500", out="a-file/report")
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot write to --out" in err and "--out DIR" in err
    code, _ = _report(tmp_path, out="a-file")
    assert code == 2 and "is not a folder" in capsys.readouterr().err


def test_replay_usage_errors(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.npz")]) == 2
    assert "no case file" in capsys.readouterr().err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a case")
    assert main(["replay", str(junk)]) == 2
    assert "not a bpcheck case file" in capsys.readouterr().err


# ---------------------------------------------------------------- exit 0 / 1, replay


def test_a_passing_reference_exits_0_and_writes_every_file(tmp_path, capsys):
    code, out = _report(tmp_path, "--cases", "4", "--subjects", NIELSEN)
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    for name in ("results.json", "report.md", "report.html", "junit.xml"):
        assert (out / name).is_file()
    results = _results(out)
    assert validate(results, json.loads(SCHEMA_PATH.read_text())) == []
    assert results["meta"]["cases_run"] == 4 and not results["meta"]["interrupted"]
    assert {c["check"] for c in results["checks"]} >= {"loss", "grad_W", "grad_b", "update"}
    assert "grad_W" in stdout and str(out) in stdout  # summary table and where it wrote


def test_a_broken_subject_exits_1_and_its_replay_reproduces_it(tmp_path, capsys):
    code, out = _report(tmp_path, "--cases", "4", "--subjects", f"{NIELSEN},{BROKEN_NIELSEN_SUBJECT}")
    capsys.readouterr()
    assert code == 1
    results = _results(out)
    bad = [d for d in results["discrepancies"] if d["subject"] == BROKEN_NIELSEN_SUBJECT]
    assert {d["check"] for d in bad} >= {"grad_W"} and all(d["subject"] != NIELSEN for d in results["discrepancies"])
    d = next(d for d in bad if d["check"] == "grad_W" and d["oracle"] == "torch")
    assert d["failed_cases"] == 4 and d["smallest"]["batch"] <= 2
    replay = shlex.split(d["smallest"]["replay"])
    assert replay[:2] == ["bpcheck", "replay"] and Path(replay[2]).is_file()
    assert main(replay[1:]) == 1
    printed = capsys.readouterr().out
    assert "still fails" in printed and "norm ratio" in printed and "grads['W2']" in printed or "grads['W1']" in printed
    # the same case passes on the reference: the replay judges the subject, not the case
    assert main([*replay[1:], "--subject", NIELSEN]) == 0
    assert "passes now" in capsys.readouterr().out


def test_a_mutant_is_caught(tmp_path, capsys):
    code, out = _report(tmp_path, "--cases", "3", "--subjects", "mutant:nielsen_transposed_dw")
    capsys.readouterr()
    assert code == 1
    assert any(d["check"] == "grad_W" for d in _results(out)["discrepancies"])


# ---------------------------------------------------------------- workers, SIGTERM


def _comparable(results: dict) -> dict:
    meta = {k: v for k, v in results["meta"].items() if k not in ("wall_time_s", "started", "workers")}
    return {**results, "meta": meta}


def test_two_workers_give_the_serial_results(tmp_path):
    from reports import campaign

    # small on purpose: the cost of this test is starting two spawned workers (torch imports)
    subjects = campaign.parse_subjects(f"{NIELSEN},{BROKEN_NIELSEN_SUBJECT}")
    runs = {}
    for k in (1, 2):
        config = campaign.CampaignConfig(cases=3, seed=3, workers=k, shrink=False)
        runs[k] = campaign.run_campaign(subjects, config, cases_dir=tmp_path / "cases", replay_dir="cases",
                                        progress=False)
    assert runs[1]["discrepancies"], "the broken subject must fail, or the comparison proves little"
    assert _comparable(runs[1]) == _comparable(runs[2])


@pytest.mark.slow  # two more spawned workers (torch imports): the serial interrupt paths run in CI
def test_interrupting_a_parallel_campaign_stops_the_workers(tmp_path):
    import multiprocessing

    from reports import campaign

    seen = []

    def stop(outcome):
        seen.append(outcome)
        if len(seen) == 2:
            raise KeyboardInterrupt

    subjects = campaign.parse_subjects(BROKEN_NIELSEN_SUBJECT)
    config = campaign.CampaignConfig(cases=200, seed=1, workers=2)
    # (another test's Dask cluster, in this same test process, may still be closing its own workers)
    before = set(multiprocessing.active_children())
    results = campaign.run_campaign(subjects, config, cases_dir=tmp_path / "cases", progress=False, on_case=stop)
    assert results["meta"]["interrupted"] and results["meta"]["cases_run"] == 2
    assert results["discrepancies"] and results["discrepancies"][0]["failed_cases"] <= 2
    assert set(multiprocessing.active_children()) <= before


def test_sigterm_leaves_a_valid_interrupted_report(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reports.cli", "report", "--cases", "5000", "--subjects", NIELSEN, "--out", str(out)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # printed once the oracles are imported, as the campaign starts
        assert "subject(s)" in line, line
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    results = _results(out)
    assert validate(results, json.loads(SCHEMA_PATH.read_text())) == []
    meta = results["meta"]
    assert meta["interrupted"] is True and 0 < meta["cases_run"] < 5000
    assert "INTERRUPTED" in (out / "report.md").read_text()
    assert not list(out.glob(".*.tmp"))


# ---------------------------------------------------------------- the HTML in a real browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_html_opens_in_headless_chromium_without_console_errors(tmp_path, capsys):
    code, out = _report(tmp_path, "--cases", "3", "--subjects", BROKEN_NIELSEN_SUBJECT)
    capsys.readouterr()
    assert code == 1
    page = (out / "report.html").resolve()
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<h1>bpcheck report</h1>" in proc.stdout and "data:image/png;base64," in proc.stdout
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
