"""Which of the student's cells stands for which exercise of the template."""

from built_notebooks import code_notebook, graded

from grader.matching import exercise_cells, match_exercises

TWO_REGIONS = "\n".join(
    [
        "# GRADED FUNCTION: f",
        "### START CODE HERE",
        "a = None",
        "### END CODE HERE",
        "### START CODE HERE",
        "b = None",
        "### END CODE HERE",
    ]
)


def test_exercise_cells_are_those_with_regions_or_a_header_over_unbalanced_markers() -> None:
    notebook = code_notebook(
        "import numpy as np",
        "# GRADED FUNCTION: no_markers\nx = 1",
        "### START CODE HERE\nx = 1",
        "# GRADED FUNCTION: broken\n### START CODE HERE\nx = 1",
        graded(None, "    return 1"),
        graded(None, "    return 2"),
    )
    cells = exercise_cells(notebook)
    assert [cell.name for cell in cells] == ["broken", "exercise_2", "exercise_3"]
    assert [cell.cell.index for cell in cells] == [3, 4, 5]
    assert [cell.has_header for cell in cells] == [True, False, False]


def test_a_clean_match_has_no_problem() -> None:
    template = code_notebook(graded("f", "    return None"))
    student = code_notebook(graded("f", "    return 1"))
    [match] = match_exercises(template, student)
    assert match.student is not None and match.student.cell.index == 0
    assert match.problem is None


def test_copies_of_a_graded_cell_grade_the_first_and_say_so() -> None:
    template = code_notebook(graded("f", "    return None"))
    student = code_notebook(graded("f", "    return 1"), graded("f", "    return 2"))
    [match] = match_exercises(template, student)
    assert match.student is not None and match.student.cell.index == 0
    assert match.problem == (
        "Your notebook has 2 graded cells for 'f'; the first one was graded. Delete the copies."
    )


def test_a_cell_whose_header_changed_is_found_by_its_cell_id() -> None:
    template = code_notebook(
        graded("f", "    return None"), graded("g", "    return None"), ids=("id-f", "id-g")
    )
    student = code_notebook(
        graded("renamed_g", "    return 2"), graded("f", "    return 1"), ids=("id-g", "id-f")
    )
    matches = match_exercises(template, student)
    assert [match.student.cell.index if match.student else None for match in matches] == [1, 0]
    assert [match.problem for match in matches] == [None, None]


def test_a_cell_matched_once_is_not_matched_again() -> None:
    template = code_notebook(
        graded("f", "    return None"), graded(None, "    return None"), ids=("t0", "t1")
    )
    student = code_notebook(graded(None, "    return 1"), ids=("t1",))
    first, second = match_exercises(template, student)
    assert first.student is not None and first.student.cell.index == 0
    assert second.student is None
    assert second.problem is not None and "was not found in your notebook" in second.problem


def test_an_exercise_past_the_students_last_graded_cell_is_not_found() -> None:
    template = code_notebook(graded("f", "    return None"), graded(None, "    return None"))
    student = code_notebook(graded("f", "    return 1"))
    first, second = match_exercises(template, student)
    assert first.student is not None
    assert second.student is None
    assert second.problem == (
        "The graded cell for 'exercise_2' was not found in your notebook: it was deleted or its "
        "'# GRADED FUNCTION: exercise_2' line was changed. Copy that cell from a fresh template."
    )


def test_a_cell_that_lost_one_of_its_regions_is_reported_and_not_used() -> None:
    template = code_notebook(TWO_REGIONS)
    student = code_notebook(graded("f", "    return 1"))
    [match] = match_exercises(template, student)
    assert match.student is None
    assert match.problem == (
        "The graded cell for 'f' has lost its ### START CODE HERE / ### END CODE HERE markers, so your "
        "code cannot be found. Put them back around your code."
    )
