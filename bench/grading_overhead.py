"""How much grading adds to the student's own compute, beside the peers' way of running a notebook.

For each assignment's solution, one run prints side by side (medians of --repeat runs):
  (a) `tfgrade grade` end to end, as a user runs it (cold: the CLI starts its own sandbox);
  (b) grading through a warm sandbox pool (TensorFlow already imported), as the service does;
  (c) `jupyter nbconvert --to notebook --execute` of the same notebook;
  (d) the bare compute: the notebook's code run in a process that has already imported TensorFlow.
Targets: (b) <= 1.1 x (d) + 1 s and (b) <= 0.7 x (c).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

BARE_RUNNER = """
import json, os, sys, time
import tensorflow
cells = json.loads(sys.stdin.readline())
os.chdir(sys.argv[1])
started = time.perf_counter()
namespace = {"__name__": "__main__"}
for source in cells:
    exec(compile(source, "<cell>", "exec"), namespace)
print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)
"""


def code_cells(notebook: Path) -> list[str]:
    document = json.loads(notebook.read_text())
    sources = []
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            sources.append(
                "\n".join(
                    "pass" if line.lstrip()[:1] in "%!" and line.strip() else line
                    for line in source.split("\n")
                )
            )
    return sources


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def tfgrade_cli(assignment: str, solution: Path, scratch: Path) -> float:
    return timed(
        [str(VENV_BIN / "tfgrade"), "grade", str(solution), "--assignment", assignment, "--json"], scratch
    )


def warm_pool(slug: str, solution: Path) -> float:
    from grader import Catalog, SandboxPool, Status, grade_notebook

    catalog = Catalog()
    pool = SandboxPool(catalog, size=1)
    try:
        pool.wait_warm(timeout=120)
        started = time.perf_counter()
        report = grade_notebook(solution.read_bytes(), catalog.get(slug), pool=pool)
        seconds = time.perf_counter() - started
        assert report.status is Status.GRADED and report.score == report.max_score, report.message
        return seconds
    finally:
        pool.close()


def nbconvert(solution: Path, scratch: Path) -> float:
    copy = scratch / "notebook.ipynb"
    copy.write_bytes(solution.read_bytes())
    return timed(
        [
            str(VENV_BIN / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=600",
            "--output",
            "executed.ipynb",
            str(copy),
        ],
        scratch,
    )


def bare_compute(solution: Path, scratch: Path) -> float:
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-c", BARE_RUNNER, str(scratch)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output, _ = process.communicate(json.dumps(code_cells(solution)) + "\n")
    return float(json.loads(output.strip().splitlines()[-1])["seconds"])


def scratch_with_data(slug: str) -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="tfgrade-bench-"))
    data = ROOT / "assignments" / slug / "data"
    if data.is_dir():
        (scratch / "data").symlink_to(data)
    return scratch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assignments", nargs="+", default=["c1w1-housing-prices"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'assignment':<26}{'(a) cli':>10}{'(b) warm':>10}{'(c) nbconv':>12}{'(d) bare':>10}"
        f"{'b/(1.1d+1)':>12}{'b/c':>7}"
    )
    for slug in args.assignments:
        solution = ROOT / "assignments" / slug / "solution.ipynb"
        runs: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
        for _ in range(args.repeat):
            runs["d"].append(bare_compute(solution, scratch_with_data(slug)))
            runs["b"].append(warm_pool(slug, solution))
            runs["a"].append(tfgrade_cli(slug, solution, scratch_with_data(slug)))
            runs["c"].append(nbconvert(solution, scratch_with_data(slug)))
        a, b, c, d = (statistics.median(runs[key]) for key in "abcd")
        print(f"{slug:<26}{a:>10.1f}{b:>10.1f}{c:>12.1f}{d:>10.1f}{b / (1.1 * d + 1):>12.2f}{b / c:>7.2f}")
        print(
            f"{'':<26}runs: " + "  ".join(f"{k}={[round(v, 1) for v in runs[k]]}" for k in "abcd"), flush=True
        )
    sys.exit(0)


if __name__ == "__main__":
    main()
