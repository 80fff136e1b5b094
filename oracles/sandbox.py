"""Run an untrusted submission in a child interpreter with limits; get Observations back.

The parent (this module) holds the oracle and the expected values; the child (oracles/child.py)
holds the submission and nothing else. Cases go down a pipe (pickled: the parent is trusted), answers come
back up another pipe in a pickle-free format, authenticated with a per-run random token, and are
validated strictly before anything uses them. Limits: wall time per answer (here), CPU time and
address space (rlimits in the child), no file content written anywhere (RLIMIT_FSIZE = 0), no
forks, captured output capped. When the child dies or hangs, it is killed and a fresh one takes
the remaining cases; the faults become ``SandboxResult.fault`` values the report turns into
verdicts. Nothing is ever read from a file the child could write.

Usage::

    with Sandbox("student.py", timeout=5) as sb:
        info = sb.load()                     # LoadInfo(ok, names, notes, kind, message, line)
        spaces = sb.entries("nielsen")       # {entry: SpecSpace}
        for r in sb.run("nielsen", "backprop", cases): ...   # SandboxResult per case
"""

from __future__ import annotations

import hmac
import os
import pickle
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from oracles.child import BOOT, MAX_MESSAGE, DecodeError, decode, mac
from oracles.sandbox_answers import (
    FAULT_KINDS,
    LoadInfo,
    SandboxResult,
    _compat,
    _load_info,
    _result,
    _spec_space,
    validate_observation,
)

if TYPE_CHECKING:  # the Case module is imported when an answer needs it: the import of this module stays
    # light so that `bpcheck validate` starts the child before anything heavy
    from oracles.case import SpecSpace

__all__ = ["Sandbox", "LoadInfo", "SandboxResult", "FAULT_KINDS", "validate_observation"]

PROJECT = str(Path(__file__).resolve().parent.parent)


class _Output(threading.Thread):
    """Drains the child's stdout+stderr so a print flood can never block it; keeps only a prefix."""

    def __init__(self, stream, cap: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(1 << 16) if hasattr(self.stream, "read1") else self.stream.read(1 << 16)
                if not chunk:
                    return
                self.total += len(chunk)
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except (OSError, ValueError):
            return


class _ChildGone(Exception):
    def __init__(self, fault: str, message: str) -> None:
        super().__init__(message)
        self.fault, self.message = fault, message


class Sandbox:
    """A child interpreter holding one submission. Restarted transparently after a fatal fault."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        allow_imports: tuple[str, ...] = (),
        timeout: float = 5.0,
        cpu: float | None = None,
        memory_mb: int = 2048,
        output_cap: int = 64 * 1024,
        load_timeout: float = 20.0,
        strict_numpy: bool = False,
    ) -> None:
        self.path = str(Path(path).resolve())
        self.root = str(Path(root).resolve()) if root else None
        self.allow = tuple(allow_imports)
        self.timeout = float(timeout)
        self.cpu = float(cpu if cpu is not None else timeout)
        self.memory_mb = int(memory_mb)
        self.output_cap = int(output_cap)
        self.load_timeout = float(load_timeout)
        self.strict_numpy = bool(strict_numpy)
        # numpy 1.x APIs the submission uses, from the load and every answer since (all children)
        self.compat: list[dict] = []
        self.workdir = tempfile.mkdtemp(prefix="bpcheck-child-")
        self._proc: subprocess.Popen | None = None
        self._load: LoadInfo | None = None
        self._load_sent: _ChildGone | bool = False  # start(): the load request went out before anyone waited
        self.restarts = 0
        self.output = bytearray()  # kept output of all children, capped
        self.output_total = 0
        self.events: list[str] = []  # child deaths and restarts, for the report
        self.last_fault: str | None = None  # fault kind of the last entries() call

    # -- lifecycle

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": self.workdir,
            # one BLAS thread: threads count against the child's process limit, and graders run in parallel
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "BPCHECK_PARENT_PID": str(os.getpid()),  # the child dies with its parent (child._die_with_parent)
        }
        cpu_total = int(self.cpu * 1000 + 60)  # the per-answer CPU window is set before each case
        args = [sys.executable, "-I", "-B", "-c", BOOT, str(req_r), str(resp_w), PROJECT, self.workdir,
                str(self.memory_mb), str(cpu_total)]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(req_r, resp_w), cwd=self.workdir, env=env, start_new_session=True,
        )
        os.close(req_r)
        os.close(resp_w)
        self._req, self._resp = req_w, resp_r
        self._buf = bytearray()
        self._token = secrets.token_bytes(32)
        self._seq = 0
        self._out = _Output(self._proc.stdout, self.output_cap)
        self._out.start()
        self._send({"token": self._token})

    def start(self) -> None:
        """Start the child and send it the load request now; ``load()`` (or the first operation) reads the
        answer. The child's interpreter start-up, its imports and the file's loading then overlap with
        whatever the parent does meanwhile (`bpcheck validate`: its imports, torch's)."""
        if self._proc is not None or self._load is not None:
            return
        self._start()
        try:
            self._send(self._load_request())
        except _ChildGone as e:
            self._load_sent = e  # reported by load(), as a failed send is there
        else:
            self._load_sent = True

    def _load_request(self) -> dict:
        return {"op": "load", "path": self.path, "root": self.root, "allow": self.allow,
                "cpu": self.load_timeout, "strict_numpy": self.strict_numpy}

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._collect_output()
        for fd in (self._req, self._resp):
            try:
                os.close(fd)
            except OSError:
                pass
        self._proc = None

    def _collect_output(self) -> None:
        out = getattr(self, "_out", None)
        if out is None:
            return
        out.join(timeout=2)
        room = self.output_cap - len(self.output)
        if room > 0:
            self.output += out.kept[:room]
        self.output_total += out.total
        self._out = None

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def written_files(self) -> list[str]:
        """Names the child created in its working directory (never their contents)."""
        names = []
        for dirpath, dirnames, filenames in os.walk(self.workdir):
            rel = os.path.relpath(dirpath, self.workdir)
            for f in filenames + dirnames:
                names.append(f if rel == "." else os.path.join(rel, f))
            if len(names) > 50:
                break
        return sorted(names)[:50]

    @property
    def output_so_far(self) -> int:
        return self.output_total + (self._out.total if getattr(self, "_out", None) else 0)

    # -- framing

    def _send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            os.write(self._req, struct.pack("<Q", len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self._req, view) :]
        except (BrokenPipeError, OSError) as e:
            raise _ChildGone("killed", self._death_message()) from e

    def _recv(self, timeout: float):
        deadline = time.monotonic() + timeout
        need = None
        while True:
            if need is None and len(self._buf) >= 8:
                (n,) = struct.unpack("<Q", self._buf[:8])
                if n > MAX_MESSAGE:
                    raise _ChildGone("protocol", f"answer of {n} bytes exceeds the {MAX_MESSAGE} byte limit")
                need = 8 + 32 + n
            if need is not None and len(self._buf) >= need:
                frame = bytes(self._buf[:need])
                del self._buf[:need]
                tag, payload = frame[8:40], frame[40:]
                if not hmac.compare_digest(tag, mac(self._token, self._seq, payload)):
                    raise _ChildGone("protocol", "an answer failed authentication (bytes written to the "
                                                 "result pipe by the submission?)")
                self._seq += 1
                try:
                    return decode(payload)
                except DecodeError as e:
                    raise _ChildGone("protocol", f"malformed answer: {e}") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._resp], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._resp, 1 << 20)
            if not chunk:
                raise _ChildGone("killed", self._death_message())
            self._buf += chunk

    def _death_message(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        if code is None:
            return "the child process stopped answering"
        if code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU:
                return f"CPU time limit ({self.cpu:g} s) exceeded"
            if sig == signal.SIGKILL:
                return f"the child process was killed (SIGKILL; memory limit {self.memory_mb} MB or OOM?)"
            return f"the child process died from signal {name}"
        return f"the child process exited with code {code} (os._exit or a crash)"

    # -- operations

    def _ensure(self) -> LoadInfo:
        if self._proc is not None and self._load_sent is False:
            return self._load
        if self._load is not None and not self._load.ok:
            return self._load
        if self._load is not None:
            self.restarts += 1
            self.events.append("a fresh child was started for the remaining checks")
        sent, self._load_sent = self._load_sent, False
        if sent is False:
            self._start()
        try:
            if sent is False:
                self._send(self._load_request())
            elif sent is not True:
                raise sent
            ans = self._recv(self.load_timeout)
        except TimeoutError:
            self._kill()
            info = LoadInfo(False, kind="timeout", message=f"loading took longer than {self.load_timeout:g} s "
                                                            f"(top-level code stuck?)")
        except _ChildGone as e:
            self._kill()
            kind = "cpu" if "CPU" in e.message else ("exit" if "exited" in e.message else e.fault)
            info = LoadInfo(False, kind=kind, message=f"loading failed: {e.message}")
        else:
            info = _load_info(ans)
            self._note_compat(info.compat)
            if not info.ok:
                self._kill()
        if self._load is None or not info.ok:
            self._load = info
        return self._load

    def load(self) -> LoadInfo:
        return self._ensure()

    def _note_compat(self, uses: list[dict]) -> None:
        for u in uses:
            if u not in self.compat and len(self.compat) < 100:
                self.compat.append(u)

    def entries(self, style: str) -> tuple[dict[str, SpecSpace], str | None]:
        """Entry points and their spec spaces, or ({}, reason) when the child could not say."""
        info = self._ensure()
        self.last_fault = None
        if not info.ok:
            return {}, info.message
        self.last_fault = "timeout"
        try:
            self._send({"op": "entries", "style": style, "cpu": self.cpu * 2})
            ans = self._recv(self.timeout * 2)
        except TimeoutError:
            self._kill()
            return {}, (f"time limit ({self.timeout * 2:g} s) exceeded while probing the entry points (the driver "
                        f"calls the submission to learn its conventions): infinite loop or very slow code?")
        except _ChildGone as e:
            self._kill()
            self.last_fault = "cpu" if "CPU" in e.message else ("exit" if "exited" in e.message else e.fault)
            return {}, e.message
        self.last_fault = "exception"
        if isinstance(ans, dict):
            self._note_compat(_compat(ans.get("compat")))
        if not isinstance(ans, dict) or "error" in ans:
            err = ans.get("error") if isinstance(ans, dict) else None
            return {}, (err or {}).get("message", "malformed answer") if isinstance(err, dict) else str(err)
        try:
            spaces = {str(e): _spec_space(ans["spaces"][e]) for e in ans["entries"]}
        except (KeyError, TypeError, ValueError) as e:
            self.last_fault = "protocol"
            return {}, f"malformed entry-point answer: {e}"
        self.last_fault = None
        return spaces, None

    def run(self, style: str, entry: str, cases: list, *, own_loss: bool = False, op: str = "run",
            give_up_after: int = 2, while_waiting=None, budget: float | None = None,
            own_loss_limit: int | None = None) -> list[SandboxResult]:
        """Run every case; one SandboxResult each, in order. Never raises for submission faults.

        After ``give_up_after`` consecutive fatal faults (hang, death) the remaining cases of this
        call are marked ``not_run`` instead of paying the time limit again and again."""
        results: list[SandboxResult | None] = [None] * len(cases)
        blobs = [case_payload(c) for c in cases]
        i, fatal_streak = 0, 0
        deadline = None if budget is None else time.monotonic() + budget
        while i < len(cases):
            if deadline is not None and time.monotonic() >= deadline:
                self._kill()  # the child may still be working through the rest
                for j in range(i, len(cases)):
                    results[j] = SandboxResult(fault="budget", message=f"not run: the time budget of {budget:g} s "
                                               f"for {entry} was used up by the earlier cases")
                break
            info = self._ensure()
            if not info.ok:
                for j in range(i, len(cases)):
                    results[j] = SandboxResult(fault="not_run", message=info.message)
                break
            if fatal_streak >= give_up_after:
                for j in range(i, len(cases)):
                    results[j] = SandboxResult(
                        fault="not_run", message=f"not run: {fatal_streak} earlier cases of {entry} hit fatal faults")
                break
            try:
                limit = None if own_loss_limit is None else max(0, own_loss_limit - i)
                self._send({"op": op, "style": style, "entry": entry, "cases": blobs[i:], "own_loss": own_loss,
                            "own_loss_limit": limit, "cpu": self.cpu})
            except _ChildGone as e:
                self._kill()
                results[i] = SandboxResult(fault="killed", message=e.message)
                i, fatal_streak = i + 1, fatal_streak + 1
                continue
            if while_waiting is not None:
                # the parent's own work (the oracle) overlaps with the child's
                while_waiting()
                while_waiting = None
            j = i
            while j < len(cases):
                out_before, t0 = self.output_so_far, time.monotonic()
                wait = self.timeout
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - t0))
                try:
                    ans = self._recv(wait)
                except TimeoutError:
                    self._kill()
                    if wait < self.timeout:  # the budget ran out, not the per-check limit
                        i = j
                        break
                    results[j] = SandboxResult(fault="timeout", message=f"time limit ({self.timeout:g} s) "
                                               f"exceeded (infinite loop?)", output_bytes=self.output_so_far
                                               - out_before, seconds=self.timeout)
                    fatal_streak += 1
                    j += 1
                    break
                except _ChildGone as e:
                    self._kill()
                    fault = "cpu" if "CPU" in e.message else e.fault
                    if fault == "killed" and "exited with code" in e.message:
                        fault = "exit"
                    results[j] = SandboxResult(fault=fault, message=e.message,
                                               output_bytes=self.output_so_far - out_before)
                    fatal_streak += 1
                    j += 1
                    break
                r = _result(ans, j - i)
                self._note_compat(r.compat)
                r.output_bytes = self.output_so_far - out_before
                r.seconds = time.monotonic() - t0
                results[j] = r
                fatal_streak = 0
                j += 1
            i = j
        return results  # type: ignore[return-value]

    def optim_entries(self, style: str) -> tuple[list[str], str | None]:
        """The optimizer entry points (``optim:<rule>``) the file defines for a style, or ([], reason)."""
        info = self._ensure()
        if not info.ok:
            return [], info.message
        try:
            self._send({"op": "optim_entries", "style": style, "cpu": self.cpu})
            ans = self._recv(self.timeout)
        except TimeoutError:
            self._kill()
            return [], f"time limit ({self.timeout:g} s) exceeded while listing the optimizer rules"
        except _ChildGone as e:
            self._kill()
            return [], e.message
        if not isinstance(ans, dict) or not isinstance(ans.get("entries"), list):
            err = ans.get("error") if isinstance(ans, dict) else None
            return [], (err or {}).get("message", "malformed answer") if isinstance(err, dict) else "malformed answer"
        return [str(e) for e in ans["entries"] if isinstance(e, str)], None

    def own_losses(self, style: str, entry: str, cases: list, *, give_up_after: int = 2) -> list[SandboxResult]:
        """The submission's own loss at each case's parameters (``own_loss`` field)."""
        return self.run(style, entry, cases, op="loss", give_up_after=give_up_after)


def case_payload(case) -> dict:
    """A Case as plain data for the child (cheaper than the .npz of Case.to_bytes, same numbers)."""
    if hasattr(case, "rule"):  # an oracles.optim.case.OptimCase (the child's "optim" op)
        return {"rule": case.rule, "params": dict(case.params), "grads": [dict(g) for g in case.grads],
                "hyper": dict(case.hyper), "dtype": case.dtype, "seed": int(case.seed), "tags": list(case.tags)}
    return {"spec": case.spec.to_dict(), "params": dict(case.params), "x": case.x, "y": case.y, "lr": case.lr,
            "seed": int(case.seed), "steps": int(case.steps), "tags": list(case.tags), "state": dict(case.state)}
