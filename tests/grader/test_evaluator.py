"""The clean evaluator builds only allow-listed layers from plain data, and refuses everything else."""

import io
import json
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from grader.sandbox import evaluator


def exported(model: tf.keras.Model) -> tuple[dict[str, Any], bytes]:
    """A model as the student's process exports it: JSON through a round trip, weights in an .npz."""
    weights = io.BytesIO()
    np.savez(weights, *model.get_weights())
    description = {
        "class_name": type(model).__name__,
        "config": json.loads(json.dumps(model.get_config(), default=str)),
        "compile": json.loads(json.dumps(model.get_compile_config(), default=str)),
    }
    return description, weights.getvalue()


def rebuilt(description: dict[str, Any], weights: bytes) -> tf.keras.Model:
    model = evaluator.build(description)
    evaluator.load_weights(model, weights)
    return model


def test_a_sequential_model_of_built_in_layers_predicts_as_the_student_trained_it() -> None:
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(6, 6, 1)),
            tf.keras.layers.Conv2D(2, (3, 3), activation=tf.nn.relu),
            tf.keras.layers.MaxPooling2D(2, 2),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(4, activation="relu"),
            tf.keras.layers.BatchNormalization(),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(3, activation=tf.nn.softmax),
        ]
    )
    model.compile(
        optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"]
    )
    inputs = np.random.default_rng(0).uniform(size=(4, 6, 6, 1)).astype(np.float32)
    description, weights = exported(model)
    copy = rebuilt(description, weights)
    np.testing.assert_allclose(copy.predict(inputs, verbose=0), model.predict(inputs, verbose=0), rtol=1e-5)
    summary = evaluator.summary(copy, description)
    assert summary["loss"] == "sparse_categorical_crossentropy"
    assert summary["metrics"] == ["accuracy"]
    assert [layer["class_name"] for layer in summary["layers"]] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "BatchNormalization",
        "Dropout",
        "Dense",
    ]
    assert summary["layers"][-1]["activation"] == "softmax"
    assert summary["output_shape"] == [None, 3]


@pytest.mark.parametrize(
    ("layer", "reason"),
    [
        (tf.keras.layers.Lambda(lambda x: x * 2), "'Lambda' is not one the grader accepts"),
        (tf.keras.layers.Dense(2, activation=lambda x: x), "activation"),
        (tf.keras.layers.Dense(2, activation="relu", kernel_initializer="zeros"), None),
    ],
)
@pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`:UserWarning")
def test_layers_and_arguments_outside_the_allow_list_are_refused(layer: Any, reason: str | None) -> None:
    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), layer])
    description, weights = exported(model)
    if reason is None:  # initializers do not matter: the weights are loaded, not drawn
        rebuilt(description, weights)
        return
    with pytest.raises(evaluator.Refused, match=reason):
        rebuilt(description, weights)


def test_a_forged_description_never_reaches_keras_deserialization() -> None:
    description, weights = exported(
        tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
    )
    description["config"]["layers"][1] = {
        "module": "builtins",
        "class_name": "function",
        "config": {"module": "os", "function": "system"},
        "registered_name": "function",
    }
    with pytest.raises(evaluator.Refused, match="not one the grader accepts"):
        rebuilt(description, weights)
    with pytest.raises(evaluator.Refused, match="Sequential"):
        evaluator.build({**description, "class_name": "Functional"})


def test_weights_must_fit_the_model_and_are_never_unpickled() -> None:
    description, _ = exported(tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)]))
    wrong = io.BytesIO()
    np.savez(wrong, np.zeros((3, 1)), np.zeros(1))
    with pytest.raises(evaluator.Refused, match="do not fit"):
        rebuilt(description, wrong.getvalue())
    pickled = io.BytesIO()
    np.savez(pickled, np.array([object()], dtype=object), np.zeros(1))
    with pytest.raises(ValueError, match="pickle"):
        rebuilt(description, pickled.getvalue())


def test_sizes_beyond_the_limits_are_refused_before_anything_is_allocated() -> None:
    description, weights = exported(
        tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
    )
    description["config"]["layers"][1]["config"]["units"] = 10**9
    with pytest.raises(evaluator.Refused, match="units"):
        rebuilt(description, weights)
