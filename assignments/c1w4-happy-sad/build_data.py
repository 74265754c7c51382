"""Draws the happy and sad faces: data/happy, data/sad (40 PNGs each) and hidden/probes.npz.

Each face varies in position, size, skin and background colour, eye size, mouth width and thickness,
tilt and pixel noise; only the mouth's curve (smile or frown) tells the classes apart. The probes are
drawn the same way from another seed and never enter data/. Fixed seeds make the output reproducible:
`.venv/bin/python assignments/c1w4-happy-sad/build_data.py`.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 150
CLASSES = ("happy", "sad")  # image_dataset_from_directory's label order: happy = 0, sad = 1
TRAINING_PER_CLASS, PROBES_PER_CLASS = 40, 20
PROBE_ORDER_SEED = 4444


def random_colour(rng: np.random.Generator, low: int, high: int) -> tuple[int, int, int]:
    red, green, blue = (int(value) for value in rng.integers(low, high, size=3))
    return red, green, blue


def draw_face(rng: np.random.Generator, happy: bool) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), random_colour(rng, 60, 256))
    draw = ImageDraw.Draw(image)
    radius = int(rng.integers(45, 65))
    cx, cy = (int(value) for value in rng.integers(radius + 4, SIZE - radius - 4, size=2))
    draw.ellipse(
        (cx - radius, cy - radius, cx + radius, cy + radius),
        fill=random_colour(rng, 150, 256),
        outline=(0, 0, 0),
        width=int(rng.integers(1, 4)),
    )
    eye_gap, eye_height, eye_size = (
        radius * rng.uniform(0.3, 0.45),
        radius * 0.3,
        radius * rng.uniform(0.08, 0.16),
    )
    for side in (-1, 1):
        ex, ey = cx + side * eye_gap, cy - eye_height
        draw.ellipse((ex - eye_size, ey - eye_size, ex + eye_size, ey + eye_size), fill=(0, 0, 0))
    half_width, depth = radius * rng.uniform(0.45, 0.65), radius * rng.uniform(0.3, 0.45)
    mouth_y = cy + radius * rng.uniform(0.3, 0.45)
    box = (cx - half_width, mouth_y - depth, cx + half_width, mouth_y + depth)
    start, end = (10, 170) if happy else (190, 350)
    if not happy:
        box = (box[0], box[1] + depth, box[2], box[3] + depth)
    draw.arc(box, start, end, fill=random_colour(rng, 0, 90), width=int(rng.integers(8, 13)))
    tilted = image.rotate(
        float(rng.uniform(-10, 10)), resample=Image.BILINEAR, fillcolor=image.getpixel((0, 0))
    )
    noise = rng.normal(0, 6, size=(SIZE, SIZE, 3))
    return Image.fromarray(np.clip(np.asarray(tilted) + noise, 0, 255).astype(np.uint8))


def main() -> None:
    training = np.random.default_rng(4)
    for label in CLASSES:
        folder = HERE / "data" / label
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(TRAINING_PER_CLASS):
            draw_face(training, label == "happy").save(folder / f"{label}-{index + 1:02d}.png", optimize=True)
    probes = np.random.default_rng(44)
    labels = [index for index, _ in enumerate(CLASSES) for _ in range(PROBES_PER_CLASS)]
    images = [np.asarray(draw_face(probes, label == 0)) for label in labels]
    order = np.random.default_rng(PROBE_ORDER_SEED).permutation(len(labels))  # no order gives labels away
    np.savez_compressed(
        HERE / "hidden" / "probes.npz",
        images=np.stack(images)[order],
        labels=np.array(labels, np.uint8)[order],
    )


if __name__ == "__main__":
    main()
