"""The clean evaluator: rebuilds a student's exported model from data and predicts on hidden probes.

Standalone, like runtime.py: only the standard library, NumPy and Keras. It runs in a process forked
from the zygote that never ran student code, reads the model's architecture as plain JSON, builds only
allow-listed built-in layers with allow-listed arguments, and loads the weights as plain arrays. It never
hands a student's file to `keras.models.load_model`: Keras's safe mode has been bypassed repeatedly.
Anything outside the allow-list is refused with a reason, never loaded.
"""

import io
import json
import os
import sys
from typing import Any

import numpy

CHANNEL_FD = 3
MAX_LAYERS = 64
MAX_UNITS = 1 << 16
MAX_DIMENSION = 4096
MAX_NAME = 80
BATCH = 256
MAX_PREDICTION_BYTES = 64 * 1024**2
ACTIVATIONS = frozenset(
    "linear relu sigmoid softmax tanh elu selu softplus softsign swish silu gelu relu6 leaky_relu "
    "exponential hard_sigmoid mish log_softmax".split()
)
# TensorFlow's own functions (activation=tf.nn.softmax) are saved under their internal names.
TENSORFLOW_ALIASES = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax"}
PADDINGS = frozenset({"valid", "same"})
DATA_FORMATS = frozenset({"channels_last", "channels_first"})


class Refused(Exception):
    """The exported model is not something the evaluator builds; the message says why."""


def _int(value: object, what: str, low: int = 1, high: int = MAX_DIMENSION) -> int:
    if type(value) is not int or not low <= value <= high:
        raise Refused(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _float(value: object, what: str, low: float, high: float) -> float:
    if type(value) not in (int, float) or not low <= value <= high:  # type: ignore[operator]
        raise Refused(f"{what} must be a number from {low} to {high}, not {value!r}")
    return float(value)  # type: ignore[arg-type]


def _ints(value: Any, what: str, length: int) -> tuple[int, ...]:
    if type(value) is int:
        value = [value] * length
    if type(value) not in (list, tuple) or len(value) != length:
        raise Refused(f"{what} must be {length} whole numbers, not {value!r}")
    return tuple(_int(item, what) for item in value)


def _choice(value: object, what: str, allowed: frozenset) -> str:
    if type(value) is not str or value not in allowed:
        raise Refused(f"{what} {value!r} is not one of {sorted(allowed)}")
    return value


def _bool(value: object, what: str) -> bool:
    if type(value) is not bool:
        raise Refused(f"{what} must be True or False, not {value!r}")
    return value


def activation(value: object) -> str:
    """A built-in activation by name; Keras writes TensorFlow's own (tf.nn.relu) as a function dict."""
    if value is None:
        return "linear"
    if type(value) is dict and value.get("class_name") == "function":
        value = value.get("config")
        value = TENSORFLOW_ALIASES.get(value, value) if type(value) is str else value
    return _choice(value, "activation", ACTIVATIONS)


def _shape(value: Any, what: str) -> tuple[int | None, ...]:
    if type(value) not in (list, tuple) or not 2 <= len(value) <= 5:
        raise Refused(f"{what} {value!r} is not a shape the grader accepts")
    first, *rest = value
    if first is not None:
        raise Refused(f"{what} {value!r} fixes the batch size")
    return (None, *(_int(item, what) for item in rest))


def _layer(class_name: str, config: dict[str, Any]) -> Any:
    import keras

    get = config.get
    if class_name == "Dense":
        return keras.layers.Dense(
            _int(get("units"), "units of a Dense layer", high=MAX_UNITS),
            activation=activation(get("activation")),
            use_bias=_bool(get("use_bias", True), "use_bias"),
        )
    if class_name == "Flatten":
        return keras.layers.Flatten(data_format=_data_format(get("data_format")))
    if class_name == "Conv2D":
        return keras.layers.Conv2D(
            _int(get("filters"), "filters of a Conv2D layer", high=MAX_DIMENSION),
            _ints(get("kernel_size"), "kernel_size", 2),
            strides=_ints(get("strides", 1), "strides", 2),
            padding=_choice(get("padding", "valid"), "padding", PADDINGS),
            data_format=_data_format(get("data_format")),
            dilation_rate=_ints(get("dilation_rate", 1), "dilation_rate", 2),
            groups=_int(get("groups", 1), "groups"),
            activation=activation(get("activation")),
            use_bias=_bool(get("use_bias", True), "use_bias"),
        )
    if class_name in ("MaxPooling2D", "AveragePooling2D"):
        pool_size = _ints(get("pool_size", 2), "pool_size", 2)
        strides = get("strides")
        return getattr(keras.layers, class_name)(
            pool_size,
            strides=pool_size if strides is None else _ints(strides, "strides", 2),
            padding=_choice(get("padding", "valid"), "padding", PADDINGS),
            data_format=_data_format(get("data_format")),
        )
    if class_name in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return getattr(keras.layers, class_name)(
            data_format=_data_format(get("data_format")), keepdims=_bool(get("keepdims", False), "keepdims")
        )
    if class_name == "Dropout":
        return keras.layers.Dropout(_float(get("rate"), "rate of a Dropout layer", 0.0, 1.0))
    if class_name == "Rescaling":
        return keras.layers.Rescaling(
            _float(get("scale"), "scale", -1e6, 1e6), offset=_float(get("offset", 0.0), "offset", -1e6, 1e6)
        )
    if class_name == "Activation":
        return keras.layers.Activation(activation(get("activation")))
    if class_name == "ReLU":
        max_value = get("max_value")
        return keras.layers.ReLU(
            max_value=None if max_value is None else _float(max_value, "max_value", 0.0, 1e6),
            negative_slope=_float(get("negative_slope", 0.0), "negative_slope", 0.0, 1e6),
            threshold=_float(get("threshold", 0.0), "threshold", -1e6, 1e6),
        )
    if class_name == "LeakyReLU":
        return keras.layers.LeakyReLU(
            negative_slope=_float(get("negative_slope", 0.3), "negative_slope", 0.0, 1e6)
        )
    if class_name == "Softmax":
        return keras.layers.Softmax(axis=_int(get("axis", -1), "axis", low=-5, high=5))
    if class_name == "Reshape":
        target: Any = get("target_shape")
        if type(target) not in (list, tuple) or not 1 <= len(target) <= 4:
            raise Refused(f"target_shape {target!r} is not a shape the grader accepts")
        return keras.layers.Reshape(tuple(_int(item, "target_shape", low=-1) for item in target))
    if class_name == "BatchNormalization":
        return keras.layers.BatchNormalization(
            axis=_int(get("axis", -1), "axis", low=-5, high=5),
            momentum=_float(get("momentum", 0.99), "momentum", 0.0, 1.0),
            epsilon=_float(get("epsilon", 1e-3), "epsilon", 0.0, 1.0),
            center=_bool(get("center", True), "center"),
            scale=_bool(get("scale", True), "scale"),
        )
    raise Refused(f"the layer {class_name[:MAX_NAME]!r} is not one the grader accepts")


def _data_format(value: object) -> str:
    return "channels_last" if value is None else _choice(value, "data_format", DATA_FORMATS)


def build(exported: dict[str, Any]) -> Any:
    """The model the export describes, built from allow-listed parts; weights not yet loaded."""
    import keras

    if exported.get("class_name") != "Sequential":
        raise Refused(
            f"the grader accepts Sequential models, not {str(exported.get('class_name'))[:MAX_NAME]}"
        )
    config: Any = exported.get("config")
    layers: Any = config.get("layers") if type(config) is dict else None
    if type(layers) is not list or not 1 <= len(layers) <= MAX_LAYERS:
        raise Refused("the model has no layers, or too many")
    input_shape = config.get("build_input_shape")
    built = []
    for entry in layers:
        if type(entry) is not dict or type(entry.get("config")) is not dict:
            raise Refused("a layer of the model is not described")
        class_name = entry.get("class_name")
        if class_name == "InputLayer":
            layer_config = entry["config"]
            input_shape = layer_config.get("batch_shape", layer_config.get("batch_input_shape"))
            continue
        built.append(_layer(str(class_name), entry["config"]))
    if input_shape is None:
        raise Refused("the model has no input shape: give it a tf.keras.Input(shape=...) first")
    return keras.Sequential([keras.Input(batch_shape=_shape(input_shape, "the input shape")), *built])


def load_weights(model, data: bytes) -> None:
    with numpy.load(io.BytesIO(data), allow_pickle=False) as archive:
        names = [f"arr_{number}" for number in range(len(archive.files))]
        if sorted(names) != sorted(archive.files):
            raise Refused("the weights are not in the exported form")
        weights = [archive[name] for name in names]
    expected = [tuple(variable.shape) for variable in model.weights]
    found = [tuple(weight.shape) for weight in weights]
    if expected != found or any(weight.dtype.kind not in "biuf" for weight in weights):
        raise Refused(f"the weights do not fit the model: expected shapes {expected}, got {found}"[:2000])
    model.set_weights(
        [weight.astype(variable.dtype) for weight, variable in zip(weights, model.weights, strict=True)]
    )


def _name(value: object) -> str | None:
    """A loss's or metric's name from its compile config: a string, or a serialized object."""
    if type(value) is str:
        return value[:MAX_NAME]
    if type(value) is dict:
        config = value.get("config")
        if value.get("class_name") == "function" and type(config) is str:  # loss=tf.keras.losses.mse
            return config[:MAX_NAME]
        name = config.get("name") if type(config) is dict else None
        return str(name if type(name) is str else value.get("class_name"))[:MAX_NAME]
    return None


def summary(model: Any, exported: dict[str, Any]) -> dict[str, Any]:
    compiled: Any = exported.get("compile")
    compiled = compiled if type(compiled) is dict else {}
    loss = compiled.get("loss")
    loss_config = loss.get("config") if type(loss) is dict else None
    metrics = compiled.get("metrics")
    return {
        "layers": [_describe(layer) for layer in model.layers],
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
        "loss": _name(loss),
        "from_logits": type(loss_config) is dict and loss_config.get("from_logits") is True,
        "metrics": [name for name in map(_name, metrics if type(metrics) is list else []) if name],
        "optimizer": _name(compiled.get("optimizer")),
    }


def _describe(layer: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"class_name": type(layer).__name__}
    for attribute in ("units", "filters"):
        if hasattr(layer, attribute):
            described[attribute] = int(getattr(layer, attribute))
    if hasattr(layer, "activation"):
        described["activation"] = getattr(layer.activation, "__name__", str(layer.activation))
    return described


def predict(model, probes: dict, names: list) -> bytes:
    """Eager calls in batches: for a few hundred probes, cheaper than tracing `model.predict`'s graph."""
    outputs_per_row = int(numpy.prod([dimension or 1 for dimension in model.output_shape[1:]]))
    rows = sum(len(probes[name]) for name in names)
    if rows * outputs_per_row * 4 > MAX_PREDICTION_BYTES:
        raise Refused(
            f"the model outputs {outputs_per_row} values per input, far more than the exercise needs"
        )
    buffer = io.BytesIO()
    predictions = {}
    for name in names:
        inputs = probes[name]
        batches = [
            model(inputs[start : start + BATCH], training=False) for start in range(0, len(inputs), BATCH)
        ]
        predictions[name] = numpy.concatenate(
            [numpy.asarray(batch, dtype=numpy.float32) for batch in batches]
        )
    numpy.savez(buffer, **predictions)  # type: ignore[arg-type]
    return buffer.getvalue()


def send(message: dict, payload: bytes = b"") -> None:
    if payload:
        message = {**message, "payload": len(payload)}
    data = memoryview((json.dumps(message) + "\n").encode() + payload)
    while data:
        data = data[os.write(CHANNEL_FD, data) :]


def evaluate(header: dict, blobs: dict) -> None:
    with numpy.load(io.BytesIO(blobs["probes"]), allow_pickle=False) as archive:
        probes = {name: archive[name] for name in archive.files}
    for model_job in header["models"]:
        name = model_job["name"]
        try:
            model = build(model_job["exported"])
            load_weights(model, blobs[f"weights:{name}"])
            described = summary(model, model_job["exported"])
            predictions = predict(model, probes, model_job["probes"])
        except Refused as refusal:
            send({"event": "refused", "name": name, "reason": str(refusal)[:2000]})
        except Exception as error:  # noqa: BLE001 - a model the allow-list admits may still not run
            send({"event": "refused", "name": name, "reason": f"{type(error).__name__}: {error}"[:2000]})
        else:
            send({"event": "evaluated", "name": name, "summary": described}, predictions)


def run(header: dict, blobs: dict) -> None:
    import resource

    import tensorflow as tf

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    tf.config.threading.set_intra_op_parallelism_threads(header["threads"])
    os.chdir("/")
    evaluate(header, blobs)
    send({"event": "done"})
    sys.stdout.flush()
    os._exit(0)
