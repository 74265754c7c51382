"""Week 2 checks.

The callback is called with accuracies drawn fresh for each submission, so no fixed answer passes. The
models are exported as data and judged from the clean evaluator's evidence: its structure, and its
predictions on training digits and on probe digits that never enter the student's sandbox, whose labels
stay here.
"""

from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, export_model, observe
from grader.callback_checks import callback_reactions, expect_callback_reactions, threshold_accuracies

THRESHOLD = 0.98
MIN_PROBE_ACCURACY = 0.88
MIN_TRAINING_ACCURACY = 0.98
TRAINING_SAMPLE = 1000


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        probe_images = probes["images"]
    with np.load(assignment_dir / "data" / "mnist.npz") as mnist:
        training_images = mnist["x_train"][:TRAINING_SAMPLE]
    return {
        "probe_images": (probe_images / 255.0).astype(np.float32),
        "training_images": (training_images / 255.0).astype(np.float32),
    }


def fresh_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"callback_accuracies": threshold_accuracies(rng, THRESHOLD, spread=0.015)}


@export_model("create_and_compile_model")
def untrained_model(ns):
    return ns["create_and_compile_model"]()


observe("EarlyStoppingCallback")(callback_reactions)


@export_model("train_mnist", probes=("probe_images", "training_images"))
def trained_model(ns):
    return ns["training_history"].model


@observe("train_mnist")
def training(ns, inputs):
    return {"epochs": len(ns["training_history"].epoch)}


def accuracy(ctx: CheckContext, probes: str, labels: np.ndarray) -> float:
    outputs = ctx.model("trained_model").predictions[probes]
    expect_equal("shape of the predictions", [len(labels), 10], list(outputs.shape))
    return round(float(np.mean(np.argmax(outputs, axis=1) == labels)), 4)


def training_accuracy(ctx: CheckContext) -> float:
    with np.load(ctx.assignment_dir / "data" / "mnist.npz") as mnist:
        labels = mnist["y_train"][:TRAINING_SAMPLE]
    return accuracy(ctx, "training_images", labels)


@check("create_and_compile_model", "the model outputs 10 values per image", points=2)
def ten_outputs(ctx: CheckContext) -> None:
    expect_equal("output shape of the model", [None, 10], ctx.model("untrained_model").output_shape)


@check("create_and_compile_model", "the loss fits integer labels", points=1)
def sparse_loss(ctx: CheckContext) -> None:
    loss = ctx.model("untrained_model").loss
    expected = "sparse_categorical_crossentropy"
    expect("loss of the model", expected, loss, loss is not None and expected in loss)


def reactions(ctx: CheckContext, include_threshold: bool = False) -> None:
    observed = ctx.observation("callback_reactions")
    expect_callback_reactions(observed, ctx.inputs["callback_accuracies"], THRESHOLD, include_threshold)


@check("EarlyStoppingCallback", "the callback stops training above 98% accuracy and only there", points=1.5)
def stops_above_threshold(ctx: CheckContext) -> None:
    reactions(ctx)


@check("EarlyStoppingCallback", "the callback also stops at exactly 98% accuracy", points=1.5)
def stops_at_threshold(ctx: CheckContext) -> None:
    reactions(ctx, include_threshold=True)


@check("train_mnist", "training stops before the 10th epoch", points=1)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("training")["epochs"]
    expect("number of epochs trained", "between 1 and 9", epochs, type(epochs) is int and 1 <= epochs <= 9)
    # The epoch count alone costs nothing to forge; a model that did reach the threshold, trained with a
    # callback that stops there, does.
    reactions(ctx)
    got = training_accuracy(ctx)
    minimum = MIN_TRAINING_ACCURACY
    expect(
        "accuracy on the training digits when training stopped", f"at least {minimum}", got, got >= minimum
    )


@check("train_mnist", "the trained model classifies its training digits", points=1)
def fits_training_data(ctx: CheckContext) -> None:
    got = training_accuracy(ctx)
    minimum = MIN_TRAINING_ACCURACY
    expect("accuracy on the training digits", f"at least {minimum}", got, got >= minimum)


@check("train_mnist", "the trained model recognises digits it has never seen", points=2, hidden=True)
def recognises_unseen_digits(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    got = accuracy(ctx, "probe_images", labels)
    expect("accuracy on 500 unseen digits", f"at least {MIN_PROBE_ACCURACY}", got, got >= MIN_PROBE_ACCURACY)
