"""Week 2 checks. Observations run in the sandbox; checks run outside on what they returned.

The probe digits' labels stay in hidden/ and never enter the sandbox: accuracy is computed here.
"""

from pathlib import Path

import numpy as np

from grader.authoring import CheckContext, check, expect, expect_equal, observe

THRESHOLD = 0.98
CALLBACK_ACCURACIES = [0.5, 0.97, 0.979, 0.98, 0.981, 0.99]
MIN_PROBE_ACCURACY = 0.88
MIN_TRAINING_ACCURACY = 0.98


def probe_inputs(assignment_dir: Path) -> dict[str, np.ndarray]:
    with np.load(assignment_dir / "hidden" / "probes.npz") as probes:
        images = probes["images"]
    return {"images": images, "callback_accuracies": np.array(CALLBACK_ACCURACIES)}


@observe("create_and_compile_model")
def untrained_model(ns, inputs):
    model = ns["create_and_compile_model"]()
    predictions = model.predict(inputs["images"][:8] / 255.0, verbose=0)
    loss = model.loss
    if type(loss) is not str:
        loss = str(getattr(loss, "name", getattr(loss, "__name__", type(loss).__name__)))
    return {"output_shape": [int(n) for n in predictions.shape], "loss": loss}


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


@observe("train_mnist")
def trained_model(ns, inputs):
    import numpy as np

    history = ns["training_history"]
    model = history.model
    with np.load("data/mnist.npz") as mnist:
        training_images = mnist["x_train"] / 255.0

    def predicted_labels(images):
        return [int(label) for label in np.argmax(model.predict(images, verbose=0), axis=1)]

    return {
        "epochs": len(history.epoch),
        "training_predictions": predicted_labels(training_images),
        "probe_predictions": predicted_labels(inputs["images"] / 255.0),
    }


def accuracy(predicted: list[int], labels: np.ndarray) -> float:
    expect_equal("number of predictions", len(labels), len(predicted))
    return round(float(np.mean(np.array(predicted) == labels)), 4)


@check("create_and_compile_model", "the model outputs 10 values per image", points=2)
def ten_outputs(ctx: CheckContext) -> None:
    shape = ctx.observation("untrained_model")["output_shape"]
    expect_equal("shape of the predictions for 8 images", [8, 10], shape)


@check("create_and_compile_model", "the loss fits integer labels", points=1)
def sparse_loss(ctx: CheckContext) -> None:
    loss = ctx.observation("untrained_model")["loss"]
    expected = "sparse_categorical_crossentropy"
    expect("loss of the model", expected, loss, expected in loss)


@check("EarlyStoppingCallback", "the callback is a Keras callback", points=1)
def is_callback(ctx: CheckContext) -> None:
    observed = ctx.observation("callback_reactions")["is_keras_callback"]
    expect("EarlyStoppingCallback subclasses tf.keras.callbacks.Callback", True, observed, observed is True)


def reactions(ctx: CheckContext, at_threshold: bool) -> None:
    stopped = ctx.observation("callback_reactions")["stopped"]
    expect_equal("number of epochs the callback saw", len(CALLBACK_ACCURACIES), len(stopped))
    for accuracy_seen, stop in zip(CALLBACK_ACCURACIES, stopped, strict=True):
        if (accuracy_seen >= THRESHOLD) == at_threshold:
            expect_equal(f"stop_training after an epoch with accuracy {accuracy_seen}", at_threshold, stop)


@check("EarlyStoppingCallback", "the callback stops training at 98% accuracy or more", points=1)
def stops_at_threshold(ctx: CheckContext) -> None:
    reactions(ctx, at_threshold=True)


@check("EarlyStoppingCallback", "the callback lets training go on below 98% accuracy", points=1)
def continues_below_threshold(ctx: CheckContext) -> None:
    reactions(ctx, at_threshold=False)


@check("train_mnist", "training stops before the 10th epoch", points=1)
def stops_early(ctx: CheckContext) -> None:
    epochs = ctx.observation("trained_model")["epochs"]
    expect("number of epochs trained", "between 1 and 9", epochs, 1 <= epochs <= 9)


@check("train_mnist", "the trained model classifies its training digits", points=1)
def fits_training_data(ctx: CheckContext) -> None:
    with np.load(ctx.assignment_dir / "data" / "mnist.npz") as mnist:
        labels = mnist["y_train"]
    got = accuracy(ctx.observation("trained_model")["training_predictions"], labels)
    minimum = MIN_TRAINING_ACCURACY
    expect("accuracy on the training digits", f"at least {minimum}", got, got >= minimum)


@check("train_mnist", "the trained model recognises digits it has never seen", points=2, hidden=True)
def recognises_unseen_digits(ctx: CheckContext) -> None:
    with np.load(ctx.hidden_dir / "probes.npz") as probes:
        labels = probes["labels"]
    got = accuracy(ctx.observation("trained_model")["probe_predictions"], labels)
    expect("accuracy on 500 unseen digits", f"at least {MIN_PROBE_ACCURACY}", got, got >= MIN_PROBE_ACCURACY)
