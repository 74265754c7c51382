"""Finding the graded header and the START/END CODE HERE regions in a cell's source."""

import re
from dataclasses import dataclass

# Each pattern has one way to match a line, so matching is linear in the line's length; what may follow
# the marker text (blanks, then #s, then blanks) is checked by `_is_marker_tail`, not by backtracking.
_START = re.compile(r"(?P<indent>[ \t]*)#{2,3}\s*START CODE HERE(?P<tail>.*)", re.IGNORECASE | re.DOTALL)
_END = re.compile(r"[ \t]*#{2,3}\s*END CODE HERE(?P<tail>.*)", re.IGNORECASE | re.DOTALL)
_HEADER = re.compile(r"^[ \t]*#\s*GRADED\s+(?:FUNCTION|CLASS)\s*:\s*(?P<name>[A-Za-z_]\w*)", re.MULTILINE)
_GRADE_UP_TO_HERE = re.compile(r"^[ \t]*#\s*grade-up-to-here\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Region:
    """Lines strictly between a START line and its END line (0-based, end exclusive)."""

    start: int
    end: int
    indent: str


def graded_header(source: str) -> str | None:
    match = _HEADER.search(source)
    return match.group("name") if match else None


def asks_to_stop_grading(source: str) -> bool:
    return _GRADE_UP_TO_HERE.search(source) is not None


def _is_marker_tail(tail: str) -> bool:
    """Blanks and #s, then at most a note in parentheses (`### START CODE HERE ### (≈ 2 lines of code)`),
    which many course notebooks put there."""
    rest = tail.lstrip().lstrip("#").removesuffix("\n").strip(" \t")
    return rest == "" or (rest.startswith("(") and rest.endswith(")") and rest.count(")") == 1)


def _marker(pattern: re.Pattern[str], line: str) -> re.Match[str] | None:
    match = pattern.match(line)
    return match if match is not None and _is_marker_tail(match.group("tail")) else None


def find_regions(lines: list[str]) -> tuple[Region, ...] | None:
    """The cell's regions, or None when its markers are unbalanced."""
    regions: list[Region] = []
    open_start: re.Match[str] | None = None
    open_line = 0
    for number, line in enumerate(lines):
        if start := _marker(_START, line):
            if open_start is not None:
                return None
            open_start, open_line = start, number
        elif _marker(_END, line):
            if open_start is None:
                return None
            regions.append(Region(open_line + 1, number, open_start.group("indent")))
            open_start = None
    return None if open_start is not None else tuple(regions)


def region_text(lines: list[str], region: Region) -> list[str]:
    return lines[region.start : region.end]


def reindent(lines: list[str], from_indent: str, to_indent: str) -> list[str]:
    """Move a student's region to the template's indentation when their markers were indented differently."""
    if from_indent == to_indent:
        return lines
    moved = []
    for line in lines:
        body = line[len(from_indent) :] if line.startswith(from_indent) else line.lstrip(" \t")
        moved.append(to_indent + body if body.strip() else line)
    return moved


def outside_regions(lines: list[str], regions: tuple[Region, ...]) -> list[str]:
    """The cell's instructor code, for comparison: no regions, markers, blank lines or trailing spaces."""
    inside = {number for region in regions for number in range(region.start - 1, region.end + 1)}
    kept = (line.rstrip() for number, line in enumerate(lines) if number not in inside)
    return [line for line in kept if line and not _GRADE_UP_TO_HERE.match(line)]
