"""Building attack notebooks the way a student would: code only between an exercise's START/END markers."""

import json
from pathlib import Path

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


def with_region(slug: str, exercise: str, code: str, base: str = "template") -> bytes:
    """The assignment's template (or solution) with one exercise's region replaced by `code`."""
    notebook = json.loads((ASSIGNMENTS / slug / f"{base}.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        headers = (f"GRADED FUNCTION: {exercise}\n", f"GRADED CLASS: {exercise}\n")
        if cell["cell_type"] != "code" or not any(header in source + "\n" for header in headers):
            continue
        lines = source.split("\n")
        start = next(number for number, line in enumerate(lines) if "START CODE HERE" in line)
        end = next(number for number, line in enumerate(lines) if "END CODE HERE" in line)
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        region = [indent + line if line else line for line in code.strip("\n").split("\n")]
        cell["source"] = "\n".join([*lines[: start + 1], *region, *lines[end:]])
        return json.dumps(notebook).encode()
    raise ValueError(f"no graded cell for {exercise} in {slug}")
