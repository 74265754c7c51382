"""Week-1 notebooks whose right score is known, derived from the assignment's own solution."""

import json
from pathlib import Path

WEEK1_DIR = Path(__file__).resolve().parents[2] / "assignments" / "c1w1-housing-prices"
TRAINING_CALL = "model.fit(n_bedrooms, price_in_hundreds_of_thousands, epochs=500, verbose=0)"


def solution() -> bytes:
    """Full marks (10) after about 20 s of training on one core."""
    return (WEEK1_DIR / "solution.ipynb").read_bytes()


def template() -> bytes:
    """Untouched: nothing runs, 0 points."""
    return (WEEK1_DIR / "template.ipynb").read_bytes()


def _with_training(replacement: str) -> bytes:
    notebook = json.loads(solution())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if TRAINING_CALL in source:
            cell["source"] = source.replace(TRAINING_CALL, replacement)
            return json.dumps(notebook).encode()
    raise AssertionError("the week-1 solution no longer trains with the expected call")


def untrained() -> bytes:
    """Exercises 1 and 2 right, the model returned untrained: 6 points, in well under a second."""
    return _with_training("pass")


def sleeps_then_skips_training() -> bytes:
    """Like `untrained`, but sits 8 s in train_model first: a window to kill things mid-grade."""
    return _with_training("import time\n    time.sleep(8)")
