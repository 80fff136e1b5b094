"""Where campaigns run (reports.executors): local processes and a real Dask LocalCluster give the serial
results, and a worker killed in the middle of a campaign loses no case."""

from __future__ import annotations

import os
import signal

import pytest

from reports import campaign
from reports.executors import Runner, TaskLost

NIELSEN = "nielsen:reference.nielsen[Network]"
BROKEN = "mutant:nielsen_transposed_dw"
# 2 subjects x 8 cases in chunks of 2: eight tasks, so a worker killed after the first outcome is busy
CONFIG = dict(cases=8, seed=5, shrink=False)


def _comparable(results: dict) -> dict:
    drop = ("wall_time_s", "started", "workers", "cluster")
    return {**results, "meta": {k: v for k, v in results["meta"].items() if k not in drop}}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    subjects = campaign.parse_subjects(f"{NIELSEN},{BROKEN}")
    config = campaign.CampaignConfig(workers=1, **CONFIG)
    results = campaign.run_campaign(subjects, config, cases_dir=tmp_path_factory.mktemp("serial"),
                                    replay_dir="cases", progress=False)
    assert results["discrepancies"], "the broken subject must fail, or the comparison proves little"
    return subjects, results


def _kill_one_worker_after_first_case(runner: Runner, killed: list):
    def on_case(outcome):
        if not killed:
            pid = runner.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    return on_case


def test_killing_a_local_worker_mid_campaign_loses_no_case(serial, tmp_path):
    subjects, expected = serial
    killed: list = []
    with Runner(workers=2) as runner:
        config = campaign.CampaignConfig(workers=2, **CONFIG)
        results = campaign.run_campaign(subjects, config, cases_dir=tmp_path, replay_dir="cases", progress=False,
                                        on_case=_kill_one_worker_after_first_case(runner, killed), runner=runner)
        assert killed and runner.lost_workers >= 1, "the pool never noticed the death: the test proved nothing"
    assert results["meta"]["cases_run"] == results["meta"]["cases_planned"]
    assert _comparable(results) == _comparable(expected)


def test_a_task_that_kills_every_worker_is_reported_and_the_pool_recovers():
    with Runner(workers=2, retries=1) as runner:
        (lost,) = runner.map(os._exit, [3])  # the worker running it exits at once, every time
        assert isinstance(lost, TaskLost) and not lost.raised and "died 2 time(s)" in lost.message
        assert runner.lost_workers == 2
        (raised,) = runner.map(int, ["x"])  # a task that raises is not retried: it is reported as raised
        assert isinstance(raised, TaskLost) and raised.raised and "ValueError" in raised.message
        assert runner.map(abs, [-3, 4]) == [3, 4]  # a fresh pool serves the rest


def test_dask_local_cluster_gives_the_serial_results_even_when_a_worker_dies(serial, tmp_path, dask_address):
    subjects, expected = serial
    killed: list = []
    # a real scheduler and two worker processes (each under a nanny that restarts it when it dies)
    with Runner(cluster=dask_address) as runner:
        assert runner.kind == "dask" and len(runner.worker_pids()) == 2
        config = campaign.CampaignConfig(workers=1, **CONFIG)
        results = campaign.run_campaign(subjects, config, cases_dir=tmp_path, replay_dir="cases", progress=False,
                                        on_case=_kill_one_worker_after_first_case(runner, killed), runner=runner)
    assert killed
    assert results["meta"]["cases_run"] == results["meta"]["cases_planned"]
    assert _comparable(results) == _comparable(expected)


def test_cluster_usage_errors_name_the_fix(tmp_path, capsys):
    from reports.cli import main
    from reports.executors import ClusterUnavailable

    pytest.importorskip("distributed")
    code = main(["report", "--cases", "1", "--subjects", NIELSEN, "--out", str(tmp_path / "out"),
                 "--cluster", str(tmp_path / "scheduler.json")])
    err = capsys.readouterr().err
    assert code == 2 and "no scheduler file" in err and "tcp://" in err
    with pytest.raises(ClusterUnavailable, match="cannot reach the Dask scheduler.*dask scheduler"):
        Runner(cluster="tcp://127.0.0.1:9", connect_timeout=1)  # nothing listens on the discard port


def test_mutants_in_worker_processes_give_the_serial_kill_matrix():
    from reports.mutation_run import kill_run

    names = ["nielsen_transposed_dw", "nielsen_factor_2_cost"]
    serial = [r.to_dict() for r in kill_run(names, cases=2)]
    parallel = [r.to_dict() for r in kill_run(names, cases=2, workers=2)]
    assert all(r["killed"] for r in serial)
    assert parallel == serial


def test_workers_with_other_versions_are_refused(monkeypatch):
    pytest.importorskip("distributed")
    from reports import executors

    # this process claims another numpy than its (LocalCluster) workers have: refused before any work
    monkeypatch.setattr(executors, "_here_versions", lambda: {**executors.software_versions(), "numpy": "0.0-x"})
    with pytest.raises(executors.ClusterUnavailable, match="other versions.*numpy"):
        Runner(cluster="local:1")
