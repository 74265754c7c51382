"""Week 3 checks. Observations run in the sandbox; checks run outside on what they returned.

The model is trained once, by the notebook's own frozen cell (`training_history = model.fit(...)`); the
observations only read the result. The probe digits' labels stay in hidden/: accuracy is computed here.
"""

from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, observe

THRESHOLD = 0.995
CALLBACK_ACCURACIES = [0.9, 0.99, 0.994, 0.995, 0.996, 0.999]
MIN_PROBE_ACCURACY = 0.92


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        images = probes["images"]
    return {"images": images, "callback_accuracies": np.array(CALLBACK_ACCURACIES)}


@observe("reshape_and_normalize")
def reshaped_images(ns, inputs):
    import numpy as np

    images = inputs["images"][:16]
    result = ns["reshape_and_normalize"](images.copy())
    if type(result) is not np.ndarray:
        return {"type": type(result).__name__}
    same_shape = result.shape == images.shape + (1,)
    return {
        "type": "ndarray",
        "shape": [int(n) for n in result.shape],
        "max": float(result.max()),
        "min": float(result.min()),
        "largest_error": float(np.abs(result - images[..., None] / 255.0).max()) if same_shape else None,
    }


@observe("EarlyStoppingCallback")
def callback_reactions(ns, inputs):
    import tensorflow as tf

    callback_class = ns["EarlyStoppingCallback"]
    model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1)])
    stopped = []
    for epoch, accuracy in enumerate(inputs["callback_accuracies"]):
        callback = callback_class()
        callback.set_model(model)
        model.stop_training = False
        callback.on_epoch_end(epoch, logs={"loss": 0.1, "accuracy": float(accuracy)})
        stopped.append(model.stop_training is True)
    is_callback = isinstance(callback_class, type) and issubclass(callback_class, tf.keras.callbacks.Callback)
    return {"is_keras_callback": is_callback, "stopped": stopped}


@observe("convolutional_model")
def trained_model(ns, inputs):
    import numpy as np

    history = ns["training_history"]
    model = history.model
    probes = inputs["images"][..., None] / 255.0
    return {
        "layers": [type(layer).__name__ for layer in model.layers],
        "output_shape": [int(n) for n in model.predict(probes[:8], verbose=0).shape],
        "epochs": len(history.epoch),
        "probe_predictions": [int(v) for v in np.argmax(model.predict(probes, verbose=0), axis=1)],
    }


def reshaped(ctx: CheckContext) -> dict:
    observed = ctx.observation("reshaped_images")
    expect_equal("type returned by reshape_and_normalize", "ndarray", observed["type"])
    return observed


@check("reshape_and_normalize", "the images get a channel axis", points=1)
def channel_axis(ctx: CheckContext) -> None:
    expect_equal("shape of 16 reshaped images", [16, 28, 28, 1], reshaped(ctx)["shape"])


@check("reshape_and_normalize", "the pixel values are divided by 255", points=1)
def normalized(ctx: CheckContext) -> None:
    observed = reshaped(ctx)
    expect(
        "range of the pixel values",
        "0.0 to 1.0",
        (observed["min"], observed["max"]),
        observed["min"] == 0.0 and observed["max"] == 1.0,
    )
    error = observed["largest_error"]
    expect("largest difference from images / 255", "below 1e-6", error, error is not None and error < 1e-6)


@check("EarlyStoppingCallback", "the callback is a Keras callback", points=0.5)
def is_callback(ctx: CheckContext) -> None:
    observed = ctx.observation("callback_reactions")["is_keras_callback"]
    expect("EarlyStoppingCallback subclasses tf.keras.callbacks.Callback", True, observed, observed is True)


def reactions(ctx: CheckContext, at_threshold: bool) -> None:
    stopped = ctx.observation("callback_reactions")["stopped"]
    expect_equal("number of epochs the callback saw", len(CALLBACK_ACCURACIES), len(stopped))
    for accuracy_seen, stop in zip(CALLBACK_ACCURACIES, stopped, strict=True):
        if (accuracy_seen >= THRESHOLD) == at_threshold:
            expect_equal(f"stop_training after an epoch with accuracy {accuracy_seen}", at_threshold, stop)


@check("EarlyStoppingCallback", "the callback stops training at 99.5% accuracy or more", points=0.75)
def stops_at_threshold(ctx: CheckContext) -> None:
    reactions(ctx, at_threshold=True)


@check("EarlyStoppingCallback", "the callback lets training go on below 99.5% accuracy", points=0.75)
def continues_below_threshold(ctx: CheckContext) -> None:
    reactions(ctx, at_threshold=False)


@check("convolutional_model", "the model has a Conv2D layer", points=1)
def has_convolution(ctx: CheckContext) -> None:
    layers = ctx.observation("trained_model")["layers"]
    expect("layers of the model", "at least one Conv2D", layers, "Conv2D" in layers)


@check("convolutional_model", "the model has a MaxPooling2D layer", points=1)
def has_pooling(ctx: CheckContext) -> None:
    layers = ctx.observation("trained_model")["layers"]
    expect("layers of the model", "at least one MaxPooling2D", layers, "MaxPooling2D" in layers)


@check("convolutional_model", "the model outputs 10 values per image", points=1)
def ten_outputs(ctx: CheckContext) -> None:
    expect_equal(
        "shape of the predictions for 8 images", [8, 10], ctx.observation("trained_model")["output_shape"]
    )


@check("convolutional_model", "training stops before the 10th epoch", points=1)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("trained_model")["epochs"]
    expect("number of epochs trained", "between 1 and 9", epochs, 1 <= epochs <= 9)


@check("convolutional_model", "the trained model recognises digits it has never seen", points=2, hidden=True)
def recognises_unseen_digits(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    predicted = ctx.observation("trained_model")["probe_predictions"]
    expect_equal("number of predictions", len(labels), len(predicted))
    got = round(float(np.mean(np.array(predicted) == labels)), 4)
    expect("accuracy on 500 unseen digits", f"at least {MIN_PROBE_ACCURACY}", got, got >= MIN_PROBE_ACCURACY)
