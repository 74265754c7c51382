import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader import Assignment

_GRADED_HEADER = re.compile(r"^[ \t]*#\s*GRADED\s+(?:FUNCTION|CLASS)\s*:\s*([A-Za-z_]\w*)", re.MULTILINE)


class UploadRejected(Exception):
    """An upload refused before anything is stored; the message is shown to the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _source(cell: Any) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(source) if isinstance(source, list) else str(source)


def graded_names(document: dict[str, Any]) -> set[str]:
    return {name for cell in document["cells"] for name in _GRADED_HEADER.findall(_source(cell))}


@lru_cache
def template_graded_names(template_path: Path) -> frozenset[str]:
    return frozenset(graded_names(json.loads(template_path.read_bytes())))


def parse_notebook(data: bytes, max_bytes: int) -> dict[str, Any]:
    if not data:
        raise UploadRejected(
            "The file is empty. Choose the .ipynb notebook you worked in and upload it again."
        )
    if len(data) > max_bytes:
        raise UploadRejected(
            f"The file is larger than the {max_bytes / 1e6:.1f} MB allowed. "
            "Clear the outputs of your notebook, save it and upload it again."
        )
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UploadRejected(
            "This file is not a Jupyter notebook (.ipynb). Upload the notebook you downloaded and worked in."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise UploadRejected("This file is JSON but not a Jupyter notebook: it has no cells.")
    return document


def check_upload(data: bytes, assignment: Assignment, max_bytes: int) -> None:
    """Refuses at once what could never be graded for this assignment."""
    document = parse_notebook(data, max_bytes)
    expected = template_graded_names(assignment.template_path)
    if expected and not expected & graded_names(document):
        raise UploadRejected(
            f"This notebook is not the one for “{assignment.title}”: none of its graded functions "
            f"({', '.join(sorted(expected))}) are in it. Check that you chose the right file."
        )
