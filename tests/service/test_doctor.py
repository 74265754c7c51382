import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import PROJECT, WEEK1, week1_folder, wrong_solution


def doctor(assignments: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "doctor"],
        env={**os.environ, "TFGRADE_ASSIGNMENTS_DIR": str(assignments)},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_fails_and_names_an_assignment_whose_solution_does_not_earn_full_marks(
    solution: bytes,
) -> None:
    with week1_folder(solution=wrong_solution(solution)) as assignments:
        checked = doctor(assignments)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    [verdict] = [line for line in checked.stdout.splitlines() if line.startswith(WEEK1)]
    assert verdict.endswith("FAILED")
    assert re.search(
        r"^  solution: graded, [0-9.]+ / 10 \(must be graded, 10\)$", checked.stdout, re.MULTILINE
    )
    failing_checks = [line for line in checked.stdout.splitlines() if "failing check:" in line]
    assert failing_checks and all("a_module_this_sandbox_lacks" in line for line in failing_checks)


def test_doctor_passes_a_host_with_every_protection_and_a_good_assignment(solution: bytes) -> None:
    with week1_folder(solution=solution) as assignments:
        checked = doctor(assignments)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{WEEK1} (version 2): ok" in checked.stdout.splitlines()
