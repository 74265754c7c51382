"""Week 4 checks. Observations run in the sandbox; checks run outside on what they returned.

The model is trained once, by the notebook's own frozen cell; the observations read the result. The probe
faces' labels stay in hidden/ (happy = 0, sad = 1, the alphabetical order of the class folders).
"""

from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, observe

MAX_EPOCHS = 15
MIN_PROBE_ACCURACY = 0.65
BINARY_LOSSES = ("binary_crossentropy",)
TWO_CLASS_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        return {"images": probes["images"]}


@observe("training_dataset")
def dataset_batches(ns, inputs):
    import numpy as np

    batches = [(np.asarray(images), np.asarray(labels)) for images, labels in ns["training_dataset"]()]
    images, labels = batches[0]
    return {
        "batch_sizes": [int(len(batch_images)) for batch_images, _ in batches],
        "image_shape": [int(n) for n in images.shape],
        "label_shape": [int(n) for n in labels.shape],
        "min": float(min(batch_images.min() for batch_images, _ in batches)),
        "max": float(max(batch_images.max() for batch_images, _ in batches)),
        "label_values": sorted({float(v) for _, batch_labels in batches for v in batch_labels.ravel()}),
    }


@observe("create_and_compile_model")
def compiled_model(ns, inputs):
    model = ns["create_and_compile_model"]()
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    loss = model.loss
    loss_name = loss if type(loss) is str else getattr(loss, "name", getattr(loss, "__name__", ""))
    loss_config = loss.get_config() if hasattr(loss, "get_config") else {}
    metrics = model.get_compile_config().get("metrics") or []
    return {
        "input_shape": [None if n is None else int(n) for n in model.inputs[0].shape],
        "last_units": int(getattr(last, "units", 0) or 0),
        "last_activation": str(getattr(activation, "__name__", "linear")),
        "loss": str(loss_name),
        "from_logits": loss_config.get("from_logits") is True,
        "metrics": [str(m if type(m) is str else m.get("config", {}).get("name", "")) for m in metrics],
    }


@observe("create_and_compile_model")
def trained_model(ns, inputs):
    history = ns["training_history"]
    outputs = history.model.predict(inputs["images"] / 255.0, verbose=0)
    return {"epochs": len(history.epoch), "probe_outputs": [[float(v) for v in row] for row in outputs]}


@check("training_dataset", "batches hold 10 images of 150×150×3", points=1)
def batch_shape(ctx: CheckContext) -> None:
    observed = ctx.observation("dataset_batches")
    expect_equal("shape of the first batch of images", [10, 150, 150, 3], observed["image_shape"])
    expect_equal("sizes of the batches", [10] * 8, observed["batch_sizes"])


@check("training_dataset", "pixel values are rescaled to [0, 1]", points=1)
def rescaled(ctx: CheckContext) -> None:
    observed = ctx.observation("dataset_batches")
    low, high = observed["min"], observed["max"]
    expect(
        "range of the pixel values",
        "from 0 to at most 1, with a maximum above 0.5",
        (low, high),
        low >= 0.0 and 0.5 < high <= 1.0,
    )


@check("training_dataset", "labels are 0 for happy and 1 for sad, one per image", points=1)
def labels(ctx: CheckContext) -> None:
    observed = ctx.observation("dataset_batches")
    expect_equal("values of the labels", [0.0, 1.0], observed["label_values"])
    shape = observed["label_shape"]
    expect("shape of the first batch of labels", "(10,) or (10, 1)", shape, shape in ([10], [10, 1]))


@check("create_and_compile_model", "the last layer and the loss agree", points=2)
def last_layer_matches_loss(ctx: CheckContext) -> None:
    observed = ctx.observation("compiled_model")
    units, loss = observed["last_units"], observed["loss"]
    if units == 1:
        expect("loss for one output unit", "binary_crossentropy", loss, loss in BINARY_LOSSES)
        wanted = "sigmoid"
    else:
        expect_equal("units of the last layer", "1 (sigmoid) or 2 (softmax)", units)
        expect("loss for two output units", " or ".join(TWO_CLASS_LOSSES), loss, loss in TWO_CLASS_LOSSES)
        wanted = "softmax"
    if observed["from_logits"]:
        wanted = "linear"
    expect_equal(
        f"activation of the last layer with {units} unit(s) and {loss}", wanted, observed["last_activation"]
    )


@check("create_and_compile_model", "the model is compiled with the accuracy metric", points=1)
def accuracy_metric(ctx: CheckContext) -> None:
    metrics = ctx.observation("compiled_model")["metrics"]
    expect("metrics of the model", "['accuracy']", metrics, "accuracy" in metrics)


@check("create_and_compile_model", "training stops before the 15th epoch", points=2)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("trained_model")["epochs"]
    expect("number of epochs trained", f"between 1 and {MAX_EPOCHS - 1}", epochs, 1 <= epochs < MAX_EPOCHS)


@check(
    "create_and_compile_model",
    "the trained model tells unseen happy and sad faces apart",
    points=2,
    hidden=True,
)
def recognises_unseen_faces(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    outputs = np.array(ctx.observation("trained_model")["probe_outputs"], dtype=np.float64)
    expect(
        "shape of the predictions for the unseen faces",
        f"({len(labels)}, 1) or ({len(labels)}, 2)",
        list(outputs.shape),
        outputs.ndim == 2 and outputs.shape[0] == len(labels) and outputs.shape[1] in (1, 2),
    )
    predicted = outputs[:, 0] > 0.5 if outputs.shape[1] == 1 else np.argmax(outputs, axis=1) == 1
    got = round(float(np.mean(predicted == (labels == 1))), 4)
    expect(
        f"accuracy on {len(labels)} unseen faces",
        f"at least {MIN_PROBE_ACCURACY}",
        got,
        got >= MIN_PROBE_ACCURACY,
    )
