import json
from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, export_model, observe


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
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


@export_model("make_model")
def model(ns):
    return ns["make_model"]()


@export_model("train_classifier", probes=("probe",))
def classifier(ns):
    return ns["classifier"]


@check("make_vector", "the vector holds 1, 2, 3")
def vector_values(ctx: CheckContext) -> None:
    observed = ctx.observation("vector")
    expect_equal("type of the vector", "ndarray", observed["type"])
    expect_equal("values of the vector", [1.0, 2.0, 3.0], observed["values"])


@check("make_model", "one Dense layer")
def one_dense(ctx: CheckContext) -> None:
    expect_equal("layers", ["Dense"], ctx.model("model").layer_classes)


@check("make_model", "three units", hidden=True)
def three_units(ctx: CheckContext) -> None:
    expect_equal("units", [3], [layer.get("units") for layer in ctx.model("model").layers])


@check("train_classifier", "classifies the probe points")
def classifies(ctx: CheckContext) -> None:
    labels = json.loads((ctx.hidden_dir / "probes.json").read_text())["labels"]
    predicted = [int(p > 0.5) for p in ctx.model("classifier").predictions["probe"].ravel()]
    expect_equal("number of predictions", len(labels), len(predicted))
    accuracy = sum(p == label for p, label in zip(predicted, labels, strict=True)) / len(labels)
    expect("accuracy on the probe points", "at least 0.8", accuracy, accuracy >= 0.8)
