"""The names a cell binds and reads, and so whose outputs a course cell uses, from the sources alone."""

from grader.assemble import Program, ProgramCell
from grader.dataflow import CellNames, cell_names
from grader.outcome import exercises_used


def test_a_cell_binds_its_top_level_names_and_reads_every_name_it_loads() -> None:
    source = "\n".join(
        [
            "import numpy as np, os.path",
            "from math import tau",
            "features, (targets, _) = make(data)",
            "for item in range(3):",
            "    total = item",
            "def helper(x):",
            "    inner = x + offset",
            "class Model:",
            "    size = 3",
            "squares = [k * k for k in values]",
            "try:",
            "    pass",
            "except ValueError as problem:",
            "    pass",
            "with open(path) as handle:",
            "    pass",
        ]
    )
    names = cell_names(source)
    assert names.binds == frozenset(
        {
            "np",
            "os",
            "tau",
            "features",
            "targets",
            "_",
            "item",
            "total",
            "helper",
            "Model",
            "squares",
            "problem",
            "handle",
        }
    )
    assert names.reads >= {
        "make",
        "data",
        "range",
        "x",
        "offset",
        "k",
        "values",
        "ValueError",
        "open",
        "path",
    }
    assert not names.reads & {"inner", "size", "features"}


def test_a_cell_that_is_not_python_binds_and_reads_nothing() -> None:
    assert cell_names("def None(None):\n    pass") == CellNames(frozenset(), frozenset())


def test_a_course_cell_uses_the_exercises_whose_outputs_reach_it_directly_or_through_course_cells() -> None:
    program = Program(
        cells=(
            ProgramCell("import tensorflow as tf", None, False, 1),
            ProgramCell("def dataset():\n    return 1", "dataset", True, 2),
            ProgramCell("train_data = dataset()", "dataset", False, 3),
            ProgramCell("def build():\n    return tf", "build", True, 4),
            ProgramCell("unrelated = 2", "build", False, 5),
            ProgramCell("model = build()\nhistory = model.fit(train_data, unrelated)", "build", False, 6),
        ),
        exercises=("dataset", "build"),
        problems={},
        notes={},
        notices=(),
    )
    assert exercises_used(program, 5) == ("dataset", "build")
    assert exercises_used(program, 4) == ()
    assert exercises_used(program, 2) == ("dataset",)


def test_a_course_cell_carries_only_what_it_reads_not_the_exercise_it_follows() -> None:
    program = Program(
        cells=(
            ProgramCell("def build():\n    return 1", "build", True, 1),
            ProgramCell("size = 2", "build", False, 2),
            ProgramCell("shown = print(size)", "build", False, 3),
            ProgramCell("print(shown)", "build", False, 4),
            ProgramCell("model = build()", "build", False, 5),
            ProgramCell("print(model, shown)", "build", False, 6),
        ),
        exercises=("build",),
        problems={},
        notes={},
        notices=(),
    )
    assert exercises_used(program, 2) == ()
    assert exercises_used(program, 3) == ()
    assert exercises_used(program, 5) == ("build",)
