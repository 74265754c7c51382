"""Pairing the student's graded cells with the template's: by header, then cell id, then position."""

from dataclasses import dataclass

from grader.markers import Region, find_regions, graded_header
from grader.notebook import Cell, Notebook


@dataclass(frozen=True)
class ExerciseCell:
    name: str
    cell: Cell
    lines: list[str]
    regions: tuple[Region, ...]
    has_header: bool


@dataclass(frozen=True)
class Match:
    template: ExerciseCell
    student: ExerciseCell | None
    problem: str | None


def exercise_cells(notebook: Notebook) -> list[ExerciseCell]:
    """Code cells with a START/END region (or a graded header), in notebook order."""
    found: list[ExerciseCell] = []
    for cell in notebook.code_cells:
        lines = cell.source.split("\n")
        regions = find_regions(lines)
        header = graded_header(cell.source)
        if regions or (header and regions is None):
            name = header or f"exercise_{len(found) + 1}"
            found.append(ExerciseCell(name, cell, lines, regions or (), header is not None))
    return found


def match_exercises(template: Notebook, student: Notebook) -> list[Match]:
    expected = exercise_cells(template)
    offered = exercise_cells(student)
    taken: set[int] = set()
    matches = []
    for position, wanted in enumerate(expected):
        candidate, problem = _find(wanted, position, offered, taken)
        if candidate is not None:
            taken.add(candidate.cell.index)
            if len(candidate.regions) != len(wanted.regions):
                candidate, problem = (
                    None,
                    (
                        f"The graded cell for '{wanted.name}' has lost its ### START CODE HERE / "
                        "### END CODE HERE markers, so your code cannot be found. Put them back around your code."
                    ),
                )
        elif problem is None:
            problem = (
                f"The graded cell for '{wanted.name}' was not found in your notebook: it was deleted or its "
                f"'# GRADED FUNCTION: {wanted.name}' line was changed. Copy that cell from a fresh template."
            )
        matches.append(Match(wanted, candidate, problem))
    return matches


def _find(
    wanted: ExerciseCell, position: int, offered: list[ExerciseCell], taken: set[int]
) -> tuple[ExerciseCell | None, str | None]:
    free = [cell for cell in offered if cell.cell.index not in taken]
    by_name = [cell for cell in free if cell.name == wanted.name]
    if by_name:
        problem = None
        if len(by_name) > 1:
            problem = (
                f"Your notebook has {len(by_name)} graded cells for '{wanted.name}'; the first one was graded. "
                "Delete the copies."
            )
        return by_name[0], problem
    if wanted.cell.cell_id is not None:
        by_id = [cell for cell in free if cell.cell.cell_id == wanted.cell.cell_id]
        if by_id:
            return by_id[0], None
    if position < len(offered):
        # A cell that lost its header is taken by position; one with another exercise's header never is.
        by_position = offered[position]
        if by_position.cell.index not in taken and not by_position.has_header:
            return by_position, None
    return None, None
