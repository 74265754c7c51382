"""Week 4 checks, the ImageDataGenerator version of the course's notebook: its image_generator and its
train_happy_sad_model, which builds, compiles and trains the model and returns the training's History.

The dataset's images come back as arrays and must be the assignment's own 80 images, each once, with
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
ACCURACY_METRICS = {
    "accuracy",
    "acc",
    "binary_accuracy",
    "sparse_categorical_accuracy",
    "categorical_accuracy",
}


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


@observe("image_generator")
def dataset_batches(ns, inputs):
    import numpy as np

    generator = ns["image_generator"]()
    batches = [(np.asarray(images), np.asarray(labels)) for images, labels in (generator[i] for i in range(len(generator)))]
    return {
        "batch_sizes": [int(len(batch_images)) for batch_images, _ in batches],
        "first_batch_shape": [int(n) for n in batches[0][0].shape],
        "first_labels_shape": [int(n) for n in batches[0][1].shape],
        "images": np.concatenate([images for images, _ in batches]).astype(np.float32),
        "labels": np.concatenate([labels.reshape(len(labels), -1)[:, 0] for _, labels in batches]),
    }


@export_model("train_happy_sad_model", probes=("probe_images", "training_images"))
def trained_model(ns):
    return ns["hist"].model


@observe("train_happy_sad_model")
def training(ns, inputs):
    return {"epochs": len(ns["hist"].epoch)}


def dataset_images(ctx: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All the generator's images and labels, and for each image the training image it is (at any scale):
    each of the 80 must come exactly once, so forging them costs as much as loading the folders."""
    observed = ctx.observation("dataset_batches")
    expect_equal("shape of the first batch of images", [10, 150, 150, 3], observed["first_batch_shape"])
    images, labels = observed["images"], observed["labels"]
    faces, _ = training_faces(ctx.assignment_dir)
    expect_equal("shape of all the generator's images", list(faces.shape), list(images.shape))
    scale = 255.0 if float(images.max()) <= 1.0 else 1.0
    # A sample of pixels finds each image's likely twin; all its pixels then confirm it.
    sample = slice(None, None, 97)
    seen = (images * scale).reshape(len(images), -1)[:, sample]
    distances = np.abs(seen[:, None] - faces.reshape(len(faces), -1)[None, :, sample]).max(axis=2)
    matched = distances.argmin(axis=1)
    exact = all(
        np.abs(image * scale - faces[twin]).max() <= 0.5 for image, twin in zip(images, matched, strict=True)
    )
    each_once = len(set(matched.tolist())) == len(faces)
    expect("the generator's images", "each image of the data folder once", "other images", exact and each_once)
    return images, labels, matched


@check("image_generator", "batches hold 10 images of 150×150×3", points=1)
def batch_shape(ctx: CheckContext) -> None:
    dataset_images(ctx)
    expect_equal("sizes of the batches", [10] * 8, ctx.observation("dataset_batches")["batch_sizes"])


@check("image_generator", "pixel values are rescaled to [0, 1]", points=1)
def rescaled(ctx: CheckContext) -> None:
    images, _, _ = dataset_images(ctx)
    low, high = float(images.min()), float(images.max())
    expect("range of the pixel values", "from 0 to at most 1", (low, high), low >= 0.0 and high <= 1.0)


@check("image_generator", "labels are 0 for happy and 1 for sad, one per image", points=1)
def labels(ctx: CheckContext) -> None:
    _, labels, matched = dataset_images(ctx)
    shape = ctx.observation("dataset_batches")["first_labels_shape"]
    expect("shape of the first batch of labels", "(10,) or (10, 1)", shape, shape in ([10], [10, 1]))
    _, truth = training_faces(ctx.assignment_dir)
    wrong = int(np.sum(labels.astype(np.float64) != truth[matched]))
    expect_equal("images whose label is not their folder's", 0, wrong)


def output_activation(layers: list[dict]) -> tuple[object, object]:
    """The last layer with units, and the activation its outputs finally get: trailing Activation,
    Softmax or ReLU layers (Dense(1) then Activation('sigmoid')) count as the output's activation."""
    trailing = {"Activation", "Softmax", "ReLU", "LeakyReLU", "Dropout"}
    index, applied = len(layers) - 1, None
    while index > 0 and layers[index]["class_name"] in trailing:
        name = layers[index].get("activation", layers[index]["class_name"].lower())
        if applied is None and layers[index]["class_name"] != "Dropout":
            applied = name
        index -= 1
    own = layers[index].get("activation")
    return layers[index].get("units"), own if applied is None or applied == "linear" else applied


@check("train_happy_sad_model", "the last layer and the loss agree", points=2)
def last_layer_matches_loss(ctx: CheckContext) -> None:
    model = ctx.model("trained_model")
    units, activation = output_activation(model.layers)
    loss = model.loss
    if units == 1:
        expect("loss for one output unit", "binary_crossentropy", loss, loss in BINARY_LOSSES)
        wanted = "sigmoid"
    else:
        expect_equal("units of the last layer", "1 (sigmoid) or 2 (softmax)", units)
        expect("loss for two output units", " or ".join(TWO_CLASS_LOSSES), loss, loss in TWO_CLASS_LOSSES)
        wanted = "softmax"
    if model.from_logits:
        wanted = "linear"
    expect_equal(f"activation of the last layer with {units} unit(s) and {loss}", wanted, activation)


@check("train_happy_sad_model", "the model is compiled with the accuracy metric", points=1)
def accuracy_metric(ctx: CheckContext) -> None:
    metrics = ctx.model("trained_model").metrics
    expect("metrics of the model", "['accuracy']", metrics, bool(ACCURACY_METRICS & set(metrics)))


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


@check("train_happy_sad_model", "training stops before the 15th epoch", points=2)
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
    "train_happy_sad_model",
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
