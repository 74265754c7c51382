"""Week 3 checks.

`reshape_and_normalize` and the callback are called with inputs drawn fresh for each submission, so no
fixed answer passes. The model is trained once, by the notebook's own frozen cell; it is exported as data
and judged from the clean evaluator's evidence: its layers, and its predictions on training digits and on
probe digits that never enter the student's sandbox, whose labels stay here.
"""

from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, export_model, observe
from grader.callback_checks import callback_reactions, expect_callback_reactions, threshold_accuracies

THRESHOLD = 0.995
MIN_PROBE_ACCURACY = 0.92
MIN_TRAINING_ACCURACY = 0.99
TRAINING_SAMPLE = 1000


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        probe_images = probes["images"]
    with np.load(assignment_dir / "data" / "mnist.npz") as mnist:
        training_images = mnist["x_train"][:TRAINING_SAMPLE]
    return {
        "probe_images": (probe_images[..., None] / 255.0).astype(np.float32),
        "training_images": (training_images[..., None] / 255.0).astype(np.float32),
    }


def fresh_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    images = rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # the full range, so dividing by anything else shows
    return {"images": images, "callback_accuracies": threshold_accuracies(rng, THRESHOLD, spread=0.004)}


@observe("reshape_and_normalize")
def reshaped_images(ns, inputs):
    import numpy as np

    result = ns["reshape_and_normalize"](inputs["images"].copy())
    return {"type": type(result).__name__, "images": result if type(result) is np.ndarray else None}


observe("EarlyStoppingCallback")(callback_reactions)


@export_model("convolutional_model", probes=("probe_images", "training_images"))
def trained_model(ns):
    return ns["training_history"].model


@observe("convolutional_model")
def training(ns, inputs):
    return {"epochs": len(ns["training_history"].epoch)}


def reshaped(ctx: CheckContext) -> np.ndarray:
    observed = ctx.observation("reshaped_images")
    expect_equal("type returned by reshape_and_normalize", "ndarray", observed["type"])
    images: np.ndarray = observed["images"]
    return images


@check("reshape_and_normalize", "the images get a channel axis", points=1)
def channel_axis(ctx: CheckContext) -> None:
    expect_equal("shape of 16 reshaped images", [16, 28, 28, 1], list(reshaped(ctx).shape))


@check("reshape_and_normalize", "the pixel values are divided by 255", points=1)
def normalized(ctx: CheckContext) -> None:
    images = reshaped(ctx)
    expected = ctx.inputs["images"][..., None] / 255.0
    expect_equal("shape of 16 reshaped images", list(expected.shape), list(images.shape))
    error = float(np.abs(images.astype(np.float64) - expected).max())
    expect("largest difference from images / 255", "below 1e-6", round(error, 6), error < 1e-6)


def reactions(ctx: CheckContext, include_threshold: bool = False) -> None:
    observed = ctx.observation("callback_reactions")
    expect_callback_reactions(observed, ctx.inputs["callback_accuracies"], THRESHOLD, include_threshold)


@check("EarlyStoppingCallback", "the callback stops training above 99.5% accuracy and only there", points=1)
def stops_above_threshold(ctx: CheckContext) -> None:
    reactions(ctx)


@check("EarlyStoppingCallback", "the callback also stops at exactly 99.5% accuracy", points=1)
def stops_at_threshold(ctx: CheckContext) -> None:
    reactions(ctx, include_threshold=True)


@check("convolutional_model", "the model has a Conv2D layer", points=1)
def has_convolution(ctx: CheckContext) -> None:
    layers = ctx.model("trained_model").layer_classes
    expect("layers of the model", "at least one Conv2D", layers, "Conv2D" in layers)


@check("convolutional_model", "the model has a MaxPooling2D layer", points=1)
def has_pooling(ctx: CheckContext) -> None:
    layers = ctx.model("trained_model").layer_classes
    expect("layers of the model", "at least one MaxPooling2D", layers, "MaxPooling2D" in layers)


@check("convolutional_model", "the model outputs 10 values per image", points=1)
def ten_outputs(ctx: CheckContext) -> None:
    expect_equal("output shape of the model", [None, 10], ctx.model("trained_model").output_shape)


def accuracy(ctx: CheckContext, probes: str, labels: np.ndarray) -> float:
    outputs = ctx.model("trained_model").predictions[probes]
    expect_equal("shape of the predictions", [len(labels), 10], list(outputs.shape))
    return round(float(np.mean(np.argmax(outputs, axis=1) == labels)), 4)


@check("convolutional_model", "training stops before the 10th epoch", points=1)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("training")["epochs"]
    expect("number of epochs trained", "between 1 and 9", epochs, type(epochs) is int and 1 <= epochs <= 9)
    # The epoch count alone costs nothing to forge; a model that did reach the threshold does.
    with np.load(ctx.assignment_dir / "data" / "mnist.npz") as mnist:
        labels = mnist["y_train"][:TRAINING_SAMPLE]
    got = accuracy(ctx, "training_images", labels)
    minimum = MIN_TRAINING_ACCURACY
    expect(
        "accuracy on the training digits when training stopped", f"at least {minimum}", got, got >= minimum
    )


@check("convolutional_model", "the trained model recognises digits it has never seen", points=2, hidden=True)
def recognises_unseen_digits(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    got = accuracy(ctx, "probe_images", labels)
    expect("accuracy on 500 unseen digits", f"at least {MIN_PROBE_ACCURACY}", got, got >= MIN_PROBE_ACCURACY)
