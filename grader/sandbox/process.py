"""One sandbox process: started ahead of demand with TensorFlow imported, used for one job, then killed."""

import json
import os
import secrets
import selectors
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.capture import CappedOutput
from grader.sandbox.cgroups import SandboxCgroup
from grader.sandbox.host import Host

RUNTIME = Path(__file__).with_name("runtime.py")
SANDBOX_ROOT = "/sandbox"
SANDBOX_SCRATCH = "/tmp/work"
MAX_EVENT_BYTES = 32 * 1024 * 1024
SPAWN_MEMORY_BYTES = 4 * 1024**3
SANDBOX_NICENESS = 10
EXIT_GRACE_SECONDS = 2.0
# Namespaces for everything (network, processes, IPC, users), the system read-only, a private /tmp.
BWRAP_BASE = (
    "--unshare-all --die-with-parent --new-session "
    "--ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 "
    "--symlink usr/bin /bin --symlink usr/sbin /sbin "
    "--ro-bind-try /etc/ld.so.cache /etc/ld.so.cache --ro-bind-try /etc/localtime /etc/localtime "
    "--proc /proc --dev /dev --tmpfs /tmp --chdir /tmp"
).split()


@dataclass(frozen=True)
class Job:
    cells: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    skipped_exercises: list[str]
    inputs: bytes
    slug: str
    wall_seconds: float
    cpu_seconds: float
    memory_bytes: int
    max_processes: int
    file_size_bytes: int
    threads: int


@dataclass
class RunOutcome:
    events: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    finished: bool = False
    timed_out: bool = False
    out_of_memory: bool = False
    exit_code: int | None = None
    seconds: float = 0.0
    peak_memory_bytes: int = 0


class SandboxProcess:
    def __init__(self, host: Host, data_dirs: dict[str, Path], output_limit_bytes: int = 256 * 1024) -> None:
        self.host = host
        self.data_dirs = {slug: folder for slug, folder in data_dirs.items() if folder.is_dir()}
        self._host_scratch = None if host.bwrap else tempfile.mkdtemp(prefix="tfgrade-")
        self._cgroup = (
            SandboxCgroup(host.cgroup_parent, uuid.uuid4().hex, SPAWN_MEMORY_BYTES, 4096)
            if host.cgroup_parent
            else None
        )
        read_end, write_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                self._command(write_end),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_end,),
                env=self._environment(),
                start_new_session=True,
                cwd=self._host_scratch or "/",
            )
        finally:
            os.close(write_end)
        self._events = os.fdopen(read_end, "rb", buffering=0)
        assert self._process.stdout is not None
        self._output = CappedOutput(self._process.stdout, output_limit_bytes)
        self._buffer = b""
        self._received = 0
        self._token = secrets.token_hex(16)
        self._ready = False
        self.started_at = time.monotonic()

    def _command(self, event_fd: int) -> list[str]:
        runtime = [self.host.python, "-I", "-B", str(RUNTIME), str(event_fd)]
        if self.host.bwrap:
            runtime = [
                self.host.bwrap,
                *self._bwrap_arguments(),
                self.host.python,
                "-I",
                "-B",
                f"{SANDBOX_ROOT}/runtime.py",
                str(event_fd),
            ]
            if self.host.drops_privileges:
                assert self.host.setpriv
                runtime = [
                    self.host.setpriv,
                    f"--reuid={self.host.sandbox_uid}",
                    f"--regid={self.host.sandbox_gid}",
                    "--clear-groups",
                    *runtime,
                ]
        # Students' training yields the CPU to the service's own processes (uploads stay fast under load);
        # all sandboxes share one niceness, so none is slower than another.
        runtime = ["nice", "-n", str(SANDBOX_NICENESS), *runtime]
        if self._cgroup:
            memory_procs, pids_procs = self._cgroup.join_files
            # Joining the cgroups before exec means no thread or child ever runs outside them.
            runtime = [
                "/bin/sh",
                "-c",
                f'echo $$ > {memory_procs} && echo $$ > {pids_procs} && exec "$@"',
                "sandbox",
                *runtime,
            ]
        return runtime

    def _bwrap_arguments(self) -> list[str]:
        arguments = [*BWRAP_BASE, "--ro-bind", str(RUNTIME), f"{SANDBOX_ROOT}/runtime.py"]
        for prefix in self.host.prefixes:
            arguments += ["--ro-bind", prefix, prefix]
        for slug, folder in self.data_dirs.items():
            arguments += ["--ro-bind", str(folder), f"{SANDBOX_ROOT}/data/{slug}"]
        return arguments

    def _environment(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp" if self.host.bwrap else str(self._host_scratch),
            "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KERAS_BACKEND": "tensorflow",
            "MPLBACKEND": "Agg",
            "PYTHONUNBUFFERED": "1",
        }

    def wait_ready(self, timeout: float) -> bool:
        if not self._ready:
            event = self._next_event(time.monotonic() + timeout, token=None)
            self._ready = event is not None and event.get("event") == "ready"
        return self._ready

    def run(self, job: Job) -> RunOutcome:
        outcome = RunOutcome()
        started = time.monotonic()
        if self._cgroup:
            self._cgroup.apply_job_limits(job.memory_bytes, job.max_processes)
        try:
            self._send(job)
            deadline = started + job.wall_seconds
            while (event := self._next_event(deadline, token=self._token)) is not None:
                outcome.events.append(event)
                if event.get("event") == "done":
                    outcome.finished = True
                    break
            outcome.timed_out = not outcome.finished and time.monotonic() >= deadline
        finally:
            outcome.seconds = time.monotonic() - started
            # How the process ended on its own, if it did, before the grader's own kill below. Its events
            # stop a moment before it exits, so a process that stopped talking gets that moment to exit.
            if not outcome.finished and not outcome.timed_out:
                try:
                    self._process.wait(timeout=EXIT_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
            outcome.exit_code = self._process.poll()
            self.kill()
            outcome.output = self._output.text()
            if self._cgroup:
                outcome.out_of_memory = self._cgroup.out_of_memory()
                outcome.peak_memory_bytes = self._cgroup.peak_memory_bytes()
                self._cgroup.destroy()
        return outcome

    def _send(self, job: Job) -> None:
        in_sandbox = self.host.bwrap is not None
        header = {
            "token": self._token,
            "cells": job.cells,
            "observations": job.observations,
            "skipped_exercises": job.skipped_exercises,
            "inputs_size": len(job.inputs),
            "scratch": SANDBOX_SCRATCH if in_sandbox else str(Path(str(self._host_scratch)) / "work"),
            "data_dir": self._data_dir_for(job.slug, in_sandbox),
            "cpu_seconds": job.cpu_seconds,
            "memory_bytes": 0 if self._cgroup else job.memory_bytes,
            "max_processes": job.max_processes,
            "file_size_bytes": job.file_size_bytes,
            "threads": job.threads,
            "seed": 0,
        }
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(header).encode() + b"\n" + job.inputs)
            self._process.stdin.close()
        except BrokenPipeError:
            pass

    def _data_dir_for(self, slug: str, in_sandbox: bool) -> str | None:
        if slug not in self.data_dirs:
            return None
        return f"{SANDBOX_ROOT}/data/{slug}" if in_sandbox else str(self.data_dirs[slug])

    def _next_event(self, deadline: float, token: str | None) -> dict[str, Any] | None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._events, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                chunk = self._events.read(65536)
                if not chunk:
                    return None
                self._received += len(chunk)
                if self._received > MAX_EVENT_BYTES:
                    return None
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        if token is not None:
            signed, _, line = line.partition(b" ")
            if signed != token.encode():
                return {"event": "forged"}
        try:
            # Databases refuse NUL characters in text; a student's message must not make a report unstorable.
            event = json.loads(line.replace(b"\\u0000", b"\\ufffd"))
        except ValueError:
            return {"event": "garbled"}
        return event if isinstance(event, dict) else {"event": "garbled"}

    def kill(self) -> None:
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, 9)
            except ProcessLookupError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._events.close()
        if self._host_scratch:
            subprocess.run(["rm", "-rf", self._host_scratch], check=False)

    def discard(self) -> None:
        self.kill()
        if self._cgroup:
            self._cgroup.destroy()
