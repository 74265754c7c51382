"""The load benchmark's submissions (week-1 solutions, wrong models, untouched templates) and their bare
compute: each kind's code cells run in a plain process that has already imported TensorFlow."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "c1w1-housing-prices"
WEEK1 = ROOT / "assignments" / SLUG
WRONG_MODEL = ("tf.keras.layers.Dense(units=1)", "tf.keras.layers.Dense(units=2)")
SHORT_TRAINING = ("epochs=500", "epochs=50")


def wrong_notebook() -> bytes:
    """The solution with a wrong model (a Dense layer of 2 units) trained for 50 epochs: 5 of 10 points."""
    notebook = json.loads((WEEK1 / "solution.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for old, new in (WRONG_MODEL, SHORT_TRAINING):
            source = source.replace(old, new)
        cell["source"] = source
    return json.dumps(notebook).encode()


@dataclass(frozen=True)
class Kind:
    name: str
    notebook: bytes
    score: float


KINDS = {
    "solution": Kind("solution", (WEEK1 / "solution.ipynb").read_bytes(), 10.0),
    "template": Kind("template", (WEEK1 / "template.ipynb").read_bytes(), 0.0),
    "wrong": Kind("wrong", wrong_notebook(), 5.0),
}

BARE_RUNNER = """
import json, os, sys, time
started = time.perf_counter()
import tensorflow
imported = time.perf_counter() - started
cells = json.loads(sys.stdin.readline())
os.chdir(sys.argv[1])
cpu, started = time.process_time(), time.perf_counter()
namespace = {"__name__": "__main__"}
for source in cells:
    try:
        exec(compile(source, "<cell>", "exec"), namespace)
    except Exception:
        pass
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "import_seconds": imported}), flush=True)
"""


def code_cells(notebook: bytes) -> list[str]:
    cells = []
    for cell in json.loads(notebook)["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            cells.append("".join(source) if isinstance(source, list) else source)
    return cells


def bare_compute(kind: Kind) -> dict[str, float]:
    """The notebook's code cells (each on its own, as the grader runs them) in a warm process."""
    scratch = Path(tempfile.mkdtemp(prefix="tfgrade-load-bare-"))
    if (WEEK1 / "data").is_dir():
        (scratch / "data").symlink_to(WEEK1 / "data")
    done = subprocess.run(
        [sys.executable, "-c", BARE_RUNNER, str(scratch)],
        input=json.dumps(code_cells(kind.notebook)) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    measured: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def bare_compute_side_by_side(kind: Kind, copies: int) -> float:
    """Mean seconds of `copies` bare runs at once: what each core does while all of them are busy.

    On these virtual machines a core runs the same work about a third slower when its sibling is busy
    too, so the solo measurement overstates what the machine can do in parallel.
    """
    with ThreadPoolExecutor(copies) as pool:
        runs = list(pool.map(lambda _: bare_compute(kind), range(copies)))
    return statistics.mean(run["seconds"] for run in runs)
