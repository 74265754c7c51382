"""Reading an upload into cells: what is refused, with which words, and how odd cells read."""

import json

import pytest

from grader.notebook import MAX_CELLS, NotGradable, read_notebook

LIMIT = 20 * 1024 * 1024


def document(cells: list[object], **fields: object) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **fields}).encode()


def refusal(data: bytes, max_bytes: int = LIMIT) -> str:
    with pytest.raises(NotGradable) as refused:
        read_notebook(data, max_bytes=max_bytes)
    return str(refused.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty. Choose the .ipynb notebook you worked in and upload it again."),
        (
            b"print('hello')",
            "This file is not a Jupyter notebook (.ipynb): it could not be read as a notebook's JSON. "
            "Upload the .ipynb file you downloaded and worked in, not an export or a copy of its text.",
        ),
        (b'{"cells": {}}', "This file is JSON but not a Jupyter notebook: it has no list of cells."),
        (
            json.dumps({"nbformat": 3, "cells": []}).encode(),
            "This notebook uses notebook format 3; only format 4 (Jupyter, Colab, VS Code) can be graded. "
            "Open it in Jupyter and save it again.",
        ),
        (document([{"cell_type": "code"}, "text"]), "Cell 2 of this notebook is damaged (it is not a cell)."),
        (
            document([{"cell_type": "code", "source": ["x = 1", 2]}]),
            "Cell 1 of this notebook is damaged (its source is not text).",
        ),
        (
            document([{"cell_type": "code", "source": 5}]),
            "Cell 1 of this notebook is damaged (its source is not text).",
        ),
    ],
)
def test_what_cannot_be_graded_is_refused_in_the_students_words(data: bytes, message: str) -> None:
    assert refusal(data) == message


def test_the_size_limit_allows_exactly_its_bytes_and_says_both_sizes_when_exceeded() -> None:
    limit = 1_500_000
    exact = document([]).ljust(limit, b" ")
    assert read_notebook(exact, max_bytes=limit).cells == ()
    assert refusal(exact.ljust(1_550_000, b" "), max_bytes=limit) == (
        "The file is 1.6 MB, larger than the 2 MB allowed. Clear the outputs of your notebook "
        "(Edit > Clear All Outputs), save it and upload it again."
    )


def test_the_cell_count_allows_exactly_its_limit() -> None:
    cell = {"cell_type": "code", "source": ""}
    assert len(read_notebook(document([cell] * MAX_CELLS), max_bytes=LIMIT).cells) == MAX_CELLS
    assert refusal(document([cell] * (MAX_CELLS + 1))) == (
        f"This notebook has {MAX_CELLS + 1} cells, more than {MAX_CELLS}."
    )


def test_notebook_metadata_is_kept_when_it_is_an_object() -> None:
    assert read_notebook(document([], metadata={"grader_version": "2"}), max_bytes=LIMIT).metadata == {
        "grader_version": "2"
    }
    assert read_notebook(document([], metadata=["odd"]), max_bytes=LIMIT).metadata == {}


def test_a_cell_reads_its_type_joined_source_string_tags_and_string_id() -> None:
    raw = {
        "cell_type": "code",
        "id": "abc",
        "source": ["x = 1\n", "y = 2"],
        "metadata": {"tags": ["graded", 3]},
    }
    [cell] = read_notebook(document([raw]), max_bytes=LIMIT).cells
    assert (cell.index, cell.cell_type, cell.source, cell.tags, cell.cell_id) == (
        0,
        "code",
        "x = 1\ny = 2",
        frozenset({"graded"}),
        "abc",
    )


def test_missing_or_odd_cell_fields_read_as_empty() -> None:
    cells = [{}, {"cell_type": "code", "id": 7, "metadata": ["odd"]}, {"metadata": {"tags": "graded"}}]
    first, second, third = read_notebook(document(cells), max_bytes=LIMIT).cells
    assert (first.cell_type, first.source, first.tags, first.cell_id) == ("", "", frozenset(), None)
    assert (second.cell_type, second.tags, second.cell_id) == ("code", frozenset(), None)
    assert third.tags == frozenset()
