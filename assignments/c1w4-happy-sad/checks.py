"""Week 4 checks.

The dataset's first batch comes back as arrays and must be the assignment's own images, rescaled, with
their folders' labels: forging that means doing the work. The models are exported as data and judged
from the clean evaluator's evidence: their layers and compile settings, and their predictions on the
training faces and on probe faces that never enter the student's sandbox, whose labels stay here
(happy = 0, sad = 1, the alphabetical order of the class folders).
"""

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from grader.authoring import CheckContext, check, expect, expect_equal, export_model, observe

CLASSES = ("happy", "sad")
MAX_EPOCHS = 15
MIN_PROBE_ACCURACY = 0.65
MIN_TRAINING_ACCURACY = 0.95
BINARY_LOSSES = ("binary_crossentropy",)
TWO_CLASS_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
PIXEL_TOLERANCE = 0.5 / 255


@cache
def training_faces(assignment_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every training image as 0..255 floats, and its label from its folder."""
    images, labels = [], []
    for label, name in enumerate(CLASSES):
        for path in sorted((assignment_dir / "data" / name).glob("*.png")):
            images.append(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32))
            labels.append(label)
    return np.stack(images), np.array(labels)


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        probe_images = probes["images"]
    images, _ = training_faces(assignment_dir)
    return {
        "probe_images": (probe_images / 255.0).astype(np.float32),
        "training_images": images / np.float32(255.0),
    }


@observe("training_dataset")
def dataset_batches(ns, inputs):
    import numpy as np

    batches = [(np.asarray(images), np.asarray(labels)) for images, labels in ns["training_dataset"]()]
    images, labels = batches[0]
    return {
        "batch_sizes": [int(len(batch_images)) for batch_images, _ in batches],
        "first_images": images.astype(np.float32),
        "first_labels": labels.astype(np.float32),
    }


@export_model("create_and_compile_model")
def compiled_model(ns):
    return ns["create_and_compile_model"]()


@export_model("create_and_compile_model", probes=("probe_images", "training_images"))
def trained_model(ns):
    return ns["training_history"].model


@observe("create_and_compile_model")
def training(ns, inputs):
    return {"epochs": len(ns["training_history"].epoch)}


def first_batch(ctx: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first batch, and for each image the training image it is (at any scale): forging it costs as
    much as loading the folders."""
    observed = ctx.observation("dataset_batches")
    images, labels = observed["first_images"], observed["first_labels"]
    expect_equal("shape of the first batch of images", [10, 150, 150, 3], list(np.shape(images)))
    faces, _ = training_faces(ctx.assignment_dir)
    scale = 255.0 if float(images.max()) <= 1.0 else 1.0
    distances = np.stack(
        [np.abs(image * scale - faces).reshape(len(faces), -1).max(axis=1) for image in images]
    )
    matched = distances.argmin(axis=1)
    found = bool(np.all(distances[np.arange(10), matched] <= 255 * PIXEL_TOLERANCE))
    expect("the images of the first batch", "images from the data folder", "other pixels", found)
    return images, labels, matched


@check("training_dataset", "batches hold 10 images of 150×150×3", points=1)
def batch_shape(ctx: CheckContext) -> None:
    first_batch(ctx)
    expect_equal("sizes of the batches", [10] * 8, ctx.observation("dataset_batches")["batch_sizes"])


@check("training_dataset", "pixel values are rescaled to [0, 1]", points=1)
def rescaled(ctx: CheckContext) -> None:
    images, _, _ = first_batch(ctx)
    low, high = float(images.min()), float(images.max())
    expect("range of the pixel values", "from 0 to at most 1", (low, high), low >= 0.0 and high <= 1.0)


@check("training_dataset", "labels are 0 for happy and 1 for sad, one per image", points=1)
def labels(ctx: CheckContext) -> None:
    _, labels, matched = first_batch(ctx)
    shape = list(labels.shape)
    expect("shape of the first batch of labels", "(10,) or (10, 1)", shape, shape in ([10], [10, 1]))
    _, truth = training_faces(ctx.assignment_dir)
    expect_equal("labels of the first batch", truth[matched].tolist(), labels.ravel().astype(int).tolist())


@check("create_and_compile_model", "the last layer and the loss agree", points=2)
def last_layer_matches_loss(ctx: CheckContext) -> None:
    model = ctx.model("compiled_model")
    last = model.layers[-1]
    units, loss = last.get("units"), model.loss
    if units == 1:
        expect("loss for one output unit", "binary_crossentropy", loss, loss in BINARY_LOSSES)
        wanted = "sigmoid"
    else:
        expect_equal("units of the last layer", "1 (sigmoid) or 2 (softmax)", units)
        expect("loss for two output units", " or ".join(TWO_CLASS_LOSSES), loss, loss in TWO_CLASS_LOSSES)
        wanted = "softmax"
    if model.from_logits:
        wanted = "linear"
    expect_equal(
        f"activation of the last layer with {units} unit(s) and {loss}", wanted, last.get("activation")
    )


@check("create_and_compile_model", "the model is compiled with the accuracy metric", points=1)
def accuracy_metric(ctx: CheckContext) -> None:
    metrics = ctx.model("compiled_model").metrics
    expect("metrics of the model", "['accuracy']", metrics, "accuracy" in metrics)


def accuracy(ctx: CheckContext, probes: str, labels: np.ndarray) -> float:
    outputs = ctx.model("trained_model").predictions[probes].astype(np.float64)
    expect(
        "shape of the predictions",
        f"({len(labels)}, 1) or ({len(labels)}, 2)",
        list(outputs.shape),
        outputs.ndim == 2 and outputs.shape[0] == len(labels) and outputs.shape[1] in (1, 2),
    )
    predicted = outputs[:, 0] > 0.5 if outputs.shape[1] == 1 else np.argmax(outputs, axis=1) == 1
    return round(float(np.mean(predicted == (labels == 1))), 4)


@check("create_and_compile_model", "training stops before the 15th epoch", points=2)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("training")["epochs"]
    expect(
        "number of epochs trained",
        f"between 1 and {MAX_EPOCHS - 1}",
        epochs,
        type(epochs) is int and 1 <= epochs < MAX_EPOCHS,
    )
    # The epoch count alone costs nothing to forge; a model that did reach the threshold does.
    _, truth = training_faces(ctx.assignment_dir)
    got = accuracy(ctx, "training_images", truth)
    minimum = MIN_TRAINING_ACCURACY
    expect("accuracy on the training faces when training stopped", f"at least {minimum}", got, got >= minimum)


@check(
    "create_and_compile_model",
    "the trained model tells unseen happy and sad faces apart",
    points=2,
    hidden=True,
)
def recognises_unseen_faces(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    got = accuracy(ctx, "probe_images", labels)
    expect(
        f"accuracy on {len(labels)} unseen faces",
        f"at least {MIN_PROBE_ACCURACY}",
        got,
        got >= MIN_PROBE_ACCURACY,
    )
