"""A copy of the probe assignment with room for attacks: a data folder, more time, bigger files.

The copy lives under /tmp (readable by the sandbox user, who binds its data folder), not in the repository.
"""

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import points_by_check
from probe_notebooks import PROBE_DIR, VECTOR_CHECK

from grader import GradeReport

DATA_FILE = "original.txt"
DATA_TEXT = "the assignment's own data\n"
ROOMY_LIMITS = {"wall_seconds": 120, "cpu_seconds": 120, "file_size_mb": 128, "memory_mb": 1024}


@contextmanager
def roomy_probe_catalog() -> Iterator[Path]:
    """A catalog folder holding one assignment, `probe`, whose data folder holds DATA_FILE."""
    with tempfile.TemporaryDirectory(prefix="tfgrade-roomy-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        copy = root / "probe"
        shutil.copytree(PROBE_DIR, copy)
        settings = (copy / "assignment.toml").read_text()
        for name, value in ROOMY_LIMITS.items():
            settings = re.sub(rf"(?m)^{name} = \d+$", f"{name} = {value}", settings)
        (copy / "assignment.toml").write_text(settings)
        (copy / "data").mkdir(mode=0o755)
        (copy / "data" / DATA_FILE).write_text(DATA_TEXT)
        yield root


def vector_right(report: GradeReport) -> bool:
    return points_by_check(report).get(VECTOR_CHECK) == 1.0


def explained(report: GradeReport) -> str:
    return f"{report.status.value}: {report.message}\n{report.metadata.get('output', '')}"
