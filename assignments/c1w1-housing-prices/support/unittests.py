"""A stand-in for the course's own `unittests` module (which is not public), for the notebook's test cells.

Each test prints "All tests passed!" or one "Failed test case" per problem, and never raises, so a wrong
answer does not stop the notebook. It tells the student only what the notebook's own text already says.
What it prints earns nothing: tfgrade's checks decide the score.
"""

from typing import Any

import numpy as np
import tensorflow as tf

ALL_PASSED = "All tests passed!"
FLOAT_DTYPE = "a float dtype (float64 or float32)"
MSE_NAMES = ("mse", "mean_squared_error")


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


def test_create_training_data(create_training_data: Any) -> None:
    failures = _Failures()
    try:
        _check_training_data(create_training_data, failures)
    except Exception as error:
        failures.expect(False, "create_training_data could not be tested", "no exception", _raised(error))
    failures.print()


def _check_training_data(create_training_data: Any, failures: _Failures) -> None:
    try:
        returned = create_training_data()
    except Exception as error:
        failures.expect(False, "create_training_data raised an exception", "no exception", _raised(error))
        return
    if not failures.expect(
        isinstance(returned, tuple) and len(returned) == 2,
        "create_training_data did not return two values",
        "n_bedrooms, price_in_hundreds_of_thousands",
        type(returned).__name__,
    ):
        return
    stated = {
        "n_bedrooms": ("the number of bedrooms of houses with 1 up to 6 bedrooms, in ascending order", 1.0, 1.0),
        "price_in_hundreds_of_thousands": (
            "the prices in hundreds of thousands (1.0 means 100k): 100k for 1 bedroom, 50k more per bedroom",
            1.0,
            0.5,
        ),
    }
    for value, (name, (meaning, first, step)) in zip(returned, stated.items(), strict=True):
        if not failures.expect(
            isinstance(value, np.ndarray), f"{name} is not a numpy array", "numpy.ndarray", type(value).__name__
        ):
            continue
        if not failures.expect(value.shape == (6,), f"{name} has the wrong shape", "(6,)", value.shape):
            continue
        failures.expect(
            np.issubdtype(value.dtype, np.floating), f"{name} has the wrong dtype", FLOAT_DTYPE, value.dtype
        )
        if np.issubdtype(value.dtype, np.number):
            wanted = first + step * np.arange(6)
            failures.expect(
                bool(np.allclose(value, wanted)), f"{name} has the wrong values", meaning, value.tolist()
            )


def test_define_and_compile_model(define_and_compile_model: Any) -> None:
    failures = _Failures()
    try:
        _check_model(define_and_compile_model, failures)
    except Exception as error:
        failures.expect(False, "define_and_compile_model could not be tested", "no exception", _raised(error))
    failures.print()


def _check_model(define_and_compile_model: Any, failures: _Failures) -> None:
    try:
        model = define_and_compile_model()
    except Exception as error:
        failures.expect(False, "define_and_compile_model raised an exception", "no exception", _raised(error))
        return
    if not failures.expect(
        isinstance(model, tf.keras.Model), "the model is not a Keras model", "tf.keras.Model", type(model).__name__
    ):
        return
    layers = [type(layer).__name__ for layer in model.layers]
    if failures.expect(layers == ["Dense"], "the model has the wrong layers", "a single Dense layer", layers):
        failures.expect(model.layers[0].units == 1, "the Dense layer has the wrong number of units", "1", model.layers[0].units)
    try:
        input_shape = tuple(model.input_shape)
    except Exception as error:
        input_shape = _raised(error)
    failures.expect(input_shape == (None, 1), "the model has the wrong input shape", "(None, 1)", input_shape)
    optimizer = getattr(model, "optimizer", None)
    failures.expect(
        isinstance(optimizer, tf.keras.optimizers.SGD),
        "the model is not compiled with the right optimizer",
        "Stochastic Gradient Descent (SGD)",
        type(optimizer).__name__ if optimizer is not None else "not compiled",
    )
    loss = getattr(model, "loss", None)
    failures.expect(_is_mse(loss), "the model is not compiled with the right loss", "Mean Squared Error", loss)


def _is_mse(loss: object) -> bool:
    if isinstance(loss, str):
        return loss.lower() in MSE_NAMES
    if isinstance(loss, tf.keras.losses.MeanSquaredError):
        return True
    return getattr(loss, "__name__", None) in MSE_NAMES


def test_trained_model(trained_model: Any) -> None:
    failures = _Failures()
    try:
        _check_trained_model(trained_model, failures)
    except Exception as error:
        failures.expect(False, "the trained model could not be tested", "no exception", _raised(error))
    failures.print()


def _check_trained_model(trained_model: Any, failures: _Failures) -> None:
    if not failures.expect(
        isinstance(trained_model, tf.keras.Model),
        "train_model did not return a Keras model",
        "tf.keras.Model",
        type(trained_model).__name__,
    ):
        return
    history = getattr(trained_model, "history", None)
    epochs = len(history.epoch) if history is not None and hasattr(history, "epoch") else "no training"
    failures.expect(epochs == 500, "the model was trained for the wrong number of epochs", "500", epochs)
    predicted = float(np.asarray(trained_model.predict(np.array([7.0]), verbose=False)).ravel()[0])
    failures.expect(
        abs(predicted - 4.0) <= 0.25,
        "the prediction for a 7-bedroom house is too far from 4",
        "a price close to 4 (hundreds of thousands of dollars)",
        round(predicted, 2),
    )
