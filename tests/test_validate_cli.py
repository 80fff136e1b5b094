"""`bpcheck validate` and `bpcheck grade`: exit codes, --json, reports, JUnit and Gradescope output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.cli import main
from reports.grade_cmd import check_gradescope, find_submissions, gradescope_results, junit_xml, points_table

FAULTS = Path(__file__).parent / "faults"
FAST = ["--cases", "4", "--timeout", "3"]


def test_validate_json_is_exactly_one_object(capsys):
    code = main(["validate", str(FAULTS / "correct_nielsen.py"), "--json", "--no-shrink", *FAST])
    out = capsys.readouterr().out
    obj = json.loads(out)  # the whole of stdout is one JSON document
    assert code == 0 and obj["verdict"] == "pass" and obj["style"] == "nielsen"
    for c in obj["checks"]:
        assert {"name", "verdict", "message", "diagnosis"} <= set(c)
        assert c["verdict"] in ("pass", "warn", "fail", "error")


def test_validate_exit_codes(capsys, tmp_path):
    assert main(["validate", str(FAULTS / "syntax_error.py"), *FAST]) == 1
    assert "syntax error at line 8" in capsys.readouterr().out
    assert main(["validate", str(FAULTS / "forged_results.py"), "--no-shrink", *FAST]) == 0  # warn
    assert main(["validate", str(tmp_path / "nope.py")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "path" in err
    assert main(["validate", str(FAULTS / "correct_nielsen.py"), "--style", "keras"]) == 2
    assert "nielsen" in capsys.readouterr().err  # the message lists the styles
    assert main(["validate", str(FAULTS / "correct_nielsen.py"), "--cases", "0"]) == 2


def test_validate_allow_import_lifts_the_refusal(capsys, tmp_path):
    f = tmp_path / "uses_autograd.py"
    src = (FAULTS / "correct_nielsen.py").read_text()
    f.write_text(src.replace("import numpy as np", "import numpy as np\nimport autograd"))
    assert main(["validate", str(f), "--json", *FAST]) == 1
    assert "not allowed" in capsys.readouterr().out
    # allowed: autograd is not installed here, so it becomes a stub and the file is judged on its numbers
    assert main(["validate", str(f), "--json", "--allow-import", "autograd", "--no-shrink", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"


def _class_dir(tmp_path: Path) -> Path:
    d = tmp_path / "class"
    d.mkdir()
    shutil.copy(FAULTS / "correct_nielsen.py", d / "alice.py")
    shutil.copy(FAULTS / "python2_print.py", d / "bob.py")
    (d / "carol").mkdir()
    (d / "carol" / "network.py").write_text((FAULTS / "correct_nielsen.py").read_text().replace(
        "* sigmoid_prime(zs[-1])", "* sigmoid_prime(activations[-1])"))
    (d / "carol" / "helpers.py").write_text("X = 1\n")
    return d


def test_find_submissions(tmp_path):
    subs = find_submissions(_class_dir(tmp_path))
    assert [(n, p.name if p else None) for n, p, _ in subs] == [("alice", "alice.py"), ("bob", "bob.py"),
                                                                 ("carol", "network.py")]


def test_grade_writes_everything(tmp_path, capsys):
    d = _class_dir(tmp_path)
    out = tmp_path / "out"
    code = main(["grade", str(d), "--out", str(out), "--workers", "1", *FAST])
    printed = capsys.readouterr().out
    assert code == 1  # bob and carol fail
    for name in ("alice", "bob", "carol"):
        assert (out / "students" / f"{name}.txt").exists()
        gs = json.loads((out / "gradescope" / f"{name}.json").read_text())
        assert check_gradescope(gs) == []
    alice = json.loads((out / "gradescope" / "alice.json").read_text())
    bob = json.loads((out / "gradescope" / "bob.json").read_text())
    assert alice["score"] == pytest.approx(100.0) and bob["score"] == 0.0
    assert "Python 2 syntax at line 12" in json.dumps(bob)
    summary = (out / "summary.md").read_text()
    assert "| alice" in summary and "Most common bug patterns" in summary and "derivative_at_activation" in summary
    assert "alice" in printed
    suites = ET.parse(out / "junit.xml").getroot()
    assert {s.get("name") for s in suites} == {"alice", "bob", "carol"}
    assert suites.find("testsuite[@name='bob']/testcase/error") is not None


def test_grade_single_submission_writes_results_json(tmp_path, capsys):
    sub = tmp_path / "submission"
    sub.mkdir()
    shutil.copy(FAULTS / "correct_nielsen.py", sub / "network.py")
    out = tmp_path / "results"
    assert main(["grade", str(sub), "--single", "--out", str(out), *FAST]) == 0
    capsys.readouterr()
    gs = json.loads((out / "results.json").read_text())
    assert check_gradescope(gs) == [] and gs["score"] == pytest.approx(100.0)
    assert all(t["status"] == "passed" for t in gs["tests"])


def test_grade_usage_errors(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "empty")]) == 2
    bad = tmp_path / "points.json"
    bad.write_text('{"grad_W": "lots"}')
    assert main(["grade", str(_class_dir(tmp_path)), "--points", str(bad)]) == 2
    assert "points" in capsys.readouterr().err


def test_gradescope_schema_checker_catches_problems():
    good = {"score": 1.0, "tests": [{"name": "a", "score": 1, "max_score": 1, "status": "passed"}]}
    assert check_gradescope(good) == []
    assert check_gradescope({"score": "1"})
    assert check_gradescope({"tests": [{"status": "ok"}]})
    assert check_gradescope({"visibility": "public"})
    assert check_gradescope({"score": float("nan")})
    assert check_gradescope({"tests": [{"tags": [1]}]})
    assert check_gradescope({"bonus": 1})


def test_points_scale_to_the_total(tmp_path):
    p = tmp_path / "points.json"
    p.write_text('{"grad_W": 3, "grad_b": 1, "total": 40}')
    table = points_table(str(p))
    report = {"verdict": "fail", "style": "nielsen", "checks": [
        {"name": "Network: grad_W", "verdict": "pass", "message": "ok", "diagnosis": ""},
        {"name": "Network: grad_b", "verdict": "fail", "message": "bad", "diagnosis": "x", "snippet": "s = 1"}]}
    gs = gradescope_results(report, table)
    assert check_gradescope(gs) == []
    assert gs["score"] == pytest.approx(30.0)
    assert [t["max_score"] for t in gs["tests"]] == [30.0, 10.0]
    assert [t["status"] for t in gs["tests"]] == ["passed", "failed"]
    assert "s = 1" in gs["tests"][1]["output"]


def test_junit_escapes_hostile_messages():
    xml = junit_xml([{"student": "eve<&>", "checks": [{"name": "load", "verdict": "error", "diagnosis": "",
                                                       "message": "bad \x00\x1b[31m <tag> & ]]>"}]}])
    root = ET.fromstring(xml.split("?>", 1)[1])
    assert root.find("testsuite").get("name") == "eve<&>"


def test_each_command_parses_with_only_its_own_module():
    # `bpcheck validate` builds only grade_cmd's parser (the others' imports are off its critical path):
    # every command must be mapped to the module that registers it
    from reports import cli

    def commands(parser) -> set[str]:
        return set(parser._subparsers._group_actions[0].choices)

    assert commands(cli.build_parser()) == set(cli.COMMANDS)
    for command in cli.COMMANDS:
        assert command in commands(cli.build_parser(command)), command
    assert set(cli.PRELOAD) <= set(cli.COMMANDS)


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1], timeout=300, **kw)


def test_the_process_entry_point_exits_fast_with_everything_delivered():
    """run() skips the interpreter's teardown: the exit code, the whole of stdout and stderr still arrive."""
    bad = _cli("validate", str(FAULTS / "syntax_error.py"), "--json", *FAST)
    assert bad.returncode == 1 and json.loads(bad.stdout)["verdict"] == "fail"  # one whole JSON document
    good = _cli("validate", str(FAULTS / "correct_nielsen.py"), "--json", "--no-shrink", *FAST)
    assert good.returncode == 0 and json.loads(good.stdout)["verdict"] == "pass"
    usage = _cli("validate", str(FAULTS / "correct_nielsen.py"), "--cases", "0")
    assert usage.returncode == 2 and "at least 1 case" in usage.stderr


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`bpcheck validate FILE | head -1`: the closed pipe ends the command quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "reports.cli", "validate", str(FAULTS / "correct_nielsen.py"),
                             "--no-shrink", *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).parents[1])
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert "Traceback" not in err and proc.returncode == 1
