"""`bpcheck grade` as a class run: --expected (agreement with hand grades), --resume, interrupts that keep
every finished submission and leave no process behind, shipped copies for cluster workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports.agreement import ExpectedError, agreement, read_expected
from reports.cli import main

FAULTS = Path(__file__).parent / "faults"
REPO = Path(__file__).resolve().parent.parent
FAST = ["--cases", "4", "--timeout", "3"]
CORRECT = (FAULTS / "correct_nielsen.py").read_text()
# sigma'(a) instead of sigma'(z): wrong gradients, a FAIL
BUGGY = CORRECT.replace("* sigmoid_prime(zs[-1])", "* sigmoid_prime(activations[-1])")


def _class(tmp_path: Path) -> Path:
    d = tmp_path / "class"
    d.mkdir()
    (d / "alice.py").write_text(CORRECT)
    shutil.copy(FAULTS / "syntax_error.py", d / "dave.py")
    (d / "carol").mkdir()
    (d / "carol" / "network.py").write_text(BUGGY)
    (d / "carol" / "helpers.py").write_text("X = 1\n")
    return d


# ---------------------------------------------------------------- --expected


def test_read_expected_accepts_plain_rows_headers_and_synonyms(tmp_path):
    f = tmp_path / "e.tsv"
    f.write_text("# hand grades, 2026\nalice.py\tpass\ncarol/network.py\tbuggy\n\ndave\tERROR\n")
    assert read_expected(f) == [("alice.py", "pass", 2), ("carol/network.py", "fail", 3), ("dave", "error", 5)]
    f.write_text("repo\tpath\tverdict\tevidence\nx/y\talice.py\tcorrect\tran it\n")
    assert read_expected(f) == [("alice.py", "pass", 2)]


@pytest.mark.parametrize("text, problem", [
    ("alice.py pass\n", "tab-separated"),
    ("alice.py\tmaybe\n", "unknown verdict 'maybe'"),
    ("file\tverdict\nalice.py\n", "separated by a tab"),
    ("# only a comment\n", "no rows"),
])
def test_read_expected_names_the_problem_and_the_fix(tmp_path, text, problem):
    f = tmp_path / "e.tsv"
    f.write_text(text)
    with pytest.raises(ExpectedError, match=problem):
        read_expected(f)


def test_agreement_table_counts_and_lists_disagreements(tmp_path):
    folder = tmp_path
    records = [
        {"student": "alice", "file": str(folder / "alice.py"), "verdict": "pass", "checks": []},
        {"student": "bob", "file": str(folder / "bob.py"), "verdict": "warn", "checks": []},
        {"student": "carol", "file": str(folder / "carol" / "network.py"), "verdict": "fail",
         "checks": [{"name": "backprop: grad_W", "verdict": "fail", "message": "3/12 mismatched",
                     "diagnosis": "sigma'(a) used where sigma'(z) belongs"}]},
        {"student": "erin", "file": str(folder / "erin.py"), "verdict": "pass", "checks": []},
    ]
    expected = [("alice.py", "pass", 1), ("bob", "pass", 2), ("carol", "pass", 3), ("zed.py", "fail", 4)]
    a = agreement(expected, records, folder)
    assert a.n == 3 and a.exact == 1 and a.accept_reject == 2
    assert a.matrix == {("pass", "pass"): 1, ("pass", "warn"): 1, ("pass", "fail"): 1}
    assert [(d["student"], d["got"]) for d in a.disagreements] == [("bob", "warn"), ("carol", "fail")]
    assert "sigma'(a)" in a.disagreements[1]["reason"]
    assert a.unknown == ["zed.py"] and a.unexpected == ["erin"]


def test_grade_expected_prints_the_agreement(tmp_path, capsys):
    d = _class(tmp_path)
    exp = tmp_path / "hand.tsv"
    exp.write_text("alice.py\tpass\ncarol\tpass\ndave.py\tfail\n")  # the instructor missed carol's bug
    out = tmp_path / "out"
    assert main(["grade", str(d), "--out", str(out), "--workers", "1", "--expected", str(exp), *FAST]) == 1
    printed = capsys.readouterr().out
    assert "| expected pass " in printed and "agreement: 2/3 exact (66.7%)" in printed
    assert "Disagreements" in printed and "| carol" in printed
    data = json.loads((out / "agreement.json").read_text())
    assert data["exact"] == 2 and data["matrix"] == {"fail->fail": 1, "pass->fail": 1, "pass->pass": 1}
    assert main(["grade", str(d), "--expected", str(tmp_path / "none.tsv")]) == 2
    assert "cannot read" in capsys.readouterr().err


# ---------------------------------------------------------------- --resume


def _graded(err: str) -> list[str]:
    return sorted(line.split()[1].rstrip(":") for line in err.splitlines() if line.startswith("graded "))


def test_resume_grades_only_what_changed_or_was_not_finished(tmp_path, capsys):
    d = _class(tmp_path)
    out = tmp_path / "out"
    main(["grade", str(d), "--out", str(out), "--workers", "1", *FAST])
    first = capsys.readouterr()
    assert _graded(first.err) == ["alice", "carol", "dave"]
    carol = json.loads((out / "students" / "carol.json").read_text())
    assert carol["verdict"] == "fail" and carol["fingerprint"]
    # carol fixes her file, dave's result is lost: --resume grades exactly those two
    (d / "carol" / "network.py").write_text(CORRECT)
    (out / "students" / "dave.json").unlink()
    main(["grade", str(d), "--out", str(out), "--workers", "1", "--resume", *FAST])
    second = capsys.readouterr()
    assert _graded(second.err) == ["carol", "dave"] and "resumed 1 submission" in second.err
    assert json.loads((out / "students" / "carol.json").read_text())["verdict"] == "pass"
    assert "| alice" in second.out and "| carol" in second.out  # the summary covers the whole class
    # other options are other grades: nothing is resumed
    main(["grade", str(d), "--out", str(out), "--workers", "1", "--resume", "--seed", "1", *FAST])
    assert _graded(capsys.readouterr().err) == ["alice", "carol", "dave"]


# ---------------------------------------------------------------- interrupts


def _ours(tag: str) -> list[int]:
    """Live processes whose command line or environment mentions tag (our temporary folder)."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            blob = (p / "cmdline").read_bytes() + (p / "environ").read_bytes()
            state = (p / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if tag.encode() in blob and state != "Z":
            pids.append(int(p.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find leftover processes")
def test_sigterm_keeps_finished_submissions_leaves_no_process_and_resume_finishes(tmp_path):
    d = tmp_path / "class"
    d.mkdir()
    n = 8
    for i in range(n):
        (d / f"s{i}.py").write_text(CORRECT if i % 2 else BUGGY)
    out = tmp_path / "out"
    tmp = tmp_path / "tmp"  # every process of this grade (workers, sandbox children) names it
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "reports.cli", "grade", str(d), "--out", str(out), *FAST]
    proc = subprocess.Popen([*cmd, "--workers", "2"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while len(list((out / "students").glob("*.json"))) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    done = sorted(p.stem for p in (out / "students").glob("*.json"))
    assert 2 <= len(done) < n, "the grade finished before the signal: the test proved nothing"
    assert "INTERRUPTED" in (out / "summary.md").read_text()
    for name in done:  # every finished submission is complete and readable
        assert json.loads((out / "students" / f"{name}.json").read_text())["verdict"] in ("pass", "fail")
        assert (out / "gradescope" / f"{name}.json").exists()
    # no worker, sandbox child or helper of that grade outlives it
    deadline = time.monotonic() + 10
    while _ours(str(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ours(str(tmp)) == []
    rest = subprocess.run([*cmd, "--workers", "1", "--resume"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert rest.returncode == 1, rest.stderr  # the buggy half fails
    assert sorted(_graded(rest.stderr)) == sorted(f"s{i}" for i in range(n) if f"s{i}" not in done)
    assert len(list((out / "students").glob("*.json"))) == n


# ---------------------------------------------------------------- cluster workers without this file system


def test_a_shipped_copy_is_validated_when_the_path_is_not_there(tmp_path):
    from reports.grading import Job, _ship, grade_one
    from reports.validate import ValidationOptions

    sub = tmp_path / "carol"
    sub.mkdir()
    (sub / "network.py").write_text(BUGGY)
    opts = ValidationOptions(cases=4, timeout=3.0, shrink=False)
    job = _ship(Job("carol", str(sub / "network.py"), str(sub), opts))
    assert set(job.files) == {"network.py"}
    here = grade_one(job)
    shutil.rmtree(sub)  # as on a worker that does not see this disk
    there = grade_one(job)
    assert there["verdict"] == here["verdict"] == "fail"
    assert there["file"] == str(sub / "network.py") and "bpcheck-shipped" not in json.dumps(there)
    strip = lambda r: {k: v for k, v in r.items() if k not in ("seconds", "text")}  # noqa: E731
    assert strip(there) == strip(here)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sandbox_child_dies_with_a_killed_parent(tmp_path):
    # a submission stuck in a loop never reads its closed pipe: only the kernel's parent-death signal stops it
    stuck = tmp_path / "stuck.py"
    stuck.write_text("class Network:\n    while True:\n        pass\n")
    helper = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
              "from oracles.sandbox import Sandbox\n"
              f"sb = Sandbox({str(stuck)!r}, timeout=120, load_timeout=120)\n"
              "sb._start(); print(sb._proc.pid, flush=True)\n"
              f"sb._send({{'op': 'load', 'path': {str(stuck)!r}, 'root': None, 'allow': (), 'cpu': 120}})\n"
              "import time; time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", helper], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(proc.stdout.readline())
        time.sleep(1.0)  # the child is importing numpy, then spinning in the class body
        assert Path(f"/proc/{child}").exists()
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{child}").exists(), "the sandbox child outlived its killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        if child and Path(f"/proc/{child}").exists():
            os.kill(child, signal.SIGKILL)  # (only when the test failed)


def _student_results(out: Path) -> dict:
    """Every student's result file without what differs from run to run (time taken)."""
    strip = ("seconds",)
    return {p.stem: {k: v for k, v in json.loads(p.read_text()).items() if k not in strip}
            for p in sorted((out / "students").glob("*.json"))}


def test_grade_on_a_dask_local_cluster_gives_the_serial_results(tmp_path, capsys, dask_address):
    d = _class(tmp_path)
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    assert main(["grade", str(d), "--out", str(serial), "--workers", "1", *FAST]) == 1
    capsys.readouterr()
    # a real scheduler and two worker processes; each submission is shipped and sandboxed on its worker
    assert main(["grade", str(d), "--out", str(dask), "--cluster", dask_address, *FAST]) == 1
    assert _graded(capsys.readouterr().err) == ["alice", "carol", "dave"]
    got, want = _student_results(dask), _student_results(serial)
    assert {k: v["verdict"] for k, v in want.items()} == {"alice": "pass", "carol": "fail", "dave": "fail"}
    assert got == want
    gradescope = lambda out, name: {k: v for k, v in json.loads((out / "gradescope" / f"{name}.json").read_text())  # noqa: E731
                                    .items() if k != "execution_time"}
    assert all(gradescope(dask, name) == gradescope(serial, name) for name in want)


def test_a_submission_drawing_unseeded_random_numbers_is_judged_the_same_in_every_run(tmp_path):
    # its layers keep their own np.random initial weights: the numbers in its report come from the sandbox
    # child's global RNG, which must not depend on the run. Every run, serial or in a grade worker, gets a
    # fresh child: two validations in two children show it (grade's workers add nothing to this; their
    # results equal the serial run's in test_grade_on_a_dask_local_cluster_gives_the_serial_results).
    from reports.validate import validate_file

    src = Path(__file__).parent / "submissions" / "saito" / "layers_copy_params.py"
    for name in ("a", "b"):
        shutil.copy(src, tmp_path / f"{name}.py")
    runs = [{name: [c.to_dict() for c in validate_file(tmp_path / f"{name}.py", cases=4, timeout=3.0).checks]
             for name in ("a", "b")} for _ in range(2)]
    assert runs[0]["a"][0]["verdict"] == "fail"
    assert runs[0]["a"] == runs[1]["a"] and runs[0]["b"] == runs[1]["b"]
    # two copies differ only in the module name of their snippets
    assert [c["message"] for c in runs[0]["a"]] == [c["message"] for c in runs[0]["b"]]
