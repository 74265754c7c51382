"""The program built from the template and the student's regions: cells, attribution and problems."""

import pytest
from built_notebooks import code_notebook, graded

from grader.assemble import assemble
from grader.notebook import NotGradable

SETUP = "import numpy as np"
BETWEEN = "print(f())"


def template_of(*names: str) -> tuple[str, ...]:
    return tuple(graded(name, "    return None") for name in names)


def test_a_notebook_with_none_of_the_graded_cells_is_refused_naming_them() -> None:
    template = code_notebook(*template_of("f", "g"))
    with pytest.raises(NotGradable) as refused:
        assemble(template, code_notebook(SETUP))
    assert str(refused.value) == (
        "This notebook is not the one for this assignment: none of its graded cells (f, g) were found in "
        "it. Check that you chose the notebook downloaded from this assignment's page."
    )


def test_template_cells_run_in_order_attributed_to_the_exercise_before_them() -> None:
    template = code_notebook(SETUP, graded("f", "    return None"), BETWEEN, graded("g", "    return None"))
    student = code_notebook(graded("f", "    return 1"), graded("g", "    return 2"))
    program = assemble(template, student)
    assert [(cell.exercise, cell.is_exercise_cell) for cell in program.cells] == [
        (None, False),
        ("f", True),
        ("f", False),
        ("g", True),
    ]
    assert program.cells[0].source == SETUP and program.cells[2].source == BETWEEN
    assert program.exercises == ("f", "g")
    assert program.problems == {} and program.notes == {} and program.notices == ()


def test_a_duplicate_is_a_note_not_a_problem() -> None:
    template = code_notebook(*template_of("f"))
    student = code_notebook(graded("f", "    return 1"), graded("f", "    return 2"))
    program = assemble(template, student)
    message = "Your notebook has 2 graded cells for 'f'; the first one was graded. Delete the copies."
    assert program.problems == {}
    assert program.notes == {"f": message}
    assert program.notices == (message,)


def test_an_untouched_exercise_is_not_run_and_says_why() -> None:
    template = code_notebook(*template_of("f", "g"))
    student = code_notebook(graded("f", "    return None"), graded("g", "    return 2"))
    program = assemble(template, student)
    assert [cell.exercise for cell in program.cells] == ["g"]
    assert program.problems == {
        "f": "'f' still has the template's placeholder code: write your solution between "
        "### START CODE HERE and ### END CODE HERE."
    }


def test_every_exercise_after_grade_up_to_here_is_not_graded() -> None:
    template = code_notebook(*template_of("f", "g"), BETWEEN, graded("h", "    return None"))
    student = code_notebook(
        graded("f", "    return 1", after="# grade-up-to-here"),
        graded("g", "    return 2"),
        graded("h", "    return 3"),
    )
    program = assemble(template, student)
    assert [cell.exercise for cell in program.cells] == ["f"]
    stopped = "Not graded: your notebook asks to stop grading after 'f' (# grade-up-to-here)."
    assert program.problems == {"g": stopped, "h": stopped}


def test_magics_and_shell_escapes_become_pass_at_their_indentation() -> None:
    setup = "x = 1\n%matplotlib inline\nif x:\n    !pip install thing\n    y = 2"
    template = code_notebook(setup, *template_of("f"))
    program = assemble(template, code_notebook(graded("f", "    return 1")))
    assert program.cells[0].source == "x = 1\npass\nif x:\n    pass\n    y = 2"


def test_exercises_after_a_deleted_one_are_still_run() -> None:
    template = code_notebook(*template_of("f", "g"))
    program = assemble(template, code_notebook(SETUP, graded("g", "    return 2")))
    assert [cell.exercise for cell in program.cells] == ["g"]
    assert set(program.problems) == {"f"}


def test_each_cell_keeps_its_notebooks_position_and_an_exercise_cell_what_it_is_meant_to_define() -> None:
    template = code_notebook(SETUP, graded("f", "    return None", after="THRESHOLD = 0.5"), BETWEEN)
    student = code_notebook("# notes", SETUP, "x = 2", graded("f", "    return 1", after="THRESHOLD = 0.5"))
    program = assemble(template, student)
    # The template's cells by their place in the template, the student's by theirs (both 1-based).
    assert [cell.position for cell in program.cells] == [1, 4, 3]
    assert [cell.label for cell in program.cells] == [
        "cell 1 (`import numpy as np`)",
        "cell 4 (`# GRADED FUNCTION: f`)",
        "cell 3 (`print(f())`)",
    ]
    # The exercise's name and what the template's cell binds; the course's cells provide nothing.
    assert [cell.provides for cell in program.cells] == [
        frozenset(),
        frozenset({"f", "THRESHOLD"}),
        frozenset(),
    ]
