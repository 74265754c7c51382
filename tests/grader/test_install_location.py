"""Grading gives the same results wherever the project is installed, under /tmp too.

A second virtual environment would take minutes to build; instead the project (with its .venv) is bound at
a folder under /tmp in a private mount namespace, and graded from there.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
VALIDATE = "import sys; from app.cli import main; sys.exit(main(['assignments', 'validate']))"
# Binds the project at $2 (seen only by this command's processes) and validates the bundled assignments
# with everything, the interpreter included, taken from there.
FROM_ELSEWHERE = 'mount --bind "$1" "$2" && cd "$2" && exec .venv/bin/python -c "$3"'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.getuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"),
]


def test_an_install_under_tmp_grades_every_bundled_solution_with_full_marks() -> None:
    slugs = sorted(path.parent.name for path in (REPOSITORY / "assignments").glob("*/assignment.toml"))
    environment = {name: value for name, value in os.environ.items() if not name.startswith("TFGRADE_")}
    with tempfile.TemporaryDirectory(prefix="tfgrade-install-") as place:
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", FROM_ELSEWHERE, "sh"]
            + [str(REPOSITORY), place, VALIDATE],
            capture_output=True,
            text=True,
            env=environment,
            timeout=1800,
        )
    summary = result.stdout + result.stderr
    assert [f"{slug}: valid" in result.stdout for slug in slugs] == [True] * len(slugs), summary
    assert result.returncode == 0, summary
