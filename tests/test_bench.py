"""`bpcheck bench`: the functions behind it at a tiny size (the real bench takes minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import bench_cmd

DOCUMENTED = {
    "fd": ["full_speedup_vs_gradcheck_slow", "screen_speedup_vs_gradcheck_fast",
           "localise_speedup_vs_gradcheck_fast", "max_norm_rel_err"],
    "epoch": ["matrix_speedup_vs_per_sample", "matrix_gemm_fraction_of_peak"],
    "validate": ["seconds", "torch_import_seconds"],
}


@pytest.fixture(scope="module")
def tiny():
    return bench_cmd.run(("fd", "epoch"), quick=True, in_child=False)


def test_fd_section_at_tiny_size(tiny):
    fd = tiny["fd"]
    for key in DOCUMENTED["fd"]:
        assert isinstance(fd[key], float) and fd[key] > 0, key
    for key in DOCUMENTED["fd"][:3]:  # judged on CPU time, wall-clock ratio reported alongside
        assert fd[key + "_wall"] > 0, key
    # the planted 1% bias bug is named, tensor and element, and the correct gradient passes
    assert fd["screen_passed"] and fd["gradcheck_fast_passed"] and fd["gradcheck_slow_passed"]
    assert fd["localise_found_bug"], fd["localised"]
    assert fd["localised"]["failing_tensors"] == ["b1"]
    assert fd["localised"]["index"] == fd["planted"]["index"]
    assert fd["gradcheck_fast_bug_detected"]
    assert fd["max_norm_rel_err"] < 1e-8
    # the screen's cold floor: positive, below the screen's own cold time (it is part of what the screen does)
    # and its share of the cold budget consistent with the figures it is made of
    assert 0 < fd["screen_floor_cold_cpu_seconds"] < fd["screen_cold_cpu_seconds"]
    # the bench says which first stage it timed: the compiled one wherever numba loads
    from oracles import fd_screen

    assert fd["screen_compiled"] is (fd_screen._kernels() is not None)
    assert fd["screen_floor_share_of_cold_budget"] == pytest.approx(
        fd["screen_floor_cold_cpu_seconds"] * bench_cmd.TARGETS["screen_speedup_vs_gradcheck_fast"]
        / fd["gradcheck_fast_cold_cpu_seconds"])
    # the conv target: the wrong W1 element of oracles.conv_bench is named, tensor and index
    cv = fd["conv"]
    assert cv["failing_tensors"] == ["W1"] and cv["localised"] == cv["planted"][1] and cv["found_bug"]
    assert 0 < cv["cpu_seconds"] and cv["target_met"] == (cv["cpu_seconds"] < 1.0)
    # the torch oracle on a tiny net, a ratio to one bare autograd call measured in the same run
    ot = fd["oracle_tiny"]
    assert ot["oracle_cpu_seconds"] > 0 and ot["autograd_cpu_seconds"] > 0 and ot["torch_threads"] == 1
    assert ot["oracle_over_autograd"] == pytest.approx(ot["oracle_cpu_seconds"] / ot["autograd_cpu_seconds"])
    assert ot["target_met"] == (ot["oracle_over_autograd"] <= bench_cmd.TARGETS["oracle_over_autograd_tiny"])


def test_epoch_section_at_tiny_size(tiny):
    ep = tiny["epoch"]
    for key in DOCUMENTED["epoch"]:
        assert isinstance(ep[key], float) and ep[key] > 0, key
    for bs in ep["batches"]:
        row = ep[f"batch_{bs}"]
        assert all(row[k] > 0 for k in ("per_sample_seconds", "matrix_seconds", "layer_seconds", "torch_seconds"))
    assert ep["gemm_peak_gflops"] > 0 and ep["seed_claimed_speedup"] == 5.0


def test_json_has_every_documented_key_and_the_table_renders(tiny):
    summary = json.loads(json.dumps(bench_cmd._json_summary(tiny), default=float))
    for section, keys in DOCUMENTED.items():
        for key in keys:
            assert key in summary[section], f"{section}.{key}"
    assert summary["validate"]["seconds"] is None  # the section did not run: null, not missing
    table = bench_cmd.format_table(tiny)
    assert "gradcheck slow" in table and "conv: screen + localise" in table and "torch oracle" in table
    assert "GEMM peak" in table and "seed claims 5x" in table


def test_flop_count_of_one_sample():
    # 784-30-10: forward 2(784*30 + 30*10), dW the same, dA only above layer 1: 2*30*10
    assert bench_cmd._flops_per_sample((784, 30, 10)) == 2 * (784 * 30 + 30 * 10) * 2 + 2 * 30 * 10


def test_unknown_section_is_a_usage_error(capsys):
    import argparse

    assert bench_cmd._main(argparse.Namespace(sections="fd,nope", json=False)) == 2
    assert "nope" in capsys.readouterr().err


def test_grade_section_at_tiny_size(tmp_path):
    from reports.agreement import read_expected

    folder = bench_cmd.make_class(tmp_path / "class", 3)
    rows = read_expected(folder / "expected.tsv")
    assert [r[0] for r in rows] == sorted(p.name for p in folder.glob("*.py")) and {r[1] for r in rows} <= {
        "pass", "fail", "error"}


def test_a_class_expects_error_where_the_fixture_does():
    """A fixture of a part bpcheck names as not checked (`# expect: error ...`) is expected ERROR in the
    generated class, not pass (the 500-submission run counted it as a disagreement)."""
    from reports.bench_commands import _expected_verdict

    here = Path(__file__).parent / "submissions"
    assert _expected_verdict(here / "not_checked" / "ctc_mytorch_like.py") == "error"
    assert _expected_verdict(here / "not_checked" / "gru_cell_mytorch_like.py") == "fail"  # checked since session 8
    assert _expected_verdict(here / "not_checked" / "cs231n_rmsprop_cache_key.py") == "error"
    assert _expected_verdict(here / "nielsen" / "full_matrix_missing_1_over_m.py") == "fail"
    gr = bench_cmd.bench_grade(n=3, workers=1, cases=3)
    assert gr["graded"] == 3 and gr["exit_code"] in (0, 1), gr.get("stderr")
    assert gr["seconds"] > 0 and gr["projected_500_seconds"] == pytest.approx(500 * gr["seconds"] / 3)
    assert gr["agreement_accept_reject"] is not None and gr["max_rss_mb"] > 0
    assert "grade" in bench_cmd.format_table({"date": "d", "machine": {"cpus": 2, "processor": "x"}, "grade": gr})
