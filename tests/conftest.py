"""Hypothesis profiles for the property suite, chosen by the environment variable BPCHECK_PROFILE.

* ``dev`` (default): quick, random; for the edit-test loop.
* ``ci``: deterministic (derandomize), no deadline, CI_EXAMPLES examples per property, and
  ``@pytest.mark.slow`` tests deselected, so ``BPCHECK_PROFILE=ci pytest -q`` is the CI run: the
  regression gate, which must stay within CI's 10 minutes on 2 cores.
* ``thorough``: THOROUGH_EXAMPLES (40x ci's) random examples per property; slow tests included. This
  is the fuzzing campaign (``BPCHECK_PROFILE=thorough bash scripts/run.sh test``).

Measured (session 8, one process, quiet machine): tests/test_properties.py alone took 142 s of CPU at 200
examples per property and 70 s at 100. The torch and
finite-difference properties run CI_EXAMPLES cases per reference subject; agreement, per-sample
reduction and float32 draw the subject inside the example (CI_EXAMPLES cases in all).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# One thread: torch on tiny tensors is ~60x slower with the default thread pool on this machine.
try:  # torch is a dependency, but a test run without it should still reach the numpy-only tests
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

# 50, not the 200 of sessions 1-7: at 200 the whole CI run took 624 s on the CI machine (budget 600 s);
# the property files were a quarter of the suite's CPU time. The fuzzing itself lives in ``thorough``.
CI_EXAMPLES = 50
THOROUGH_EXAMPLES = 2000
_COMMON = dict(
    deadline=None,
    print_blob=True,
    # Spec drawing filters nothing, but Cases are built from several draws; big data is expected.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, **_COMMON)

PROFILE = os.environ.get("BPCHECK_PROFILE", "dev")
if PROFILE not in ("ci", "dev", "thorough"):
    raise pytest.UsageError(f"BPCHECK_PROFILE={PROFILE!r} is unknown; use ci, dev or thorough")
settings.load_profile(PROFILE)


def pytest_report_header(config) -> str:
    return f"bpcheck hypothesis profile: {PROFILE} (set BPCHECK_PROFILE=ci|dev|thorough)"


def pytest_collection_modifyitems(config, items) -> None:
    """In the ci profile, drop @pytest.mark.slow tests unless -m was given explicitly."""
    if PROFILE != "ci" or config.getoption("markexpr"):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("slow") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def dask_address():
    """The scheduler address of one real Dask LocalCluster (two worker processes under nannies, one thread
    each), shared by the cluster tests: starting a cluster, closing it and importing torch in its workers
    cost ~10 s a time, paid once per pytest process (under `-n 2`, once in each xdist worker that runs one of
    them: each worker has its own cluster on its own ports, so they never share workers). The `--cluster
    local:N` path, which starts a throw-away cluster, keeps its own test
    (test_executors.py::test_workers_with_other_versions_are_refused)."""
    distributed = pytest.importorskip("distributed", reason="the cluster extra: pip install 'bpcheck[cluster]'")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(params=["compiled", "numpy"])
def screen_path(request, monkeypatch):
    """Run a test once with the MLP screen's compiled first stage (oracles/fd_kernel.py) and once with the
    numpy one it replaces where numba is missing (BPCHECK_NO_JIT): both must give the same verdicts."""
    from oracles import fd_screen

    if request.param == "compiled":
        if fd_screen._kernels() is None:
            pytest.skip("numba is not available here: the compiled screen cannot run")
    else:
        monkeypatch.setattr(fd_screen, "_kernels", lambda: None)
    return request.param
