"""Sandbox zygotes started ahead of demand, TensorFlow already imported: one per grading slot for each
runtime the catalog's assignments are graded in."""

import logging
import threading

from grader.assignment import Catalog
from grader.runtimes import RuntimeUnavailable
from grader.sandbox.host import Host, detect_host, runtime_host
from grader.sandbox.process import Zygote

logger = logging.getLogger(__name__)


class SandboxPool:
    def __init__(self, catalog: Catalog, size: int = 1, host: Host | None = None) -> None:
        self.size = size
        self._catalog = catalog
        self._host = host or detect_host()
        self._lock = threading.Lock()
        self._closed = False
        if self._host.cgroups:
            self._host.cgroups.remove_orphans()
        self._idle: dict[str | None, list[Zygote]] = {}
        for runtime in catalog.runtimes():
            try:
                self._idle[runtime] = [self._spawn(runtime) for _ in range(size)]
            except RuntimeUnavailable as unavailable:
                # Only that runtime's assignments are refused, when they are graded; the others go on.
                logger.error("no sandbox for runtime %s: %s", runtime, unavailable)

    @property
    def host(self) -> Host:
        return self._host

    def warm_runtimes(self) -> list[str | None]:
        """The runtimes this pool keeps zygotes of, the default one (None) first."""
        with self._lock:
            return list(self._idle)

    def _spawn(self, runtime: str | None) -> Zygote:
        return Zygote(
            runtime_host(self._host, runtime), self._catalog.data_dirs(), self._catalog.support_dirs()
        )

    def acquire(self, slug: str, runtime: str | None = None) -> Zygote:
        """A zygote of `runtime` (None: the default one) for one job at a time; give it back with `release`.
        RuntimeUnavailable if that runtime is not built."""
        with self._lock:
            idle = self._idle.get(runtime, [])
            while idle:
                zygote = idle.pop(0)
                if self._mounts_all_of(zygote, slug):
                    return zygote
                zygote.close()  # started before this assignment's data or support files existed
        return self._spawn(runtime)

    def _mounts_all_of(self, zygote: Zygote, slug: str) -> bool:
        return (slug in zygote.data_dirs or slug not in self._catalog.data_dirs()) and (
            slug in zygote.support_dirs or slug not in self._catalog.support_dirs()
        )

    def release(self, zygote: Zygote) -> None:
        """Takes a zygote back after its job; one that died is replaced, so the pool stays warm."""
        runtime = zygote.host.runtime
        with self._lock:
            idle = self._idle.setdefault(runtime, [])
            if not self._closed and zygote.usable and len(idle) < self.size:
                idle.append(zygote)
                return
        zygote.close()
        with self._lock:
            while not self._closed and len(idle) < self.size:
                idle.append(self._spawn(runtime))

    def wait_warm(self, timeout: float) -> bool:
        """Block until every idle zygote has TensorFlow imported (for start-up and benchmarks)."""
        with self._lock:
            idle = [zygote for zygotes in self._idle.values() for zygote in zygotes]
        return all(zygote.wait_ready(timeout) for zygote in idle)

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for zygotes in idle.values():
            for zygote in zygotes:
                zygote.close()
