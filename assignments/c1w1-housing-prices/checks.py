"""Week 1 checks. Observations run in the sandbox; checks run outside on what they returned."""

from typing import Any

from grader.authoring import CheckContext, check, expect, expect_close, expect_equal, observe

EXPECTED_BEDROOMS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
EXPECTED_PRICES = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
PROBES = {7.0: 4.0, 10.0: 5.5}
TOLERANCE = 0.25


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


@observe("define_and_compile_model")
def model_structure(ns, inputs):
    model = ns["define_and_compile_model"]()
    layers = [
        {"type": type(layer).__name__, "units": getattr(layer, "units", None)} for layer in model.layers
    ]
    return {
        "layers": [
            {
                "type": str(layer["type"]),
                "units": int(layer["units"]) if type(layer["units"]) is int else None,
            }
            for layer in layers
        ],
        "input_shape": [None if n is None else int(n) for n in model.inputs[0].shape]
        if model.inputs
        else None,
    }


@observe("train_model")
def trained_model(ns, inputs):
    import numpy as np

    model = ns["trained_model"]
    weights = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    history = getattr(model, "history", None)
    return {
        "weights": [
            {"shape": [int(n) for n in w.shape], "values": [float(v) for v in w.ravel()][:16]}
            for w in weights
        ],
        "epochs": len(history.epoch) if history is not None and hasattr(history, "epoch") else None,
    }


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


@check("define_and_compile_model", "the model has exactly one Dense layer")
def one_dense_layer(ctx: CheckContext) -> None:
    types = [layer["type"] for layer in ctx.observation("model_structure")["layers"]]
    expect_equal("layers of the model", ["Dense"], types)


@check("define_and_compile_model", "the Dense layer has one unit")
def one_unit(ctx: CheckContext) -> None:
    units = [layer["units"] for layer in ctx.observation("model_structure")["layers"]]
    expect_equal("units of the model's layers", [1], units)


@check("define_and_compile_model", "the model takes one number as input")
def one_input(ctx: CheckContext) -> None:
    expect_equal("input shape of the model", [None, 1], ctx.observation("model_structure")["input_shape"])


@check("train_model", "the model was trained for 500 epochs", points=1)
def trained_500_epochs(ctx: CheckContext) -> None:
    expect_equal("number of epochs trained", 500, ctx.observation("trained_model")["epochs"])


def _prediction(ctx: CheckContext, bedrooms: float) -> float:
    """The trained model's prediction, computed here from its weights, not reported by the sandbox."""
    weights = ctx.observation("trained_model")["weights"]
    shapes = [w["shape"] for w in weights]
    expect_equal("shapes of the trained model's weights", [[1, 1], [1]], shapes)
    kernel, bias = weights[0]["values"][0], weights[1]["values"][0]
    return float(kernel * bedrooms + bias)


@check("train_model", "the prediction for 7 bedrooms is close to 4.0", points=1.5)
def predicts_seven_bedrooms(ctx: CheckContext) -> None:
    expect_close("prediction for 7 bedrooms", PROBES[7.0], round(_prediction(ctx, 7.0), 4), TOLERANCE)


@check("train_model", "the prediction for 10 bedrooms is close to 5.5", points=1.5)
def predicts_ten_bedrooms(ctx: CheckContext) -> None:
    expect_close("prediction for 10 bedrooms", PROBES[10.0], round(_prediction(ctx, 10.0), 4), TOLERANCE)
