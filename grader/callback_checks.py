"""Judging a student's early-stopping callback by its answers to accuracies drawn fresh per submission.

The course asks for such a callback in several weeks; each assignment registers `callback_reactions` as
its observation and judges the answers with `expect_callback_reactions`.
"""

import numpy as np

from grader.authoring import expect, expect_equal

# Twelve answers above the threshold among twenty-three: a callback that stops after fixed epochs instead
# of reading the accuracy gets them all right about once in a million submissions.
ABOVE = 12
BELOW_NEAR = 10


def threshold_accuracies(rng: np.random.Generator, threshold: float, spread: float) -> np.ndarray:
    """The threshold itself, accuracies above it and below it (within `spread`, at most 1.0) and one far
    below, in an order no one can learn."""
    signs = np.concatenate([np.ones(ABOVE), -np.ones(BELOW_NEAR)])
    near = np.minimum(threshold + rng.uniform(0.0001, spread, size=signs.size) * signs, 1.0)
    return rng.permutation(np.concatenate([[threshold], near, rng.uniform(0.2, 0.9, size=1)]))


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
    observed: dict, accuracies: np.ndarray, threshold: float, include_threshold: bool
) -> None:
    """The callback's answers to every fresh accuracy, the threshold itself only if `include_threshold`.

    Answers above and below are judged together: a callback that never stops lets training go on below
    the threshold too, and earns nothing for it."""
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
        if include_threshold or accuracy != threshold:
            expect_equal(
                f"stop_training after an epoch with accuracy {accuracy:.4f}", accuracy >= threshold, stop
            )
