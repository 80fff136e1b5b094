"""The campaign engine on fake subjects: counts, discrepancies, faults, interruption, determinism."""

from __future__ import annotations

from pathlib import Path

from test_report_doubles import fake_campaign, tiny_case, truth

from oracles.case import Case
from reports import campaign, campaign_case


def _row(results, subject, check):
    return next(c for c in results["checks"] if c["subject"] == subject and c["check"] == check)


def _strip_timing(results: dict) -> dict:
    meta = {k: v for k, v in results["meta"].items() if k not in ("wall_time_s", "started", "workers")}
    return {**results, "meta": meta}


def test_case_seed_rule_is_stable():
    assert campaign.case_seed(0, 7) == 7
    assert campaign.case_seed(3, 2) == 3 * 1_000_003 + 2


def test_a_correct_subject_passes_every_check(monkeypatch, tmp_path):
    results = fake_campaign(monkeypatch, tmp_path, "good", cases=5)
    assert results["discrepancies"] == [] and results["summary"]["passed"]
    checks = {c["check"]: c for c in results["checks"]}
    assert set(checks) == {"loss", "grad_W", "grad_b", "update", "side_effects"}
    for c in checks.values():
        assert (c["cases"], c["passed"], c["failed"], c["status"]) == (5, 5, 0, "pass")
    assert results["meta"]["cases_run"] == results["meta"]["cases_planned"] == 5
    assert not (tmp_path / "cases").exists() or not list((tmp_path / "cases").iterdir())


def test_a_broken_gradient_is_a_discrepancy_with_a_saved_replayable_case(monkeypatch, tmp_path):
    results = fake_campaign(monkeypatch, tmp_path, "good", "broken", cases=5)
    assert _row(results, "fake:broken", "grad_W")["failed"] == 5
    assert _row(results, "fake:broken", "grad_b")["failed"] == 0
    assert _row(results, "fake:good", "grad_W")["failed"] == 0
    [d] = results["discrepancies"]
    assert (d["subject"], d["check"], d["oracle"], d["failed_cases"]) == ("fake:broken", "grad_W", "torch", 5)
    assert d["tensor"] == "grads['W1']" and "norm ratio 2" in d["message"]
    assert d["diagnosis"] != ""
    assert len(d["occurrences"]) == 5 and [o["case_index"] for o in d["occurrences"]] == list(range(5))
    for o in d["occurrences"]:
        assert o["norm_ratio"] == 2.0 and o["max_abs"] > 0 and len(o["max_abs_index"]) == 2
        case = Case.load(tmp_path / o["case_path"])
        assert case.case_id == o["case_id"] and "subject:fake:broken" in case.tags
        assert o["replay"] == f"bpcheck replay {tmp_path / o['case_path']}"
    small = d["smallest"]
    saved = Case.load(tmp_path / small["case_path"])
    assert small["shrunk"] and saved.m <= min(o["batch"] for o in d["occurrences"])
    assert list(saved.spec.sizes) == small["architecture"] and saved.m == small["batch"]
    # the saved smallest case still fails the same way when judged again
    obs = truth(saved)
    obs.grads["W1"] = 2 * obs.grads["W1"]
    from oracles.compare import compare_observation

    [v] = compare_observation(saved, obs, truth(saved), checks=("grad_W",))
    assert v.status == "fail"
    # heat-map data: actual - expected of the smallest case, with its shape
    [t] = d["tensors"]
    assert t["difference_shape"] == list(saved.spec.param_shapes()["W1"])
    assert t["difference"] == [float(x) for x in (obs.grads["W1"] - truth(saved).grads["W1"]).ravel()]


def test_faults_are_discrepancies_never_crashes(monkeypatch, tmp_path):
    results = fake_campaign(monkeypatch, tmp_path, "nan", "raises", "wrongtype", cases=3)
    nan = _row(results, "fake:nan", "grad_b")
    assert nan["failed"] == 3 and nan["worst_norm_rel"]["torch"] is None
    by = {(d["subject"], d["check"]): d for d in results["discrepancies"]}
    assert "NaN" in by[("fake:nan", "grad_b")]["message"]
    assert "RuntimeError: boom from the fake subject" in by[("fake:raises", "run")]["message"]
    assert "not an Observation" in by[("fake:wrongtype", "run")]["message"]
    assert _row(results, "fake:raises", "run")["failed"] == 3


def test_interruption_keeps_the_completed_cases(monkeypatch, tmp_path):
    seen = []

    def stop(outcome):
        seen.append(outcome["index"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    results = fake_campaign(monkeypatch, tmp_path, "broken", cases=10, on_case=stop)
    meta = results["meta"]
    assert meta["interrupted"] and meta["interrupted_during"] == "cases"
    assert meta["cases_run"] == 3 and meta["cases_planned"] == 10
    assert _row(results, "fake:broken", "grad_W")["cases"] == 3
    [d] = results["discrepancies"]
    assert d["failed_cases"] == 3 and all((tmp_path / o["case_path"]).is_file() for o in d["occurrences"])
    # nothing is re-run after an interrupt: the first failing case is reported as recorded
    assert d["smallest"]["shrunk"] is False and d["smallest"]["case_index"] == 0
    assert d["tensors"] and d["tensors"][0]["tensor"] == "grads['W1']"


def test_same_seed_same_results_other_seed_other_cases(monkeypatch, tmp_path):
    a = fake_campaign(monkeypatch, tmp_path / "a", "good", "broken", cases=4, seed=5)
    b = fake_campaign(monkeypatch, tmp_path / "b", "good", "broken", cases=4, seed=5)
    strip = lambda r: {**_strip_timing(r), "discrepancies": [
        {**d, "smallest": {k: v for k, v in d["smallest"].items() if k != "replay"},
         "occurrences": [{k: v for k, v in o.items() if k != "replay"} for o in d["occurrences"]]}
        for d in r["discrepancies"]]}
    assert strip(a) == strip(b)
    c = fake_campaign(monkeypatch, tmp_path / "c", "broken", cases=4, seed=6)
    assert {o["case_id"] for o in c["discrepancies"][0]["occurrences"]}.isdisjoint(
        {o["case_id"] for o in a["discrepancies"][0]["occurrences"]})
    first = Case.load(tmp_path / "a" / a["discrepancies"][0]["occurrences"][0]["case_path"])
    assert first.seed == campaign.case_seed(5, 0)
    assert first.x.tobytes() == tiny_case(campaign.case_seed(5, 0)).x.tobytes()


def test_only_the_first_failing_cases_are_kept_but_all_are_counted(monkeypatch, tmp_path):
    monkeypatch.setattr(campaign, "MAX_OCCURRENCES", 2)
    results = fake_campaign(monkeypatch, tmp_path, "broken", cases=6)
    [d] = results["discrepancies"]
    assert d["failed_cases"] == 6
    assert [o["case_index"] for o in d["occurrences"]] == [0, 1]
    saved = {p.name for p in (tmp_path / "cases").iterdir()}
    assert saved == {Path(o["case_path"]).name for o in d["occurrences"]} | {Path(d["smallest"]["case_path"]).name}


def test_a_bug_that_needs_a_batch_is_reported_with_that_pattern(monkeypatch, tmp_path):
    results = fake_campaign(monkeypatch, tmp_path, "batchonly", cases=12)
    batches = [tiny_case(campaign.case_seed(0, i)).m for i in range(12)]
    assert 1 in batches and any(m > 1 for m in batches)  # both kinds of case were drawn
    [d] = results["discrepancies"]
    assert d["failed_cases"] == sum(m > 1 for m in batches)
    assert d["pattern"].startswith("batch_only"), d["pattern"]
    good = fake_campaign(monkeypatch, tmp_path / "b", "broken", cases=12)
    assert good["discrepancies"][0]["pattern"] == ""  # fails everywhere: no condition to report


def test_a_bundled_module_that_cannot_be_imported_is_reported_not_fatal(monkeypatch):
    from reports import campaign_subjects  # default_subjects looks _reference_modules up there

    real = campaign_subjects._reference_modules()
    monkeypatch.setattr(campaign_subjects, "_reference_modules", lambda: [*real, "reference.no_such_module_here"])
    subjects = campaign.default_subjects()
    assert {s.module for s in subjects} >= {"reference.nielsen"}
    assert campaign.SKIPPED == ["reference.no_such_module_here was skipped: importing it raised "
                                + campaign.SKIPPED[0].split("raised ", 1)[1]]
    assert "ModuleNotFoundError" in campaign.SKIPPED[0]


def test_our_own_faults_are_reported_as_harness_discrepancies(monkeypatch, tmp_path):
    from test_report_doubles import install_fakes

    from reports.render import render_html, render_junit, render_markdown

    install_fakes(monkeypatch)

    def no_draw(subject, i, config):
        raise ValueError("the generator broke")

    monkeypatch.setattr(campaign_case, "_draw", no_draw)  # the one-case code looks _draw up there
    config = campaign.CampaignConfig(cases=2, oracles=("torch",))
    subjects = [campaign.Subject("fake:good", "fake", "fake:good", "Net")]
    results = campaign.run_campaign(subjects, config, cases_dir=tmp_path / "cases", progress=False)
    [d] = results["discrepancies"]
    assert d["check"] == "harness" and "the generator broke" in d["message"] and "a bpcheck bug" in d["message"]
    assert d["smallest"] is None and d["failed_cases"] == 2
    for render in (render_markdown, render_junit):
        assert "the generator broke" in render(results)
    assert "no case was generated" in render_html(results, plots=False)


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch):
    import io
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert campaign._progress(5, None) is None  # pytest's captured output is not a terminal
    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.setattr(sys, "stderr", Tty())
    bar = campaign._progress(5, None)
    assert bar is not None
    bar.close()
    monkeypatch.setenv("CI", "1")
    assert campaign._progress(5, None) is None
