"""Notebooks for the probe assignment with a student's code in place of the vector exercise's answer."""

import json
from pathlib import Path

PROBE_DIR = Path(__file__).parent / "assignments" / "probe"
VECTOR_CHECK = "the vector holds 1, 2, 3"
SOLUTION_LINE = "vector = np.array([1.0, 2.0, 3.0])"


def with_vector_code(code: str) -> bytes:
    notebook = json.loads((PROBE_DIR / "solution.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if SOLUTION_LINE in source:
            indented = "\n".join(f"    {line}" for line in code.strip().splitlines())
            cell["source"] = source.replace(f"    {SOLUTION_LINE}", indented)
    return json.dumps(notebook).encode()
