import json
from pathlib import Path

import pytest

from grader.notebook import NotGradable, read_notebook

FIXTURES = Path(__file__).parent / "fixtures"
LIMIT = 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("garbage-bytes", "not a Jupyter notebook"),
        ("empty-file", "The file is empty"),
        ("json-not-a-notebook", "JSON but not a Jupyter notebook"),
    ],
)
def test_what_is_not_a_notebook_is_refused_with_a_readable_reason(fixture: str, message: str) -> None:
    with pytest.raises(NotGradable, match=message):
        read_notebook((FIXTURES / f"{fixture}.ipynb").read_bytes(), max_bytes=LIMIT)


def test_an_oversized_upload_is_refused_before_parsing() -> None:
    with pytest.raises(NotGradable, match="larger than the 1 MB allowed"):
        read_notebook(b" " * 1_500_000, max_bytes=1_000_000)


def test_deeply_nested_json_is_refused_not_crashed_on() -> None:
    with pytest.raises(NotGradable):
        read_notebook(b"[" * 100_000 + b"]" * 100_000, max_bytes=LIMIT)


def test_thousands_of_cells_are_refused() -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "source": ""}] * 5000,
    }
    with pytest.raises(NotGradable, match="5000 cells"):
        read_notebook(json.dumps(notebook).encode(), max_bytes=LIMIT)


def test_nbformat_3_is_refused_with_advice() -> None:
    with pytest.raises(NotGradable, match="format 3"):
        read_notebook(json.dumps({"nbformat": 3, "cells": []}).encode(), max_bytes=LIMIT)


def test_nbformat_4_1_without_ids_and_list_sources_reads() -> None:
    notebook = read_notebook((FIXTURES / "nbformat-4.1-without-ids.ipynb").read_bytes(), max_bytes=LIMIT)
    graded = [cell for cell in notebook.code_cells if "graded" in cell.tags]
    assert len(graded) == 4
    assert all(cell.cell_id is None for cell in notebook.cells)
    assert graded[0].source.startswith("# GRADED FUNCTION: make_vector\n")
