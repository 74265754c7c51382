"""Notebooks built in memory, cell by cell, for tests that need no fixture file."""

from grader.notebook import Cell, Notebook


def code_notebook(*sources: str, ids: tuple[str | None, ...] = ()) -> Notebook:
    """Code cells with these sources, in order; `ids` gives the first cells their ids."""
    cell_ids = ids + (None,) * (len(sources) - len(ids))
    cells = tuple(
        Cell(index=index, cell_type="code", source=source, tags=frozenset(), cell_id=cell_id)
        for index, (source, cell_id) in enumerate(zip(sources, cell_ids, strict=True))
    )
    return Notebook(cells=cells, metadata={})


def graded(name: str | None, *region_lines: str, after: str = "") -> str:
    """A graded cell: its header (when named), one START/END region holding these lines, then `after`."""
    header = [f"# GRADED FUNCTION: {name}"] if name else []
    lines = [*header, f"def {name or 'function'}():", "    ### START CODE HERE", *region_lines]
    return "\n".join([*lines, "    ### END CODE HERE", *([after] if after else [])])
