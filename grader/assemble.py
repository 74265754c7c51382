"""Building the program that runs: the instructor's template with only the student's regions spliced in."""

from dataclasses import dataclass
from functools import cached_property

from grader.clean_text import clean_text
from grader.dataflow import CellNames, cell_names
from grader.markers import asks_to_stop_grading, outside_regions, region_text, reindent
from grader.matching import ExerciseCell, match_exercises
from grader.notebook import Notebook, NotGradable

LABEL_CHARACTERS = 60


@dataclass(frozen=True)
class ProgramCell:
    source: str
    exercise: str | None
    is_exercise_cell: bool
    position: int = 0  # 1-based, among all the notebook's cells: the student's for theirs, the template's
    provides: frozenset[str] = frozenset()  # what an exercise's cell is meant to define (its exercise's name)

    @cached_property
    def names(self) -> CellNames:
        """What the cell binds and reads: parsed once, for the job and for the reading of its run."""
        return cell_names(self.source)

    @property
    def label(self) -> str:
        """The cell as a student finds it: its position and its first line."""
        first = next((line.strip() for line in self.source.split("\n") if line.strip()), "")
        first = clean_text(first)
        if len(first) > LABEL_CHARACTERS:
            first = first[: LABEL_CHARACTERS - 1] + "…"
        return f"cell {self.position} (`{first}`)"


@dataclass(frozen=True)
class Program:
    cells: tuple[ProgramCell, ...]
    exercises: tuple[str, ...]
    problems: dict[str, str]
    notes: dict[str, str]
    notices: tuple[str, ...]


def assemble(template: Notebook, student: Notebook) -> Program:
    matches = match_exercises(template, student)
    if matches and all(match.student is None for match in matches):
        names = ", ".join(match.template.name for match in matches)
        raise NotGradable(
            f"This notebook is not the one for this assignment: none of its graded cells ({names}) were "
            "found in it. Check that you chose the notebook downloaded from this assignment's page."
        )
    by_template_cell = {match.template.cell.index: match for match in matches}
    problems = {
        match.template.name: match.problem for match in matches if match.problem and not match.student
    }
    notes = {match.template.name: match.problem for match in matches if match.problem and match.student}
    notices = list(notes.values())
    edited_outside = []
    cells: list[ProgramCell] = []
    current_exercise: str | None = None
    stopped_after: str | None = None
    for cell in template.code_cells:
        match = by_template_cell.get(cell.index)
        if match is None:
            if stopped_after is None:
                cells.append(
                    ProgramCell(_without_magics(cell.source), current_exercise, False, cell.index + 1)
                )
            continue
        current_exercise = match.template.name
        if stopped_after is not None:
            problems[current_exercise] = (
                f"Not graded: your notebook asks to stop grading after '{stopped_after}' (# grade-up-to-here)."
            )
            continue
        if match.student is None:
            continue
        if outside_regions(match.student.lines, match.student.regions) != outside_regions(
            match.template.lines, match.template.regions
        ):
            edited_outside.append(current_exercise)
        if _untouched(match.template, match.student):
            problems[current_exercise] = (
                f"'{current_exercise}' still has the template's placeholder code: write your solution "
                "between ### START CODE HERE and ### END CODE HERE."
            )
        else:
            cells.append(
                ProgramCell(
                    _without_magics(_splice(match.template, match.student)),
                    current_exercise,
                    True,
                    match.student.cell.index + 1,
                    _provides(current_exercise, match.template),
                )
            )
        if asks_to_stop_grading(match.student.cell.source):
            stopped_after = current_exercise
    if edited_outside:
        notices.append(
            "Edits outside the START/END CODE HERE markers were ignored in: "
            + ", ".join(edited_outside)
            + "."
        )
    exercises = tuple(match.template.name for match in matches)
    return Program(tuple(cells), exercises, problems, notes, tuple(notices))


def _splice(template: ExerciseCell, student: ExerciseCell) -> str:
    lines = list(template.lines)
    for template_region, student_region in reversed(
        list(zip(template.regions, student.regions, strict=True))
    ):
        code = reindent(
            region_text(student.lines, student_region), student_region.indent, template_region.indent
        )
        lines[template_region.start : template_region.end] = code
    return "\n".join(lines)


def _provides(exercise: str, template: ExerciseCell) -> frozenset[str]:
    """The exercise's name (a graded cell's header names what it defines), and what the template's cell
    binds when its placeholders leave it valid Python."""
    return frozenset({exercise}) | cell_names(_without_magics(template.cell.source)).binds


def _untouched(template: ExerciseCell, student: ExerciseCell) -> bool:
    def code(cell: ExerciseCell) -> list[list[str]]:
        return [[line.strip() for line in region_text(cell.lines, r) if line.strip()] for r in cell.regions]

    return code(template) == code(student)


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python; each becomes `pass` so blocks stay valid."""
    lines = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped[:1] in ("%", "!") else line)
    return "\n".join(lines)
