import json
from pathlib import Path
from typing import Any

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, observe


def probe_inputs(assignment_dir: Path) -> dict[str, Any]:
    probes = json.loads((assignment_dir / "hidden" / "probes.json").read_text())
    return {"probe": np.asarray(probes["probe"], dtype="float32")}


@observe("make_vector")
def vector(ns, inputs):
    import numpy as np

    value = ns["make_vector"]()
    return {
        "type": type(value).__name__,
        "values": [float(v) for v in np.asarray(value, dtype=np.float64).ravel()],
    }


@observe("make_model")
def model(ns, inputs):
    built = ns["make_model"]()
    return {
        "layers": [type(layer).__name__ for layer in built.layers],
        "units": [int(layer.units) for layer in built.layers],
    }


@observe("train_classifier")
def classifier(ns, inputs):
    import numpy as np

    predictions = np.asarray(ns["classifier"].predict(inputs["probe"], verbose=0), dtype=np.float64)
    return {
        "predicted": [float(p) for p in predictions.ravel()],
        "claimed_accuracy": float(ns["history"].history["accuracy"][-1]),
    }


@check("make_vector", "the vector holds 1, 2, 3")
def vector_values(ctx: CheckContext) -> None:
    observed = ctx.observation("vector")
    expect_equal("type of the vector", "ndarray", observed["type"])
    expect_equal("values of the vector", [1.0, 2.0, 3.0], observed["values"])


@check("make_model", "one Dense layer")
def one_dense(ctx: CheckContext) -> None:
    expect_equal("layers", ["Dense"], ctx.observation("model")["layers"])


@check("make_model", "three units", hidden=True)
def three_units(ctx: CheckContext) -> None:
    expect_equal("units", [3], ctx.observation("model")["units"])


@check("train_classifier", "classifies the probe points")
def classifies(ctx: CheckContext) -> None:
    labels = json.loads((ctx.hidden_dir / "probes.json").read_text())["labels"]
    predicted = [int(p > 0.5) for p in ctx.observation("classifier")["predicted"]]
    accuracy = sum(p == label for p, label in zip(predicted, labels, strict=True)) / len(labels)
    expect("accuracy on the probe points", "at least 0.8", accuracy, accuracy >= 0.8)
