"""data/ and hidden/ are those of assignments/c1w4-happy-sad, drawn by its build_data.py: this script copies them.

`.venv/bin/python assignments/c1w4-happy-sad-imagedatagenerator/build_data.py`
"""

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "c1w4-happy-sad"


def main() -> None:
    for folder in ("data", "hidden"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
        shutil.copytree(SOURCE / folder, HERE / folder)


if __name__ == "__main__":
    main()
