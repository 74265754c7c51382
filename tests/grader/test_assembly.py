from pathlib import Path

import pytest

from grader.assemble import assemble
from grader.notebook import Notebook, NotGradable, read_notebook

HERE = Path(__file__).parent
LIMIT = 20 * 1024 * 1024


def notebook(path: Path) -> Notebook:
    return read_notebook(path.read_bytes(), max_bytes=LIMIT)


TEMPLATE = notebook(HERE / "assignments" / "probe" / "template.ipynb")


def fixture(name: str) -> Notebook:
    return notebook(HERE / "fixtures" / f"{name}.ipynb")


def exercise_source(program_cells: tuple, exercise: str) -> str:
    return next(cell.source for cell in program_cells if cell.exercise == exercise and cell.is_exercise_cell)


def test_only_the_students_regions_enter_the_program() -> None:
    program = assemble(TEMPLATE, fixture("edited-outside-markers"))
    source = exercise_source(program.cells, "make_model")
    assert 'model.compile(optimizer="sgd", loss="mse")' in source
    assert "adam" not in source and "edited outside" not in source
    assert "tf.keras.layers.Dense(3)" in source
    assert program.notices == (
        "Edits outside the START/END CODE HERE markers were ignored in: make_vector, make_model.",
    )


def test_cells_the_student_added_are_ignored() -> None:
    program = assemble(TEMPLATE, fixture("added-cells"))
    sources = "\n".join(cell.source for cell in program.cells)
    assert "a cell the student added" not in sources
    assert "np.zeros(3)" not in sources
    assert program.problems == {}


def test_a_deleted_graded_cell_is_reported_against_its_exercise() -> None:
    program = assemble(TEMPLATE, fixture("deleted-graded-cell"))
    assert set(program.problems) == {"make_model"}
    assert "was not found in your notebook" in program.problems["make_model"]


def test_a_duplicated_graded_cell_grades_the_first_and_says_so() -> None:
    program = assemble(TEMPLATE, fixture("duplicated-graded-cell"))
    assert "np.array([1.0, 2.0, 3.0])" in exercise_source(program.cells, "make_vector")
    assert any("2 graded cells for 'make_vector'" in notice for notice in program.notices)


def test_student_markers_in_another_style_and_indentation_are_spliced_at_the_template_indent() -> None:
    program = assemble(TEMPLATE, fixture("marker-variants"))
    source = exercise_source(program.cells, "make_vector")
    assert "\n    vector = np.array([1.0, 2.0, 3.0])\n" in source
    assert source.endswith("    return vector")


def test_rewritten_ids_and_metadata_still_match_by_header() -> None:
    program = assemble(TEMPLATE, fixture("ids-and-metadata-rewritten"))
    assert program.problems == {} and program.notices == ()


def test_renamed_header_is_matched_by_position() -> None:
    student = fixture("added-cells")
    renamed = Notebook(
        cells=tuple(
            cell.__class__(
                cell.index,
                cell.cell_type,
                cell.source.replace("GRADED FUNCTION: make_model", "my model"),
                cell.tags,
                None,
            )
            for cell in student.cells
        ),
        metadata=student.metadata,
    )
    program = assemble(TEMPLATE, renamed)
    assert "tf.keras.layers.Dense(3)" in exercise_source(program.cells, "make_model")


def test_an_untouched_template_runs_none_of_its_placeholders() -> None:
    program = assemble(TEMPLATE, TEMPLATE)
    assert set(program.problems) == {"make_vector", "make_model", "train_classifier"}
    assert not any(cell.is_exercise_cell for cell in program.cells)


def test_grade_up_to_here_stops_after_that_exercise() -> None:
    program = assemble(TEMPLATE, fixture("grade-up-to-here"))
    assert [cell.exercise for cell in program.cells if cell.is_exercise_cell] == ["make_vector"]
    assert "grade-up-to-here" in program.problems["train_classifier"]


def test_a_notebook_of_another_assignment_is_not_gradable() -> None:
    other = notebook(HERE.parent.parent / "assignments" / "c1w1-housing-prices" / "solution.ipynb")
    with pytest.raises(NotGradable, match="not the one for this assignment: none of its graded cells"):
        assemble(TEMPLATE, other)


def test_magics_become_pass_so_blocks_stay_valid() -> None:
    program = assemble(TEMPLATE, fixture("added-cells"))
    for cell in program.cells:
        compile(cell.source, "<cell>", "exec")
