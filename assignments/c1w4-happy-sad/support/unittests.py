"""A stand-in for the course's own `unittests` module (which is not public), for the notebook's test cells.

Each test prints "All tests passed!" or one "Failed test case" per problem, and never raises, so a wrong
answer does not stop the notebook. It tells the student only what the notebook's own text already says.
What it prints earns nothing: tfgrade's checks decide the score.
"""

from typing import Any

import numpy as np
import tensorflow as tf

ALL_PASSED = "All tests passed!"
IMAGES = 80
BATCH = 10
IMAGE_SHAPE = (150, 150, 3)
MAX_EPOCHS = 15
THRESHOLD = 0.999
# The bundled solution's size; a model much larger than it trains slowly within the grading's time limit.
REFERENCE_PARAMETERS = 826_913
BINARY_LOSSES = ("binary_crossentropy", "BinaryCrossentropy")
TWO_CLASS_LOSSES = (
    "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy",
    "categorical_crossentropy",
    "CategoricalCrossentropy",
)


class _Failures:
    def __init__(self) -> None:
        self.cases: list[tuple[str, str, str]] = []

    def expect(self, passed: bool, what: str, expected: str, got: object) -> bool:
        if not passed:
            self.cases.append((what, expected, _shown(got)))
        return passed

    def print(self) -> None:
        if not self.cases:
            print(ALL_PASSED)
            return
        for what, expected, got in self.cases:
            print(f"Failed test case: {what}.\nExpected: {expected}\nGot: {got}\n")


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _raised(error: BaseException) -> str:
    return f"{type(error).__name__}: {_shown(error)}"


def _tested(test: Any, subject: Any, what: str) -> None:
    failures = _Failures()
    try:
        test(subject, failures)
    except Exception as error:
        failures.expect(False, f"{what} could not be tested", "no exception", _raised(error))
    failures.print()


def test_train_data(train_data: Any) -> None:
    _tested(_check_train_data, train_data, "train_data")


def _check_train_data(train_data: Any, failures: _Failures) -> None:
    if not failures.expect(
        isinstance(train_data, tf.data.Dataset),
        "train_data is not a tf.data.Dataset",
        "tf.data.Dataset",
        type(train_data).__name__,
    ):
        return
    sizes, low, high, labels = [], np.inf, -np.inf, set()
    first_images, first_labels = None, None
    for images, batch_labels in train_data:
        images, batch_labels = np.asarray(images), np.asarray(batch_labels)
        if first_images is None:
            first_images, first_labels = images.shape, batch_labels.shape
        sizes.append(len(images))
        low, high = min(low, float(images.min())), max(high, float(images.max()))
        labels |= {float(label) for label in batch_labels.ravel()}
    failures.expect(sum(sizes) == IMAGES, "the dataset has the wrong number of images", str(IMAGES), sum(sizes))
    failures.expect(
        first_images == (BATCH, *IMAGE_SHAPE),
        "the batches of images have the wrong shape",
        str((BATCH, *IMAGE_SHAPE)),
        first_images,
    )
    failures.expect(
        first_labels in ((BATCH,), (BATCH, 1), (BATCH, 2)),
        "the batches of labels have the wrong shape",
        f"({BATCH},), ({BATCH}, 1) or ({BATCH}, 2)",
        first_labels,
    )
    failures.expect(
        0.0 <= low and high <= 1.0, "the pixel values are not rescaled", "values from 0 to 1", (low, high)
    )
    failures.expect(labels <= {0.0, 1.0}, "the labels are not 0 and 1", "0 and 1", sorted(labels))


def parameter_count(model: Any) -> None:
    try:
        total = int(model.count_params())
        trainable = int(sum(np.prod(weight.shape) for weight in model.trainable_weights))
    except Exception as error:
        print(f"The parameters of your model could not be counted: {_raised(error)}")
        return
    print(f"Your model has {total:,} total parameters and the reference is {REFERENCE_PARAMETERS:,}.")
    print(f"Your model has {trainable:,} trainable parameters and the reference is {REFERENCE_PARAMETERS:,}.")
    if total > REFERENCE_PARAMETERS:
        print("Your model is larger than the reference: if training is slow or fails, try a smaller one.")
    else:
        print("You are good to go!")


def test_create_and_compile_model(create_and_compile_model: Any) -> None:
    _tested(_check_model, create_and_compile_model, "create_and_compile_model")


def _check_model(create_and_compile_model: Any, failures: _Failures) -> None:
    try:
        model = create_and_compile_model()
    except Exception as error:
        failures.expect(False, "create_and_compile_model raised an exception", "no exception", _raised(error))
        return
    if not failures.expect(
        isinstance(model, tf.keras.Model), "the model is not a Keras model", "tf.keras.Model", type(model).__name__
    ):
        return
    failures.expect(
        tuple(model.input_shape) == (None, *IMAGE_SHAPE),
        "the model has the wrong input shape",
        str((None, *IMAGE_SHAPE)),
        model.input_shape,
    )
    outputs = model.output_shape[-1]
    loss = _loss_name(getattr(model, "loss", None))
    if outputs == 1:
        failures.expect(
            loss in BINARY_LOSSES, "the loss does not suit a last layer of one unit", "binary crossentropy", loss
        )
        activation = _last_activation(model)
        failures.expect(
            activation != "softmax",
            "the last layer's activation does not suit one unit",
            "an activation such as 'sigmoid'",
            activation,
        )
    elif failures.expect(outputs == 2, "the last layer has the wrong number of units", "1 or 2", outputs):
        failures.expect(
            loss in TWO_CLASS_LOSSES,
            "the loss does not suit a last layer of two units",
            "(sparse) categorical crossentropy",
            loss,
        )
    failures.expect(
        getattr(model, "optimizer", None) is not None, "the model is not compiled", "an optimizer", "none"
    )
    metrics = _metric_names(model)
    failures.expect("accuracy" in metrics, "the model is not compiled with the accuracy metric", "'accuracy'", metrics)


def _last_activation(model: Any) -> str:
    with_activation = [layer for layer in model.layers if hasattr(layer, "activation")]
    if not with_activation:
        return "none"
    activation = with_activation[-1].activation
    return str(getattr(activation, "__name__", activation))


def _loss_name(loss: object) -> str:
    if isinstance(loss, str):
        return loss
    if isinstance(loss, tf.keras.losses.Loss):
        return type(loss).__name__
    return str(getattr(loss, "__name__", loss))


def _metric_names(model: Any) -> list[str]:
    config = model.get_compile_config() or {}
    metrics = config.get("metrics") or []
    return [_metric_name(metric) for metric in metrics]


def _metric_name(metric: object) -> str:
    if isinstance(metric, dict):
        config = metric.get("config")
        return str(config.get("name") if isinstance(config, dict) else metric.get("class_name"))
    return metric if isinstance(metric, str) else str(getattr(metric, "name", metric))


def test_training_history(training_history: Any) -> None:
    _tested(_check_history, training_history, "training_history")


def _check_history(training_history: Any, failures: _Failures) -> None:
    if not failures.expect(
        isinstance(training_history, tf.keras.callbacks.History),
        "training_history is not the History of model.fit",
        "tf.keras.callbacks.History",
        type(training_history).__name__,
    ):
        return
    epochs = len(training_history.epoch)
    failures.expect(
        epochs < MAX_EPOCHS, "training did not stop early", f"fewer than {MAX_EPOCHS} epochs", f"{epochs} epochs"
    )
    accuracies = training_history.history.get("accuracy", [])
    last = float(accuracies[-1]) if accuracies else "no accuracy"
    failures.expect(
        accuracies != [] and float(accuracies[-1]) >= THRESHOLD,
        "the model did not reach the accuracy",
        f"an accuracy of {THRESHOLD} or more",
        last,
    )
