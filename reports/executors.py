"""Where bpcheck's parallel work runs: in this process, in local worker processes, or on a Dask cluster.

All three sit behind one small class, ``Runner``, built on the standard ``concurrent.futures``
interface: local processes are a ``ProcessPoolExecutor`` (spawn), a cluster is
``distributed.Client(address).get_executor()``. Campaigns (``bpcheck report``), the mutation
kill run (``bpcheck mutants``) and ``bpcheck grade`` hand it picklable top-level functions and
picklable items and get back ``(index, result)`` pairs as they complete; the callers aggregate
in an order-independent way, so every executor gives the results of a serial run.

Losing a worker loses no task. A worker process that dies (killed, out of memory) breaks a
``ProcessPoolExecutor``; the Runner then starts a fresh pool and submits again every task that was
in flight. Dask's scheduler does the same on its own when a worker dies (``allowed-failures``).
A task whose worker died ``1 + retries`` times (locally) or that Dask gave up on (``KilledWorker``)
comes back as a ``TaskLost`` result, which the callers report as "not run": never dropped.

Stopping: ``kill()`` (an interrupt) cancels what is queued, sends SIGTERM to the local worker
processes (each closes its sandbox children on the way out), then SIGKILL after a short grace.
The sandbox children also carry PR_SET_PDEATHSIG (oracles/child.py), so even a SIGKILLed worker
leaves no process behind. On a cluster, ``kill()`` cancels the client's futures and closes it.

``--cluster ADDRESS``: a scheduler address (``tcp://host:8786``), a scheduler JSON file
(``dask scheduler --scheduler-file FILE``), or ``local`` / ``local:N`` for a throw-away
``distributed.LocalCluster`` of N single-threaded worker processes on this machine (a trial run).
Needs ``pip install bpcheck[cluster]``. See docs/cluster.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Runner", "TaskLost", "ClusterUnavailable", "worker_init", "software_versions", "THREAD_ENV",
           "DEFAULT_RETRIES"]

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# A task in flight when its worker died is submitted again this many times before it is reported lost.
DEFAULT_RETRIES = 2
_KILL_GRACE = 3.0  # seconds a local worker gets to close its sandboxes after SIGTERM


class ClusterUnavailable(RuntimeError):
    """--cluster could not be used: the extra is not installed, or the scheduler cannot be reached."""


@dataclass(frozen=True)
class TaskLost:
    """The result of a task that never completed: its worker died too often, or it raised."""

    index: int
    message: str
    raised: bool = False  # True: the task itself raised (a bpcheck bug), not a dead worker


def worker_init() -> None:
    """Run once in each local worker process (and idempotently before each task on a cluster worker).

    The parent owns Ctrl-C (SIGINT is ignored here: the parent stops the pool and still writes its
    report); SIGTERM unwinds the running task, so ``with Sandbox(...)`` blocks kill their children.
    torch is not imported here: the worker's environment already says one thread (``_spawn_guard``)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _exit_on_term)


def _exit_on_term(signum, frame):
    raise SystemExit(143)


_THREADS_SET = False


def _one_thread() -> None:
    """torch on tiny tensors: one thread is ~60x faster than two here (see DESIGN.md)."""
    global _THREADS_SET
    if _THREADS_SET:
        return
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    _THREADS_SET = True


def software_versions() -> dict:
    """bpcheck (version and the source files' digest), numpy, torch and Python of this process."""
    import hashlib
    import platform
    from importlib import metadata

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for pkg in ("oracles", "reference", "reports"):
        for f in sorted((root / pkg).rglob("*.py")):
            digest.update(f.read_bytes())
    return {"bpcheck": version("bpcheck"), "bpcheck_source": digest.hexdigest()[:16], "numpy": version("numpy"),
            "torch": version("torch"), "python": platform.python_version()}


def _here_versions() -> dict:
    return software_versions()  # (the workers run software_versions itself, by reference)


def _call(fn: Callable, item):
    """What a cluster worker runs: the per-process set-up, then the task (top-level: pickled by reference)."""
    _one_thread()
    return fn(item)


@contextlib.contextmanager
def _spawn_guard():
    """While local workers are spawned: one BLAS thread in their environment, SIGINT ignored.

    An ignored SIGINT survives exec and Python keeps it ignored, so Ctrl-C (sent to the whole
    process group) reaches only the parent, even while a worker is still importing torch."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update({k: "1" for k in THREAD_ENV})
    old_int = None
    if threading.current_thread() is threading.main_thread():
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if old_int is not None:
            signal.signal(signal.SIGINT, old_int)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Runner:
    """Run ``fn(item)`` for many items: serially here (workers=1), in local processes, or on a cluster.

    Use as a context manager; an exception (Ctrl-C included) leaving the block kills the workers."""

    def __init__(self, workers: int = 1, cluster: str | None = None, *, retries: int = DEFAULT_RETRIES,
                 connect_timeout: float = 20.0) -> None:
        if workers < 1:
            raise ValueError(f"workers={workers}: use 1 (serial) or more")
        self.workers = int(workers)
        self.cluster = cluster or None
        self.retries = int(retries)
        self.kind = "dask" if self.cluster else ("local" if self.workers > 1 else "serial")
        self._executor = None
        self._client = None
        self._local_cluster = None
        self._parallelism = self.workers
        self.lost_workers = 0  # local pools that broke and were replaced
        if self.kind == "dask":
            self._connect(connect_timeout)

    # ------------------------------------------------------------------ set-up

    def _connect(self, timeout: float) -> None:
        try:
            import distributed
        except ImportError:
            raise ClusterUnavailable("--cluster needs the Dask client: pip install 'bpcheck[cluster]' "
                                     "(installs distributed)") from None
        address = self.cluster
        try:
            if address == "local" or address.startswith("local:"):
                n = int(address.split(":", 1)[1]) if ":" in address else max(2, self.workers)
                # processes, one thread each: the same isolation as local workers
                self._local_cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                               dashboard_address=None)
                self._client = distributed.Client(self._local_cluster)
            elif "://" not in address and ("/" in address or address.endswith(".json")):
                if not Path(address).is_file():
                    raise ClusterUnavailable(f"--cluster {address}: no scheduler file there; give the file that "
                                             f"`dask scheduler --scheduler-file FILE` wrote, or tcp://HOST:8786")
                self._client = distributed.Client(scheduler_file=address, timeout=f"{timeout:g}s")
            else:
                self._client = distributed.Client(address, timeout=f"{timeout:g}s")
        except (OSError, TimeoutError, ValueError) as e:  # (a bad local:N count is a ValueError too)
            self.close()
            raise ClusterUnavailable(f"--cluster {address}: cannot reach the Dask scheduler ({type(e).__name__}: "
                                     f"{e}); start one with `dask scheduler` and workers with `dask worker "
                                     f"ADDRESS`, or try --cluster local:2") from None
        threads = sum(self._client.nthreads().values())
        self._parallelism = max(1, threads)
        self._check_workers()
        self._executor = self._client.get_executor()

    def _check_workers(self) -> None:
        """Every worker must run the same bpcheck, numpy and torch as this machine: the same seed gives
        the same results only with the same code."""
        here = _here_versions()
        try:
            there = self._client.run(software_versions)
        except Exception as e:  # noqa: BLE001 - typically: the workers cannot import bpcheck at all
            self.close()
            raise ClusterUnavailable(f"--cluster {self.cluster}: the Dask workers cannot run bpcheck "
                                     f"({type(e).__name__}: {e}); install the same bpcheck on every worker "
                                     f"(pip install 'bpcheck[cluster]')") from None
        differ = sorted({f"{w}: {k} {v.get(k)} (here {here[k]})" for w, v in there.items() for k in here
                         if v.get(k) != here[k]})
        if differ:
            self.close()
            raise ClusterUnavailable(f"--cluster {self.cluster}: the workers run other versions than this machine "
                                     f"({'; '.join(differ[:4])}); install the same versions there, or results "
                                     f"would not be those of a local run")

    def _local_executor(self):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forking a process that has loaded torch/OpenMP can deadlock the child
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                   initializer=worker_init)

    def describe(self) -> str:
        if self.kind == "serial":
            return "in this process"
        if self.kind == "local":
            return f"{self.workers} local worker processes"
        workers = len(self._client.scheduler_info().get("workers", {})) if self._client else 0
        return f"Dask cluster {self.cluster} ({workers} workers, {self._parallelism} threads)"

    @property
    def parallelism(self) -> int:
        return self._parallelism

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (tests kill one to prove nothing is lost)."""
        if self.kind == "local":
            return sorted(getattr(self._executor, "_processes", None) or {})
        if self.kind == "dask":
            return sorted(self._client.run(os.getpid).values())
        return []

    # ------------------------------------------------------------------ running

    def imap_unordered(self, fn: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        """Yield (k, fn(items[k])) as tasks complete, or (k, TaskLost) for a task that could not run."""
        items = list(items)
        if self.kind == "serial":
            for k, item in enumerate(items):
                yield k, fn(item)
            return
        yield from self._parallel(fn, items)

    def map(self, fn: Callable, items: Iterable) -> list:
        """[fn(item) for item in items] in order (TaskLost where a task could not run)."""
        items = list(items)
        out: list = [None] * len(items)
        for k, value in self.imap_unordered(fn, items):
            out[k] = value
        return out

    def _submit(self, fn, item) -> Future:
        if self.kind == "dask":
            return self._executor.submit(_call, fn, item)
        if self._executor is None:
            self._executor = self._local_executor()
        with _spawn_guard():
            return self._executor.submit(fn, item)

    def _parallel(self, fn, items: list) -> Iterator[tuple[int, object]]:
        window = 2 * self._parallelism + 2  # enough to keep every worker busy; memory stays flat
        todo = list(range(len(items)))[::-1]  # a stack: pop() gives the lowest index first
        attempts = [0] * len(items)
        flight: dict[Future, int] = {}
        while todo or flight:
            while todo and len(flight) < window:
                k = todo.pop()
                flight[self._submit(fn, items[k])] = k
            done, _ = wait(list(flight), timeout=1.0, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                k = flight.pop(fut)
                try:
                    value = fut.result()
                except CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - sorted below: a dead worker or a raising task
                    if self._worker_died(e):
                        broken = broken or self.kind == "local"
                        attempts[k] += 1
                        if self.kind == "dask" or attempts[k] > self.retries:
                            yield k, TaskLost(k, f"not run: the worker running it died "
                                                 f"{attempts[k] if self.kind == 'local' else 'repeatedly'} "
                                                 f"time(s) ({type(e).__name__})")
                        else:
                            todo.append(k)
                        continue
                    yield k, TaskLost(k, f"{type(e).__name__}: {e}", raised=True)
                    continue
                yield k, value
            if broken:
                # every other task of the broken pool failed or will fail the same way: start again
                for fut, k in flight.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        yield k, fut.result()  # finished just before the break
                        continue
                    attempts[k] += 1
                    if attempts[k] > self.retries:
                        yield k, TaskLost(k, f"not run: its worker pool broke {attempts[k]} times")
                    else:
                        todo.append(k)
                flight.clear()
                self._replace_pool()

    def _worker_died(self, e: BaseException) -> bool:
        if self.kind == "local":
            from concurrent.futures.process import BrokenProcessPool

            return isinstance(e, BrokenProcessPool)
        try:
            from distributed import KilledWorker
        except ImportError:  # pragma: no cover
            return False
        return isinstance(e, KilledWorker)

    def _replace_pool(self) -> None:
        self.lost_workers += 1
        old, self._executor = self._executor, None
        if old is not None:
            self._stop_local(old)

    # ------------------------------------------------------------------ stopping

    def _stop_local(self, executor) -> None:
        procs = list((getattr(executor, "_processes", None) or {}).values())
        with contextlib.suppress(Exception):
            executor.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                with contextlib.suppress(OSError):
                    p.terminate()  # SIGTERM: the task unwinds and closes its sandbox
        deadline = time.monotonic() + _KILL_GRACE
        for p in procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
        for p in procs:
            if p.is_alive():
                with contextlib.suppress(OSError):
                    p.kill()
        for p in procs:
            p.join(timeout=5)

    def kill(self) -> None:
        """Stop now: queued work is cancelled, running work is abandoned, workers are stopped."""
        if self.kind == "local" and self._executor is not None:
            self._stop_local(self._executor)
            self._executor = None
        elif self.kind == "dask":
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.cancel(list(getattr(self._executor, "_futures", ()) or ()), force=True)
            self.close()

    def close(self) -> None:
        if self.kind == "local" and self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._executor is not None and self.kind == "dask":
            with contextlib.suppress(Exception):
                self._executor.shutdown(wait=False)
        self._executor = None
        for closable in (self._client, self._local_cluster):
            if closable is not None:
                with contextlib.suppress(Exception):
                    closable.close()
        self._client = self._local_cluster = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()
