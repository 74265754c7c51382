"""Notebooks for the probe assignment with a student's code in place of the vector exercise's answer, and
copies of the assignment in other shapes."""

import json
import shutil
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


def without_grader_version(notebook: bytes) -> bytes:
    document = json.loads(notebook)
    document["metadata"].pop("grader_version", None)
    return json.dumps(document).encode()


def legacy_probe(folder: Path) -> Path:
    """The probe assignment as an older course notebook has it: no grader_version in the template, the
    solution or assignment.toml. It keeps the slug `probe`, so the probe's sandboxes grade it."""
    copy = folder / "probe"
    shutil.copytree(PROBE_DIR, copy)
    for name in ("template.ipynb", "solution.ipynb"):
        (copy / name).write_bytes(without_grader_version((copy / name).read_bytes()))
    toml = (copy / "assignment.toml").read_text()
    (copy / "assignment.toml").write_text(toml.replace('grader_version = "1"\n', ""))
    return copy
