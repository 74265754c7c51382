"""Sandbox zygotes started ahead of demand, TensorFlow already imported, one per grading slot."""

import threading

from grader.assignment import Catalog
from grader.sandbox.host import Host, detect_host
from grader.sandbox.process import Zygote


class SandboxPool:
    def __init__(self, catalog: Catalog, size: int = 1, host: Host | None = None) -> None:
        self.size = size
        self._catalog = catalog
        self._host = host or detect_host()
        self._lock = threading.Lock()
        self._closed = False
        if self._host.cgroups:
            self._host.cgroups.remove_orphans()
        self._idle: list[Zygote] = [self._spawn() for _ in range(size)]

    @property
    def host(self) -> Host:
        return self._host

    def _spawn(self) -> Zygote:
        return Zygote(self._host, self._catalog.data_dirs(), self._catalog.support_dirs())

    def acquire(self, slug: str) -> Zygote:
        """A zygote for one job at a time; give it back with `release`."""
        with self._lock:
            while self._idle:
                zygote = self._idle.pop(0)
                if self._mounts_all_of(zygote, slug):
                    return zygote
                zygote.close()  # started before this assignment's data or support files existed
        return self._spawn()

    def _mounts_all_of(self, zygote: Zygote, slug: str) -> bool:
        return (slug in zygote.data_dirs or slug not in self._catalog.data_dirs()) and (
            slug in zygote.support_dirs or slug not in self._catalog.support_dirs()
        )

    def release(self, zygote: Zygote) -> None:
        """Takes a zygote back after its job; one that died is replaced, so the pool stays warm."""
        with self._lock:
            if not self._closed and zygote.usable and len(self._idle) < self.size:
                self._idle.append(zygote)
                return
        zygote.close()
        with self._lock:
            while not self._closed and len(self._idle) < self.size:
                self._idle.append(self._spawn())

    def wait_warm(self, timeout: float) -> bool:
        """Block until every idle zygote has TensorFlow imported (for start-up and benchmarks)."""
        with self._lock:
            idle = list(self._idle)
        return all(zygote.wait_ready(timeout) for zygote in idle)

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for zygote in idle:
            zygote.close()
