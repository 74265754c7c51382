"""Reading what a student sent stays linear and its messages stay printable: the marker lines matched
without backtracking (as the old patterns matched them), the cap on lines of code, and the version shown
back to the student."""

import json
import random
import re

import pytest

from grader.intake import printable
from grader.markers import find_regions
from grader.notebook import MAX_LINE_CHARS, NotGradable, read_notebook

# The patterns the markers were matched with before: the same lines, found by backtracking.
OLD_START = re.compile(r"^(?P<indent>[ \t]*)#{2,3}\s*START CODE HERE\s*#*[ \t]*$", re.IGNORECASE)
OLD_END = re.compile(r"^[ \t]*#{2,3}\s*END CODE HERE\s*#*[ \t]*$", re.IGNORECASE)
PIECES = [
    " ",
    "\t",
    "#",
    "##",
    "###",
    "x",
    "\n",
    "\r",
    "\f",
    "\v",
    "START CODE HERE",
    "END CODE HERE",
    "start code here",
]


def regions_as_before(lines: list[str]) -> list[tuple[int, int, str]] | None:
    regions, open_at, indent = [], None, ""
    for number, line in enumerate(lines):
        if start := OLD_START.match(line):
            if open_at is not None:
                return None
            open_at, indent = number, start.group("indent")
        elif OLD_END.match(line):
            if open_at is None:
                return None
            regions.append((open_at + 1, number, indent))
            open_at = None
    return None if open_at is not None else regions


def marker_line(rng: random.Random, marker: str) -> str:
    head = "".join(rng.choice([" ", "\t", ""]) for _ in range(rng.randint(0, 2))) + rng.choice(
        ["#", "##", "###"]
    )
    tail = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
    return head + rng.choice(["", " ", "\t"]) + marker + tail


def test_markers_are_found_exactly_where_the_old_patterns_found_them() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        lines = [marker_line(rng, "START CODE HERE"), "    x = 1\n", marker_line(rng, "END CODE HERE")]
        found = find_regions(lines)
        expected = regions_as_before(lines)
        assert (None if found is None else [(r.start, r.end, r.indent) for r in found]) == expected, lines


@pytest.mark.parametrize(
    ("tail", "is_marker"),
    [
        ("", True),
        (" ###", True),
        ("\t#\t", True),
        ("  ##  \n", True),
        ("\n", True),
        (" # #", False),
        (" x", False),
        ("#x", False),
        ("\n\n", True),
        ("X", False),
        ("#X", False),
        (" ###  y", False),
    ],
)
def test_what_may_follow_a_start_marker(tail: str, is_marker: bool) -> None:
    lines = ["  ### START CODE HERE" + tail, "  ### END CODE HERE"]
    assert (find_regions(lines) is not None and find_regions(lines) != ()) is is_marker


def notebook(source: str, cell_type: str = "code") -> bytes:
    cell = {"cell_type": cell_type, "source": source, "metadata": {}}
    return json.dumps(
        {"cells": [{"cell_type": "markdown", "source": "", "metadata": {}}, cell], "nbformat": 4}
    ).encode()


def test_a_line_of_code_up_to_the_cap_is_read_and_one_over_it_refused_with_its_length() -> None:
    read_notebook(notebook("a = 1\n" + "x" * MAX_LINE_CHARS + "\nb = 2"), max_bytes=10**7)
    with pytest.raises(NotGradable) as refused:
        read_notebook(notebook("a = 1\n" + "x" * (MAX_LINE_CHARS + 1) + "\nb = 2"), max_bytes=10**7)
    assert str(refused.value) == (
        "Cell 2 of this notebook has a line of 100,001 characters, more than the 100,000 allowed. "
        "Shorten that line, save the notebook and upload it again."
    )


def test_text_cells_may_have_lines_of_any_length() -> None:
    read_notebook(
        notebook("![image](data:image/png;base64," + "A" * (2 * MAX_LINE_CHARS) + ")", "markdown"),
        max_bytes=10**7,
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3, "3"), ("v" * 25, "v" * 20), ("\ud800x", "?x"), (None, "None")],
)
def test_a_value_from_the_notebook_is_shown_short_and_encodable(value: object, shown: str) -> None:
    assert printable(value) == shown
