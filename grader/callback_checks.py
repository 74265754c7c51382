"""Judging a student's early-stopping callback by its answers to accuracies drawn fresh per submission.

The course asks for such a callback in several weeks; each assignment registers `callback_reactions` as
its observation and judges the answers with `expect_callback_reactions`.
"""

import numpy as np

from grader.authoring import expect, expect_equal


def threshold_accuracies(rng: np.random.Generator, threshold: float, spread: float) -> np.ndarray:
    """The threshold itself, three accuracies above it and three below (within `spread`, at most 1.0)
    and one far below, in an order no one can learn."""
    offsets = rng.uniform(0.0001, spread, size=6) * np.array([1, 1, 1, -1, -1, -1])
    above_and_below = np.minimum(threshold + offsets, 1.0)
    return rng.permutation(np.concatenate([[threshold], above_and_below, rng.uniform(0.2, 0.9, size=1)]))


# Runs in the student's sandbox from its own source, so it names no type from outside its body.
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


def expect_callback_reactions(
    observed: dict, accuracies: np.ndarray, threshold: float, at_threshold: bool | None
) -> None:
    """The callback's answers to the fresh accuracies at or above the threshold (`at_threshold=True`),
    below it (False), or all but the threshold itself (None)."""
    expect(
        "EarlyStoppingCallback subclasses tf.keras.callbacks.Callback",
        True,
        False,
        observed["is_keras_callback"] is True,
    )
    seen = [float(value) for value in accuracies]
    stopped = observed["stopped"]
    expect_equal("number of epochs the callback saw", len(seen), len(stopped))
    for accuracy, stop in zip(seen, stopped, strict=True):
        stops = accuracy >= threshold
        if (at_threshold is None and accuracy != threshold) or stops == at_threshold:
            expect_equal(f"stop_training after an epoch with accuracy {accuracy:.4f}", stops, stop)
