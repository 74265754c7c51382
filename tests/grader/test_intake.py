"""What an upload meets before any code runs: refused at once with grading's words, or let through."""

import json
from pathlib import Path

import pytest
from probe_notebooks import legacy_probe

from grader.assignment import Assignment, load_assignment
from grader.intake import refusal, version_notices
from grader.notebook import Notebook, NotGradable

PROBE = Path(__file__).parent / "assignments" / "probe"
SOLUTION = (PROBE / "solution.ipynb").read_bytes()


@pytest.fixture(scope="module")
def probe() -> Assignment:
    return load_assignment(PROBE)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    return load_assignment(legacy_probe(tmp_path_factory.mktemp("legacy")))


def with_metadata(metadata: dict[str, object]) -> bytes:
    notebook = json.loads(SOLUTION)
    notebook["metadata"] = metadata
    return json.dumps(notebook).encode()


def test_the_solution_is_let_through(probe: Assignment) -> None:
    assert refusal(SOLUTION, probe) is None


def test_a_notebook_without_a_version_is_let_through_with_a_notice(probe: Assignment) -> None:
    assert refusal(with_metadata({}), probe) is None
    assert version_notices(Notebook(cells=(), metadata={}), probe) == [
        "Your notebook has no grader version in its metadata; it was graded against the current template."
    ]


def test_the_version_checked_is_the_one_in_assignment_toml(probe: Assignment) -> None:
    assert probe.grader_version == "1"


def test_an_assignment_whose_template_has_no_version_has_none(legacy: Assignment) -> None:
    assert legacy.grader_version is None


@pytest.mark.parametrize(
    "metadata", [{}, {"grader_version": "0"}, {"grader_version": "1"}, {"grader_version": 7}]
)
def test_without_a_version_in_the_template_any_version_or_none_is_let_through_without_a_notice(
    legacy: Assignment, metadata: dict[str, object]
) -> None:
    assert version_notices(Notebook(cells=(), metadata=metadata), legacy) == []
    assert refusal(with_metadata(metadata), legacy) is None


def test_a_version_written_as_a_number_is_the_same_version(probe: Assignment) -> None:
    assert version_notices(Notebook(cells=(), metadata={"grader_version": 1}), probe) == []


def test_an_out_of_date_notebook_is_refused_with_what_to_do(probe: Assignment) -> None:
    assert refusal(with_metadata({"grader_version": "0"}), probe) == (
        "Your notebook is out of date (grader version 0; this assignment is at version 1). Download the "
        "current notebook from the assignment page, copy your code into it and upload it again."
    )
    with pytest.raises(NotGradable):
        version_notices(Notebook(cells=(), metadata={"grader_version": "2"}), probe)


def test_a_version_that_cannot_be_shown_as_it_is_is_shortened_and_made_encodable(probe: Assignment) -> None:
    reason = refusal(with_metadata({"grader_version": "\ud800" + "9" * 100}), probe)
    assert reason is not None and reason.startswith("Your notebook is out of date (grader version ?99999")
    assert "9" * 20 not in reason
    reason.encode("utf-8")


def test_a_version_in_colour_or_naming_a_path_is_shown_without_either(probe: Assignment) -> None:
    reason = refusal(with_metadata({"grader_version": "\x1b[31m/tmp/work/v0"}), probe)
    assert reason is not None and reason.startswith(
        "Your notebook is out of date (grader version v0; this assignment is at version 1)."
    )


def test_the_size_limit_given_is_the_one_applied(probe: Assignment) -> None:
    reason = refusal(SOLUTION, probe, max_bytes=len(SOLUTION) - 1)
    assert reason is not None and "MB allowed" in reason
    assert refusal(SOLUTION, probe, max_bytes=len(SOLUTION)) is None


def test_a_notebook_of_another_assignment_is_refused(probe: Assignment) -> None:
    notebook = json.loads(SOLUTION)
    notebook["cells"] = [cell for cell in notebook["cells"] if cell["cell_type"] == "markdown"]
    reason = refusal(json.dumps(notebook).encode(), probe)
    assert reason is not None and reason.startswith("This notebook is not the one for this assignment")
