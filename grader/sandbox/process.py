"""The host's side of a sandbox zygote: started ahead of demand, it forks one isolated process per job.

The zygote (zygote.py, inside bubblewrap as the unprivileged sandbox user) pays for importing TensorFlow
once; each job then costs a fork. The job's process gets its own namespaces inside the zygote's
(zygote.py says which), its own cgroup with the job's memory and process caps, and is killed with
everything it started when its job ends.
"""

import contextlib
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from grader.sandbox.capture import CappedOutput
from grader.sandbox.cgroups import SandboxCgroup
from grader.sandbox.channel import ChannelReader, Message
from grader.sandbox.host import Host
from grader.support import copy_support_files, support_entries

SANDBOX_FILES = tuple(Path(__file__).with_name(name) for name in ("zygote.py", "runtime.py", "evaluator.py"))
SANDBOX_ROOT = "/sandbox"
SANDBOX_SCRATCH = "/tmp/work"
SCRATCH_WORK = "work"  # the job's working folder in its scratch folder, where there is no bubblewrap
ZYGOTE_MEMORY_BYTES = 4 * 1024**3
ZYGOTE_MAX_PROCESSES = 4096
# Besides the student's own processes, a job has the forked process that entered its namespaces and that
# namespace's first process.
JOB_HELPER_PROCESSES = 2
SANDBOX_NICENESS = 10
EXIT_GRACE_SECONDS = 2.0
ZYGOTE_REPLY_SECONDS = 10.0
SIGKILL_EXIT_CODE = 128 + signal.SIGKILL
_CREDENTIALS = struct.Struct("iII")
# Namespaces for everything (network, processes, IPC, users), the system read-only, a private /tmp.
BWRAP_BASE = (
    "--unshare-all --die-with-parent --new-session "
    "--ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 "
    "--symlink usr/bin /bin --symlink usr/sbin /sbin "
    "--ro-bind-try /etc/ld.so.cache /etc/ld.so.cache --ro-bind-try /etc/localtime /etc/localtime "
    "--proc /proc --dev /dev --tmpfs /tmp --chdir /tmp"
).split()
# Last, once every mount point exists: the root, /sandbox and /dev become read-only for the zygote and
# every job (a job's process cannot remount them), so that only the zygote's own /tmp stays writable, and
# each job hides that behind a fresh one. (--remount-ro is not recursive: the binds are read-only anyway.)
# Device nodes still work; only pseudo-terminals cannot be allocated, which grading never needs.
SANDBOX_READ_ONLY = ("--remount-ro", "/dev/pts", "--remount-ro", "/dev", "--remount-ro", "/")
# Isolated from the environment's variables; no bytecode written (nothing is writable); unbuffered, so that
# what a student prints reaches the output pipe even when the process ends abruptly.
SANDBOX_PYTHON_FLAGS = ("-I", "-B", "-u")


JobKind = Literal["student", "evaluate"]


class SandboxUnavailable(RuntimeError):
    """The zygote died or stopped answering; the job did not run and may be tried again."""


@dataclass(frozen=True)
class Job:
    kind: JobKind
    content: dict[str, Any]  # what runtime.py (a student's job) or evaluator.py reads from the header
    blobs: dict[str, bytes]
    slug: str
    wall_seconds: float
    cpu_seconds: float
    memory_bytes: int
    max_processes: int
    file_size_bytes: int
    threads: int


@dataclass
class RunOutcome:
    messages: list[Message] = field(default_factory=list)
    unreadable: str | None = None  # what made the host stop reading the job's results early
    sandbox_lost: bool = False  # the zygote died or stopped answering: the job was ended from outside
    output: str = ""
    finished: bool = False
    timed_out: bool = False
    out_of_memory: bool = False
    exit_code: int | None = None
    seconds: float = 0.0
    peak_memory_bytes: int = 0


@dataclass
class _JobProcess:
    pid: int | None
    stdin: int
    channel: IO[bytes]
    output: CappedOutput
    cgroup: SandboxCgroup | None
    scratch: str | None


class Zygote:
    def __init__(
        self,
        host: Host,
        data_dirs: dict[str, Path],
        support_dirs: dict[str, Path],
        output_limit_bytes: int = 256 * 1024,
    ) -> None:
        self.host = host
        self.data_dirs = {slug: folder for slug, folder in data_dirs.items() if folder.is_dir()}
        self.support_dirs = {slug: folder for slug, folder in support_dirs.items() if folder.is_dir()}
        self._output_limit_bytes = output_limit_bytes
        self._cgroup = (
            host.cgroups.create(ZYGOTE_MEMORY_BYTES, ZYGOTE_MAX_PROCESSES) if host.cgroups else None
        )
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                self._command(theirs.fileno()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                env=self._environment(),
                start_new_session=True,
                cwd="/",
            )
        except BaseException:
            self._control.close()
            if self._cgroup:
                self._cgroup.destroy()
            raise
        finally:
            theirs.close()
        self._ready = False
        self._broken = False

    @property
    def usable(self) -> bool:
        return self._ready and not self._broken and self._process.poll() is None

    def _command(self, control_fd: int) -> list[str]:
        zygote = [self.host.python, *SANDBOX_PYTHON_FLAGS, str(SANDBOX_FILES[0]), str(control_fd)]
        if self.host.bwrap:
            zygote = [
                self.host.bwrap,
                *self._bwrap_arguments(),
                self.host.sandbox_python().executable,
                *SANDBOX_PYTHON_FLAGS,
                f"{SANDBOX_ROOT}/zygote.py",
                str(control_fd),
            ]
            zygote = [*self.host.as_sandbox_user(), *zygote]
        # Students' training yields the CPU to the service's own processes (uploads stay fast under load);
        # all sandboxes share one niceness, so none is slower than another.
        zygote = ["nice", "-n", str(SANDBOX_NICENESS), *zygote]
        if self._cgroup:
            joins = " && ".join(f"echo $$ > {shlex.quote(str(procs))}" for procs in self._cgroup.join_files)
            # Joining the cgroups before exec means no thread or child ever runs outside them.
            zygote = [
                "/bin/sh",
                "-c",
                f'{joins} && exec "$@"',
                "sandbox",
                *zygote,
            ]
        return zygote

    def _bwrap_arguments(self) -> list[str]:
        arguments = list(BWRAP_BASE)
        for path in SANDBOX_FILES:
            arguments += ["--ro-bind", str(path), f"{SANDBOX_ROOT}/{path.name}"]
        arguments += self.host.sandbox_python().mounts
        for slug, folder in self.data_dirs.items():
            arguments += ["--ro-bind", str(folder), f"{SANDBOX_ROOT}/data/{slug}"]
        for slug, folder in self.support_dirs.items():
            arguments += ["--ro-bind", str(folder), f"{SANDBOX_ROOT}/support/{slug}"]
        return arguments + list(SANDBOX_READ_ONLY)

    def _environment(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KERAS_BACKEND": "tensorflow",
            "MPLBACKEND": "Agg",
        }

    def wait_ready(self, timeout: float) -> bool:
        if not self._ready and not self._broken:
            self._ready = self._receive(timeout) == b"ready"
            self._broken = not self._ready
        return self._ready

    def _receive(self, timeout: float) -> bytes | None:
        self._control.settimeout(max(timeout, 0.001))
        try:
            return self._control.recv(64) or None
        except OSError:
            return None

    def run(self, job: Job) -> RunOutcome:
        outcome = RunOutcome()
        started = time.monotonic()
        process = self._start_job(job)
        channel = ChannelReader(process.channel)
        try:
            self._send(process, job)
            deadline = started + job.wall_seconds
            while (message := channel.next(deadline)) is not None:
                if message.kind == "done":
                    outcome.finished = True
                    break
                outcome.messages.append(message)
            outcome.unreadable = channel.problem
            outcome.timed_out = not outcome.finished and not channel.problem and time.monotonic() >= deadline
        finally:
            outcome.seconds = time.monotonic() - started
            # How the process ended on its own, if it did, before the grader's own kill below. Its messages
            # stop a moment before it exits, so a process that stopped talking gets that moment to exit.
            if not outcome.finished and not outcome.timed_out:
                outcome.exit_code = self._exit_code(EXIT_GRACE_SECONDS)
            self._end_job(process)
            if outcome.exit_code is None:
                # The zygote reports every job's end, once; after the kill above it comes at once.
                outcome.exit_code = self._exit_code(ZYGOTE_REPLY_SECONDS)
            if outcome.exit_code is None:
                self._broken = True
                outcome.sandbox_lost = True  # the zygote died, and the job with it, from outside
                outcome.exit_code = SIGKILL_EXIT_CODE
            outcome.output = process.output.text()
            if process.cgroup:
                outcome.out_of_memory = process.cgroup.out_of_memory()
                outcome.peak_memory_bytes = process.cgroup.peak_memory_bytes()
                process.cgroup.destroy()
        return outcome

    def _start_job(self, job: Job) -> _JobProcess:
        """Asks the zygote for a process and puts it in the job's cgroup before it reads its job."""
        if not self.usable:
            raise SandboxUnavailable("the sandbox is not running")
        stdin_read, stdin_write = os.pipe()
        output_read, output_write = os.pipe()
        channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        channel.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        mode = b"isolated" if self.host.bwrap else b"plain"
        try:
            socket.send_fds(self._control, [mode], [stdin_read, output_write, theirs.fileno()])
            sent = True
        except OSError:
            sent = False
        finally:
            os.close(stdin_read)
            os.close(output_write)
            theirs.close()
        process = _JobProcess(
            pid=_hello_pid(channel) if sent else None,
            stdin=stdin_write,
            channel=os.fdopen(channel.detach(), "rb", buffering=0),
            output=CappedOutput(os.fdopen(output_read, "rb"), self._output_limit_bytes),
            cgroup=None,
            scratch=None if self.host.bwrap else tempfile.mkdtemp(prefix="tfgrade-"),
        )
        try:
            if process.pid is None:
                raise OSError("no hello from the job's process")
            if process.scratch and job.kind == "student" and job.slug in self.support_dirs:
                # Before the job reads its header, so before it runs anything.
                copy_support_files(self.support_dirs[job.slug], Path(process.scratch, SCRATCH_WORK))
            if self.host.cgroups:
                process.cgroup = self.host.cgroups.create(
                    job.memory_bytes, job.max_processes + JOB_HELPER_PROCESSES
                )
                process.cgroup.add(process.pid)
        except OSError as error:
            self._broken = True
            self._end_job(process)
            os.close(process.stdin)
            if process.cgroup:
                process.cgroup.destroy()
            raise SandboxUnavailable("the sandbox could not start the job") from error
        return process

    def _send(self, process: _JobProcess, job: Job) -> None:
        header = {
            **job.content,
            "kind": job.kind,
            "blobs": [[name, len(data)] for name, data in job.blobs.items()],
            "scratch": f"{process.scratch}/{SCRATCH_WORK}" if process.scratch else SANDBOX_SCRATCH,
            "data_dir": self._data_dir_for(job.slug),
            # Only the student's notebook works beside them; the clean evaluator never sees them.
            "support": self._support_for(job.slug) if job.kind == "student" else None,
            "cpu_seconds": job.cpu_seconds,
            "memory_bytes": 0 if process.cgroup else job.memory_bytes,
            # Its /tmp and /dev/shm: filling them exceeds its memory (they are charged to its cgroup) first.
            "scratch_bytes": job.memory_bytes,
            "max_processes": job.max_processes,
            "file_size_bytes": job.file_size_bytes,
            "threads": job.threads,
            "seed": 0,
        }
        with os.fdopen(process.stdin, "wb") as stdin:
            with contextlib.suppress(BrokenPipeError):
                stdin.write(json.dumps(header).encode() + b"\n")
                for data in job.blobs.values():
                    stdin.write(data)

    def _data_dir_for(self, slug: str) -> str | None:
        if slug not in self.data_dirs:
            return None
        return f"{SANDBOX_ROOT}/data/{slug}" if self.host.bwrap else str(self.data_dirs[slug])

    def _support_for(self, slug: str) -> dict[str, Any] | None:
        """Where the zygote finds the support files, and which of them it binds beside the notebook. Without
        bubblewrap it binds none: `_start_job` has copied them there."""
        if slug not in self.support_dirs or not self.host.bwrap:
            return None
        return {"folder": f"{SANDBOX_ROOT}/support/{slug}", "names": support_entries(self.support_dirs[slug])}

    def _exit_code(self, timeout: float) -> int | None:
        message = self._receive(timeout)
        if message is None or not message.startswith(b"exit "):
            return None
        return int(message.split()[1])  # already 128 + N for a process killed by signal N

    def _end_job(self, process: _JobProcess) -> None:
        if process.cgroup:
            process.cgroup.kill_members()
        elif process.pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        process.channel.close()
        if process.scratch:
            # Support files are copied there read-only; their folders must be writable again to go.
            subprocess.run(["chmod", "-R", "u+rwX", process.scratch], stderr=subprocess.DEVNULL, check=False)
            subprocess.run(["rm", "-rf", process.scratch], check=False)

    def close(self) -> None:
        self._broken = True
        self._control.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._cgroup:
            self._cgroup.destroy()


def _hello_pid(channel: socket.socket) -> int | None:
    """The job process's first byte carries its PID in this (the host's) PID namespace."""
    channel.settimeout(ZYGOTE_REPLY_SECONDS)
    try:
        data, ancillary, _, _ = channel.recvmsg(1, socket.CMSG_SPACE(_CREDENTIALS.size))
    except OSError:
        return None
    finally:
        channel.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 0)
        channel.settimeout(None)
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and data:
            pid, _, _ = _CREDENTIALS.unpack(payload[: _CREDENTIALS.size])
            return pid
    return None
