"""Week 1 checks, by the criteria the course's notebook states: six float values per array for houses with 1
to 6 bedrooms, a single Dense layer of one unit on a one-number input compiled with SGD and mean squared error,
500 epochs of training and a prediction close to 4 for a 7-bedroom house.

The arrays are reported by the student's process (forging them means writing the answer, which is the
exercise); the model's structure and its predictions come from the clean evaluator, which rebuilds the
exported model and predicts prices for houses the notebook never sees.
"""

import re
from pathlib import Path
from typing import Any

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_close, expect_equal, export_model, observe

EXPECTED_BEDROOMS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
EXPECTED_PRICES = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
# 0 bedrooms: the base cost of 50k. An untrained Dense layer has no bias, so it cannot predict it, however
# close its random slope happens to come to the prices of 7 and 10 bedrooms.
PROBES = {7.0: 4.0, 10.0: 5.5, 0.0: 0.5}
TOLERANCE = 0.25
SGD_NAME = re.compile(r"sgd(_[0-9]+)?", re.IGNORECASE)
MSE_NAMES = ("mse", "MSE", "mean_squared_error", "MeanSquaredError")


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    return {"bedrooms": np.array([[bedrooms] for bedrooms in PROBES], dtype=np.float32)}


@observe("create_training_data")
def training_data(ns, inputs):
    import numpy as np

    def describe(value):
        array_type = type(value) is np.ndarray
        return {
            "is_ndarray": array_type,
            "dtype": str(value.dtype) if array_type else type(value).__name__,
            "shape": [int(n) for n in value.shape] if array_type else None,
            "values": [float(v) for v in np.asarray(value, dtype=np.float64).ravel()][:100]
            if array_type
            else None,
        }

    features, targets = ns["create_training_data"]()
    return {"features": describe(features), "targets": describe(targets)}


@export_model("define_and_compile_model")
def untrained_model(ns):
    return ns["define_and_compile_model"]()


@export_model("train_model", probes=("bedrooms",))
def trained_model(ns):
    return ns["trained_model"]


@observe("train_model")
def training(ns, inputs):
    history = getattr(ns["trained_model"], "history", None)
    return {"epochs": len(history.epoch) if history is not None and hasattr(history, "epoch") else None}


def _described(ctx: CheckContext, which: str) -> dict[str, Any]:
    described: dict[str, Any] = ctx.observation("training_data")[which]
    expect(
        f"{which} returned by create_training_data",
        "a numpy array",
        described["dtype"],
        described["is_ndarray"],
    )
    return described


@check("create_training_data", "the arrays have the right shape")
def data_shapes(ctx: CheckContext) -> None:
    for which in ("features", "targets"):
        expect_equal(f"shape of the {which}", [6], _described(ctx, which)["shape"])


@check("create_training_data", "the arrays hold floats")
def data_dtypes(ctx: CheckContext) -> None:
    for which in ("features", "targets"):
        dtype = _described(ctx, which)["dtype"]
        expect(f"dtype of the {which}", "a float type (float64 or float32)", dtype, dtype.startswith("float"))


@check("create_training_data", "the arrays hold the right values")
def data_values(ctx: CheckContext) -> None:
    expect_equal("values of the features", EXPECTED_BEDROOMS, _described(ctx, "features")["values"])
    expect_equal("values of the targets", EXPECTED_PRICES, _described(ctx, "targets")["values"])


@check("define_and_compile_model", "the model is a single Dense layer with one unit")
def one_dense_unit(ctx: CheckContext) -> None:
    model = ctx.model("untrained_model")
    expect_equal("layers of the model", ["Dense"], model.layer_classes)
    expect_equal("units of the model's layers", [1], [layer.get("units") for layer in model.layers])


@check("define_and_compile_model", "the model takes one number as input")
def one_input(ctx: CheckContext) -> None:
    expect_equal("input shape of the model", [None, 1], ctx.model("untrained_model").input_shape)


@check("define_and_compile_model", "the model is compiled with SGD and mean squared error")
def sgd_and_mse(ctx: CheckContext) -> None:
    model = ctx.model("untrained_model")
    # Keras names an optimizer after its class, numbered when several exist: sgd, sgd_1, ...
    optimizer = model.optimizer or ""
    expect("optimizer of the model", "SGD", model.optimizer, SGD_NAME.fullmatch(optimizer) is not None)
    expect("loss of the model", "mean squared error", model.loss, model.loss in MSE_NAMES)


@check("train_model", "the model was trained for 500 epochs", points=1)
def trained_500_epochs(ctx: CheckContext) -> None:
    expect_equal("number of epochs trained", 500, ctx.observation("training")["epochs"])
    # The epoch count alone costs nothing to forge; a model that learnt the prices does.
    expect_close("prediction for 7 bedrooms after training", PROBES[7.0], _prediction(ctx, 7.0), TOLERANCE)


def _prediction(ctx: CheckContext, bedrooms: float) -> float:
    predictions = ctx.model("trained_model").predictions["bedrooms"]
    expect_equal(f"shape of the predictions for {len(PROBES)} houses", [len(PROBES), 1], list(predictions.shape))
    return round(float(predictions[list(PROBES).index(bedrooms), 0]), 4)


def _predicts(ctx: CheckContext, bedrooms: float) -> None:
    """The price of `bedrooms`, on the line the model learnt: through the base cost too."""
    expect_close(f"prediction for {bedrooms:g} bedrooms", PROBES[bedrooms], _prediction(ctx, bedrooms), TOLERANCE)
    expect_close("prediction for 0 bedrooms (the base cost)", PROBES[0.0], _prediction(ctx, 0.0), TOLERANCE)


@check("train_model", "the prediction for 7 bedrooms is close to 4.0", points=1.5)
def predicts_seven_bedrooms(ctx: CheckContext) -> None:
    _predicts(ctx, 7.0)


@check("train_model", "the prediction for 10 bedrooms is close to 5.5", points=1.5)
def predicts_ten_bedrooms(ctx: CheckContext) -> None:
    _predicts(ctx, 10.0)
