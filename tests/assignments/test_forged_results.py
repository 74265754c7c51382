"""A student who controls everything inside the sandbox cannot forge, find or guess their way to points.

Each attack edits only the region between one exercise's START/END markers; the notebook's other
exercises keep the template's placeholders, so every point the attack earns would be forged.
"""

from collections.abc import Callable

import pytest
from attacks import with_region
from helpers import exercise_statuses

from grader import Catalog, GradeReport, SandboxPool, Status, grade_notebook

Attack = Callable[[str, str, str], GradeReport]


@pytest.fixture
def attack(catalog: Catalog, pool: SandboxPool) -> Attack:
    """Grades an assignment's template with `code` in place of one exercise's region."""

    def grade(slug: str, exercise: str, code: str) -> GradeReport:
        return grade_notebook(with_region(slug, exercise, code), catalog.get(slug), pool=pool)

    return grade


def assert_earns_nothing(report: GradeReport, ran: str | None = None) -> None:
    """No point at all; where `ran` is named, that exercise's code did run without an error."""
    if ran is not None:
        assert exercise_statuses(report)[ran] == "ok", report.exercises
    assert report.score == 0.0, [(check.name, check.message) for check in report.checks if check.passed]


# Everything the student's process may send, written by hand from inside a graded function: the
# runtime's own sender (found through the garbage collector) claims every cell finished, every
# observation with the values the old checks wanted, an untrained model for every export, then stops.
# The forged model is a real one, judged for what it is: its structure fits no exercise, so any point
# earned here would come from a forged claim.
FORGE_THROUGH_THE_GARBAGE_COLLECTOR = """
import gc, os, sys
import numpy as np
import tensorflow as tf
send = next(f for f in gc.get_objects() if callable(f) and getattr(f, "__name__", "") == "send"
            and getattr(f, "__module__", "") == "runtime")
runtime = sys.modules["runtime"]
for number in range(40):
    send({"event": "cell_started", "cell": number})
    send({"event": "cell_finished", "cell": number, "seconds": 1.0})
winning = {
    "epochs": 3, "is_keras_callback": True, "stopped": [True, True, True, False, False, False, False],
    "training_predictions": [0] * 4000, "probe_predictions": [0] * 500, "probe_outputs": [[0.0]] * 20 + [[1.0]] * 20,
    "layers": ["Conv2D", "MaxPooling2D", "Dense"], "output_shape": [8, 10], "loss": "sparse_categorical_crossentropy",
}
for name in ("training", "trained_model", "callback_reactions", "untrained_model", "compiled_model", "dataset_batches"):
    send({"event": "observation", "name": name, "value": winning})
fake = tf.keras.Sequential([tf.keras.Input(shape=(SHAPE)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])
described, weights = runtime.export_model(fake)
for name in ("untrained_model", "trained_model", "compiled_model"):
    send({"event": "model", "name": name, **described}, weights)
send({"event": "done"})
os._exit(0)
"""

FORGERIES = [
    ("c1w1-housing-prices", "train_model", "1,"),
    ("c1w2-mnist-callback", "train_mnist", "28, 28"),
    ("c1w3-mnist-convolutions", "convolutional_model", "28, 28, 1"),
    ("c1w4-happy-sad", "create_and_compile_model", "150, 150, 3"),
]


@pytest.mark.parametrize(("slug", "exercise", "shape"), FORGERIES)
def test_results_forged_through_the_garbage_collector_earn_nothing(
    attack: Attack, slug: str, exercise: str, shape: str
) -> None:
    report = attack(slug, exercise, FORGE_THROUGH_THE_GARBAGE_COLLECTOR.replace("SHAPE", shape))
    assert report.status is Status.GRADED, report.message
    assert_earns_nothing(report)


# The grader's own code, rebound through sys.modules: its observations and exports then send the
# student's values, and the run goes on to the end as if nothing happened.
FORGE_THROUGH_THE_RUNTIME_MODULE = """
import sys
import tensorflow as tf
runtime = sys.modules["runtime"]
honest_plain, honest_export = runtime.plain, runtime.export_model
def plain(value, arrays, depth=0):
    return {"epochs": 3, "is_keras_callback": True, "stopped": [True] * 7}
fake = tf.keras.Sequential([tf.keras.Input(shape=(28, 28)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])
runtime.plain = plain
runtime.export_model = lambda model: honest_export(fake)
history = tf.keras.callbacks.History()
history.epoch = [0, 1, 2]
history.set_model(fake)
"""


def test_results_forged_through_the_runtime_modules_globals_earn_nothing(attack: Attack) -> None:
    report = attack("c1w2-mnist-callback", "train_mnist", FORGE_THROUGH_THE_RUNTIME_MODULE)
    assert_earns_nothing(report, ran="train_mnist")


# The model comes out right only if no probe image, label or their source can be found from inside
# the sandbox: not in memory, not on any folder on sys.path, not in the data.
LOOKS_FOR_PROBES = """
import gc, os, sys
import numpy as np
found = [o.shape for o in gc.get_objects() if type(o) is np.ndarray and o.ndim >= 2 and o.shape[0] == 500]
for folder in [*sys.path, os.getcwd(), "/"]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if root != "/" or d not in ("proc", "sys")]
        found += [name for name in files if "mnist_5k" in name or name == "probes.npz"]
model = tf.keras.models.Sequential([
    tf.keras.Input(shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(8, activation="relu"),
    tf.keras.layers.Dense(10 if not found else 9, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""


def test_no_probe_digit_or_label_can_be_found_from_inside_the_sandbox(attack: Attack) -> None:
    report = attack("c1w2-mnist-callback", "create_and_compile_model", LOOKS_FOR_PROBES)
    earned = {
        check.name: check.points for check in report.checks if check.exercise == "create_and_compile_model"
    }
    assert earned == {"the model outputs 10 values per image": 2.0, "the loss fits integer labels": 1.0}, (
        report.metadata.get("output")
    )


# A callback that stops on the calls where the accuracies used to be at or above the threshold, without
# reading them: a fixed answer pattern, which inputs drawn fresh for each submission defeat.
COUNTS_INSTEAD_OF_READING = """
class EarlyStoppingCallback(tf.keras.callbacks.Callback):
    calls = [0]

    def on_epoch_end(self, epoch, logs=None):
        self.calls[0] += 1
        if self.calls[0] in (4, 5, 6):
            self.model.stop_training = True
"""


def test_a_callback_that_replays_a_fixed_pattern_earns_nothing(attack: Attack) -> None:
    report = attack("c1w2-mnist-callback", "EarlyStoppingCallback", COUNTS_INSTEAD_OF_READING)
    assert_earns_nothing(report, ran="EarlyStoppingCallback")


# Batches of the right shape, sizes, range and labels, made up instead of read from the data folder.
MADE_UP_DATASET = """
images = np.random.default_rng(0).uniform(0, 1, size=(80, 150, 150, 3)).astype("float32")
labels = np.array([0.0, 1.0] * 40, dtype="float32")
train_dataset_scaled = tf.data.Dataset.from_tensor_slices((images, labels)).batch(10)
"""


def test_a_dataset_not_read_from_the_data_folder_earns_nothing(attack: Attack) -> None:
    report = attack("c1w4-happy-sad", "training_dataset", MADE_UP_DATASET)
    assert_earns_nothing(report, ran="training_dataset")


# An honest mistake, not a forgery: a model far wider than the task. The evaluator refuses it and the
# student reads why; the grader does not fail, so nothing is retried.
FAR_TOO_WIDE = """
model = tf.keras.Sequential([tf.keras.Input((28, 28)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(40000)])
history = tf.keras.callbacks.History()
history.epoch = [0]
history.set_model(model)
"""


def test_a_model_too_large_to_evaluate_is_the_students_to_fix_not_a_grader_error(attack: Attack) -> None:
    report = attack("c1w2-mnist-callback", "train_mnist", FAR_TOO_WIDE)
    assert report.status is Status.GRADED, report.message
    accuracy = next(check for check in report.checks if check.name.endswith("never seen"))
    assert "far more than the exercise needs" in accuracy.message
