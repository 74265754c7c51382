"""Grading runtimes: locked Python environments besides the project's own, for assignments written against
other library versions. A runtime NAME is the lock requirements/runtimes/NAME.lock, built by
scripts/runtimes.sh (which setup.sh runs) into the virtual environment .runtimes/NAME/."""

import hashlib
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCKS = PROJECT_ROOT / "requirements" / "runtimes"
BUILT = PROJECT_ROOT / ".runtimes"
# Written by scripts/runtimes.sh once the lock is installed: the lock's sha256.
STAMP = ".tfgrade-lock.sha256"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")


class RuntimeUnavailable(RuntimeError):
    """The runtime an assignment names cannot run here."""


@dataclass(frozen=True)
class Runtime:
    name: str
    lock: Path
    prefix: Path  # the virtual environment

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    @staticmethod
    def lock_hash(lock: Path) -> str:
        return hashlib.sha256(lock.read_bytes()).hexdigest()

    def problem(self) -> str | None:
        """Why this runtime cannot grade, or None once it is built from its current lock."""
        try:
            built = (self.prefix / STAMP).read_text().strip() == self.lock_hash(self.lock)
        except OSError:
            built = False
        if built and self.python.exists():
            return None
        return (
            f"runtime '{self.name}' is not built ({self.prefix} is missing or older than "
            f"{_shown(self.lock)}): run scripts/setup.sh"
        )

    def base_prefix(self) -> str:
        """The base installation the runtime's venv was made from (its sys.base_prefix)."""
        return _base_prefix(str(self.python))


def find_runtime(name: str, *, built: Path | None = None) -> Runtime:
    """The runtime `name`; ValueError if that is not a name or no lock has it."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"runtime must be a runtime's name, not {name!r}")
    lock = LOCKS / f"{name}.lock"
    if not lock.is_file():
        raise ValueError(f"runtime '{name}' is unknown: there is no {_shown(lock)}")
    return Runtime(name=name, lock=lock, prefix=(built or BUILT) / name)


def runtime_problem(name: str | None) -> str | None:
    """Why an assignment naming the runtime `name` (None: the default one) cannot be graded here."""
    return None if name is None else find_runtime(name).problem()


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


@cache
def _base_prefix(python: str) -> str:
    completed = subprocess.run(
        [python, "-I", "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()
