"""Reading an uploaded notebook into plain cells, without nbformat's slow schema validation."""

import json
from dataclasses import dataclass
from typing import Any

MAX_CELLS = 2000
# Far longer than any line of code a person writes; what reads code line by line never sees more.
MAX_LINE_CHARS = 100_000


class NotGradable(Exception):
    """The upload cannot be graded; the message is shown to the student as it is."""


@dataclass(frozen=True)
class Cell:
    index: int
    cell_type: str
    source: str
    tags: frozenset[str]
    cell_id: str | None


@dataclass(frozen=True)
class Notebook:
    cells: tuple[Cell, ...]
    metadata: dict[str, Any]

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.cell_type == "code")

    @property
    def grader_version(self) -> str | None:
        """The `grader_version` in the notebook's metadata as text (some notebooks write it as a number)."""
        version = self.metadata.get("grader_version")
        return None if version is None else str(version)


def read_notebook(data: bytes, *, max_bytes: int) -> Notebook:
    if not data:
        raise NotGradable("The file is empty. Choose the .ipynb notebook you worked in and upload it again.")
    if len(data) > max_bytes:
        raise NotGradable(
            f"The file is {len(data) / 1e6:.1f} MB, larger than the {max_bytes / 1e6:.0f} MB allowed. "
            "Clear the outputs of your notebook (Edit > Clear All Outputs), save it and upload it again."
        )
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotGradable(
            "This file is not a Jupyter notebook (.ipynb): it could not be read as a notebook's JSON. "
            "Upload the .ipynb file you downloaded and worked in, not an export or a copy of its text."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotGradable("This file is JSON but not a Jupyter notebook: it has no list of cells.")
    if document.get("nbformat") != 4:
        raise NotGradable(
            f"This notebook uses notebook format {document.get('nbformat')!r}; only format 4 (Jupyter, "
            "Colab, VS Code) can be graded. Open it in Jupyter and save it again."
        )
    if len(document["cells"]) > MAX_CELLS:
        raise NotGradable(f"This notebook has {len(document['cells'])} cells, more than {MAX_CELLS}.")
    metadata = document.get("metadata")
    return Notebook(
        cells=tuple(_read_cell(index, raw) for index, raw in enumerate(document["cells"])),
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def _read_cell(index: int, raw: object) -> Cell:
    if not isinstance(raw, dict):
        raise NotGradable(f"Cell {index + 1} of this notebook is damaged (it is not a cell).")
    source = raw.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotGradable(f"Cell {index + 1} of this notebook is damaged (its source is not text).")
    longest = max(map(len, source.split("\n")))
    if raw.get("cell_type") == "code" and longest > MAX_LINE_CHARS:
        raise NotGradable(
            f"Cell {index + 1} of this notebook has a line of {longest:,} characters, more than the "
            f"{MAX_LINE_CHARS:,} allowed. Shorten that line, save the notebook and upload it again."
        )
    metadata = raw.get("metadata")
    tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
    cell_id = raw.get("id")
    return Cell(
        index=index,
        cell_type=str(raw.get("cell_type", "")),
        source=source,
        tags=frozenset(tag for tag in tags if isinstance(tag, str))
        if isinstance(tags, list)
        else frozenset(),
        cell_id=cell_id if isinstance(cell_id, str) else None,
    )
