"""Sandbox processes started ahead of demand, TensorFlow already imported, each used for one job."""

import threading

from grader.assignment import Catalog
from grader.sandbox.host import Host, detect_host
from grader.sandbox.process import SandboxProcess


class SandboxPool:
    def __init__(self, catalog: Catalog, size: int = 1, host: Host | None = None) -> None:
        self.size = size
        self._catalog = catalog
        self._host = host or detect_host()
        self._lock = threading.Lock()
        self._closed = False
        self._idle: list[SandboxProcess] = [self._spawn() for _ in range(size)]

    @property
    def host(self) -> Host:
        return self._host

    def _spawn(self) -> SandboxProcess:
        return SandboxProcess(self._host, self._catalog.data_dirs())

    def acquire(self, slug: str) -> SandboxProcess:
        with self._lock:
            while self._idle:
                process = self._idle.pop(0)
                if slug in process.data_dirs or slug not in self._catalog.data_dirs():
                    return process
                process.discard()
        return self._spawn()

    def wait_warm(self, timeout: float) -> bool:
        """Block until every idle sandbox has TensorFlow imported (for start-up and benchmarks)."""
        with self._lock:
            idle = list(self._idle)
        return all(process.wait_ready(timeout) for process in idle)

    def replenish(self) -> None:
        """Top the pool up after a job: spawning then, not during the job, leaves it the CPU."""
        with self._lock:
            while not self._closed and len(self._idle) < self.size:
                self._idle.append(self._spawn())

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for process in idle:
            process.discard()
