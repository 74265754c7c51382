"""A course-style week-2 assignment written for the runtime tests: the course's notebook loads a shipped
data/mnist.npz (here a tiny one made by `tiny_mnist`), and one graded function builds the model.

`DATA_CELLS["course"]` is the course's own frozen cell (C1W2_Assignment, TensorFlow 2.16.1): it hands the
file's path to `tf.keras.datasets.mnist.load_data`, which newer Keras refuses. Keras 3.3.3 accepts the path
but checks the file against the sha256 of the full MNIST file, which no tiny file matches; so the tests read
the tiny file with `DATA_CELLS["numpy"]` wherever the grading must succeed.
"""

import json
from pathlib import Path

import numpy as np

TRAIN, TEST = 40, 8
DATA_CELLS = {
    "course": (
        "# Get current working directory\n"
        "current_dir = os.getcwd()\n\n"
        "# Append data/mnist.npz to the previous path to get the full path\n"
        'data_path = os.path.join(current_dir, "data/mnist.npz")\n\n'
        "# Load data (discard test set)\n"
        "(training_images, training_labels), _ = tf.keras.datasets.mnist.load_data(path=data_path)"
    ),
    "numpy": (
        'data_path = os.path.join(os.getcwd(), "data/mnist.npz")\n'
        "with np.load(data_path) as mnist:\n"
        '    training_images, training_labels = mnist["x_train"], mnist["y_train"]'
    ),
}
IMPORTS = "import os\nimport numpy as np\nimport tensorflow as tf"
SCALES = "training_images = training_images / 255.0"
MODEL = """# GRADED FUNCTION: create_and_compile_model

def create_and_compile_model():
    ### START CODE HERE ###{student_code}
    model = tf.keras.models.Sequential([
        {layers}
    ])
    ### END CODE HERE ###
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model"""
SOLUTION_LAYERS = (
    "tf.keras.Input(shape=(28, 28)),\n"
    "        tf.keras.layers.Flatten(),\n"
    '        tf.keras.layers.Dense(10, activation="softmax"),'
)
CHECKS = f"""
from grader.authoring import CheckContext, check, expect_equal, export_model, observe


@observe("create_and_compile_model")
def loaded(ns, inputs):
    images = ns["training_images"]
    return {{"shape": list(images.shape), "largest": float(images.max())}}


@export_model("create_and_compile_model")
def untrained_model(ns):
    return ns["create_and_compile_model"]()


@check("create_and_compile_model", "the model outputs 10 values per image", points=2)
def ten_outputs(ctx: CheckContext) -> None:
    expect_equal("output shape of the model", [None, 10], ctx.model("untrained_model").output_shape)


@check("create_and_compile_model", "the training images are the shipped ones, scaled", points=1)
def shipped_images(ctx: CheckContext) -> None:
    observed = ctx.observation("loaded")
    expect_equal("shape of the training images", [{TRAIN}, 28, 28], observed["shape"])
    expect_equal("largest pixel", 1.0, observed["largest"])
"""
FULL_MARKS = {
    "the model outputs 10 values per image": 2.0,
    "the training images are the shipped ones, scaled": 1.0,
}


def tiny_mnist(path: Path) -> None:
    """An npz laid out like Keras's mnist.npz, with a few random digits; the brightest pixel is 255."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(TRAIN + TEST, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 255
    labels = rng.integers(0, 10, size=TRAIN + TEST, dtype=np.uint8)
    np.savez_compressed(
        path, x_train=images[:TRAIN], y_train=labels[:TRAIN], x_test=images[TRAIN:], y_test=labels[TRAIN:]
    )


def write_assignment(root: Path, slug: str, data_cell: str, runtime: str | None) -> Path:
    """The assignment `slug` in `root`, readable by the sandbox user, graded in `runtime`."""
    folder = root / slug
    (folder / "data").mkdir(mode=0o755, parents=True)
    tiny_mnist(folder / "data" / "mnist.npz")
    (folder / "data" / "mnist.npz").chmod(0o644)
    runtime_line = f'runtime = "{runtime}"\n' if runtime else ""
    (folder / "assignment.toml").write_text(
        f'slug = "{slug}"\ntitle = "Course-style week 2"\nversion = "1"\ngrader_version = "1"\n{runtime_line}\n'
        "[limits]\nwall_seconds = 120\ncpu_seconds = 240\nmemory_mb = 2048\n\n"
        '[[exercises]]\nname = "create_and_compile_model"\npoints = 3\n'
    )
    (folder / "checks.py").write_text(CHECKS)
    for name, layers in (("solution", SOLUTION_LAYERS), ("template", "None")):
        (folder / f"{name}.ipynb").write_text(json.dumps(notebook(data_cell, layers)))
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def notebook(data_cell: str, layers: str, student_code: str = "") -> dict:
    """The notebook with this data cell, the model of these layers, and `student_code` before them."""
    frozen = {"deletable": False, "editable": False}
    cells = [
        _cell(IMPORTS, frozen),
        _cell(data_cell, frozen),
        _cell(SCALES, frozen),
        _cell(
            MODEL.format(layers=layers, student_code=f"\n    {student_code}" if student_code else ""),
            {"deletable": False, "tags": ["graded"]},
        ),
    ]
    return {
        "cells": cells,
        "metadata": {"grader_version": "1", "kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _cell(source: str, metadata: dict) -> dict:
    return {
        "cell_type": "code",
        "metadata": metadata,
        "source": source,
        "outputs": [],
        "execution_count": None,
    }
