"""A course team's own notebook, unmodified, becomes an assignment with only checks.py and assignment.toml."""

import json
from pathlib import Path

from helpers import course_cell

from grader import SandboxPool, Status, grade_notebook
from grader.assignment import load_assignment
from grader.validation import structure_problems

IMPORTS = "import numpy as np\nimport tensorflow as tf\n"
CALLBACK_TEMPLATE = """# GRADED CLASS: StopAtLoss

## START CODE HERE ###
class StopAtLoss(tf.keras.callbacks.Callback):

    def None(None, None, None=None):

        if None:
            self.model.stop_training = None
### END CODE HERE ###"""
CALLBACK_SOLUTION = CALLBACK_TEMPLATE.replace(
    "def None(None, None, None=None):", "def on_epoch_end(self, epoch, logs=None):"
)
CALLBACK_SOLUTION = CALLBACK_SOLUTION.replace("if None:", "if logs['loss'] < 0.5:").replace(
    "= None", "= True"
)
SCALE_TEMPLATE = """import numpy as np
# GRADED FUNCTION: scale_prices
def scale_prices(prices):
    \"\"\"Prices in hundreds of thousands.\"\"\"
    ## START CODE HERE ###
    scaled = None
    ### END CODE HERE ###
    return scaled
"""
CALLS_THE_STUDENT = "# Your function on the prices of three houses\nscaled_prices = scale_prices(np.array([100.0, 250.0, 400.0]))\n"

CHECKS = """
from grader.authoring import CheckContext, check, expect_equal, observe

LOSSES = [1.0, 0.6, 0.5, 0.4, 0.1]


@observe("StopAtLoss")
def reactions(ns, inputs):
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1)])
    stopped = []
    for epoch, loss in enumerate([1.0, 0.6, 0.5, 0.4, 0.1]):
        callback = ns["StopAtLoss"]()
        callback.set_model(model)
        model.stop_training = False
        callback.on_epoch_end(epoch, logs={"loss": loss})
        stopped.append(model.stop_training is True)
    return stopped


@observe("scale_prices")
def scaled(ns, inputs):
    return [float(v) for v in ns["scaled_prices"]]


@check("StopAtLoss", "the callback stops once the loss is below 0.5")
def stops(ctx: CheckContext) -> None:
    expect_equal("stop_training after losses " + str(LOSSES), [False, False, False, True, True],
                 ctx.observation("reactions"))


@check("scale_prices", "prices are in hundreds of thousands")
def prices(ctx: CheckContext) -> None:
    expect_equal("scaled prices of 100, 250 and 400 thousand", [1.0, 2.5, 4.0], ctx.observation("scaled"))
"""

TOML = """slug = "course-own-notebook"
title = "A course's own notebook"
[[exercises]]
name = "StopAtLoss"
points = 1
[[exercises]]
name = "scale_prices"
points = 1
"""


def course_notebook(callback: str, scale: str) -> bytes:
    """nbformat 4.4 without cell ids, as older course notebooks are."""
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {"editable": False},
            "source": ["# Week 0: a course's own notebook"],
        },
        course_cell(IMPORTS, frozen=True),
        course_cell(callback, graded=True),
        course_cell(scale, graded=True),
        course_cell(CALLS_THE_STUDENT, graded=True, frozen=True),
    ]
    metadata = {"grader_version": "1", "kernelspec": {"name": "python3", "display_name": "Python 3"}}
    return json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}).encode()


def build_assignment(folder: Path) -> None:
    (folder / "template.ipynb").write_bytes(course_notebook(CALLBACK_TEMPLATE, SCALE_TEMPLATE))
    (folder / "solution.ipynb").write_bytes(
        course_notebook(CALLBACK_SOLUTION, SCALE_TEMPLATE.replace("scaled = None", "scaled = prices / 100.0"))
    )
    (folder / "checks.py").write_text(CHECKS)
    (folder / "assignment.toml").write_text(TOML)


def test_a_course_notebook_becomes_an_assignment_with_only_checks_and_toml(
    tmp_path: Path, pool: SandboxPool
) -> None:
    build_assignment(tmp_path)
    assignment = load_assignment(tmp_path)
    assert structure_problems(assignment) == []

    def grade(notebook: bytes) -> tuple[Status, float, dict[str, bool]]:
        report = grade_notebook(notebook, assignment, pool=pool)
        return report.status, report.score, {check.exercise: check.passed for check in report.checks}

    solution = (tmp_path / "solution.ipynb").read_bytes()
    assert grade(solution) == (Status.GRADED, 2.0, {"StopAtLoss": True, "scale_prices": True})
    wrong = solution.replace(b"prices / 100.0", b"prices / 1000.0")
    assert grade(wrong) == (Status.GRADED, 1.0, {"StopAtLoss": True, "scale_prices": False})
    template = (tmp_path / "template.ipynb").read_bytes()
    assert grade(template) == (Status.GRADED, 0.0, {"StopAtLoss": False, "scale_prices": False})
