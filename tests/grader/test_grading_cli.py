"""The `tfgrade` grading commands as a user runs them, on the week-1 assignment."""

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

from probe_notebooks import legacy_probe

from grader import Catalog
from grader.version import GRADER_VERSION

ROOT = Path(__file__).resolve().parents[2]
TFGRADE = ROOT / ".venv" / "bin" / "tfgrade"
WEEK1 = ROOT / "assignments" / "c1w1-housing-prices"
FIXTURES = Path(__file__).parent / "fixtures"
PACKAGE_VERSION = version("tfgrade")


def tfgrade(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TFGRADE), *arguments], capture_output=True, text=True, timeout=timeout)


def test_validate_week1_solution_full_points_template_none() -> None:
    result = tfgrade("assignments", "validate", "c1w1-housing-prices")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "c1w1-housing-prices: valid"
    assert lines[1].startswith("  solution: graded, 10 / 10 in ")
    assert lines[2].startswith("  template: graded, 0 / 10 in ")


def test_validate_accepts_an_assignment_whose_template_has_no_version(tmp_path: Path) -> None:
    result = tfgrade("assignments", "validate", str(legacy_probe(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "probe: valid"
    assert lines[1].startswith("  solution: graded, 5 / 5 in ")
    assert lines[2].startswith("  template: graded, 0 / 5 in ")
    assert len(lines) == 3


def test_editing_the_compile_call_after_the_end_marker_changes_nothing() -> None:
    notebook = FIXTURES / "c1w1" / "compile-edited-after-end-marker.ipynb"
    result = tfgrade("grade", str(notebook), "--assignment", "c1w1-housing-prices", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["score"], report["max_score"]) == ("graded", 10.0, 10.0)
    assert (
        "Edits outside the START/END CODE HERE markers were ignored in: define_and_compile_model."
        in report["message"]
    )
    assert set(report) >= {
        "submission_id",
        "assignment",
        "assignment_version",
        "status",
        "score",
        "max_score",
        "message",
        "checks",
        "exercises",
        "timings",
        "grader_version",
    }
    assert report["checks"][0].keys() == {
        "name",
        "exercise",
        "points",
        "max_points",
        "passed",
        "hidden",
        "message",
    }


NOT_A_NOTEBOOK = (
    "This file is not a Jupyter notebook (.ipynb): it could not be read as a notebook's JSON. Upload the "
    ".ipynb file you downloaded and worked in, not an export or a copy of its text."
)


def test_a_file_that_is_not_a_notebook_exits_2_with_the_reason_once() -> None:
    result = tfgrade("grade", str(FIXTURES / "garbage-bytes.ipynb"), "--assignment", "c1w1-housing-prices")
    assert result.returncode == 2
    assert result.stdout == f"c1w1-housing-prices (version 2): not_gradable, score 0 / 10. {NOT_A_NOTEBOOK}\n"
    assert result.stderr == ""


def test_a_file_that_is_not_a_notebook_still_lists_every_check_in_json() -> None:
    result = tfgrade(
        "grade", str(FIXTURES / "garbage-bytes.ipynb"), "--assignment", "c1w1-housing-prices", "--json"
    )
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert (report["status"], report["message"]) == ("not_gradable", NOT_A_NOTEBOOK)
    assert len(report["checks"]) == 9


def test_an_unknown_assignment_exits_2_naming_the_assignments() -> None:
    result = tfgrade("grade", str(WEEK1 / "solution.ipynb"), "--assignment", "no-such-assignment")
    assert result.returncode == 2
    slugs = ", ".join(sorted(Catalog().assignments))
    assert result.stderr == (
        f"tfgrade: unknown assignment 'no-such-assignment'; the assignments are: {slugs}\n"
    )
    assert result.stdout == ""


def test_version_prints_the_package_and_grader_versions() -> None:
    result = tfgrade("--version")
    assert result.returncode == 0
    assert result.stdout == f"tfgrade {PACKAGE_VERSION} (grader {GRADER_VERSION})\n"


def test_progress_goes_to_stderr_and_json_stays_pure() -> None:
    result = tfgrade(
        "grade", str(WEEK1 / "solution.ipynb"), "--assignment", "c1w1-housing-prices", "--json", "--progress"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "graded"
    phases = [
        line.removeprefix("tfgrade: ") for line in result.stderr.replace("\r", "\n").split("\n") if line
    ]
    assert phases[0] == "reading the notebook"
    assert phases.index("starting the sandbox") < phases.index("running the notebook")
    assert phases.index("running the notebook") < phases.index("evaluating the models")
    assert phases.index("evaluating the models") < phases.index("judging")
    assert phases[-1] == "done"


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    result = tfgrade("grade", str(WEEK1 / "solution.ipynb"), "--assignment", "c1w1-housing-prices", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_assignments_list_shows_the_week1_assignment() -> None:
    result = tfgrade("assignments", "list")
    assert result.returncode == 0
    assert any(
        line.startswith("c1w1-housing-prices\tversion 2\t10 points\t") for line in result.stdout.splitlines()
    )
