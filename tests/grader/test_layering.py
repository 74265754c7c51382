import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[2] / "grader"


def test_the_grading_core_imports_nothing_from_the_service() -> None:
    offenders = []
    for path in GRADER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in ("app", "workers")
            ]
    assert offenders == []


@pytest.mark.parametrize("module", ["runtime.py", "zygote.py", "evaluator.py"])
def test_the_sandbox_side_needs_nothing_but_the_standard_library_numpy_and_keras(module: str) -> None:
    tree = ast.parse((GRADER / "sandbox" / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "grader" not in imported
    assert imported <= {
        "builtins",
        "ctypes",
        "io",
        "json",
        "os",
        "resource",
        "runtime",
        "evaluator",
        "signal",
        "socket",
        "sys",
        "time",
        "traceback",
        "typing",
        "numpy",
        "tensorflow",
        "keras",
    }


def test_the_clean_evaluator_never_loads_a_model_file() -> None:
    source = (GRADER / "sandbox" / "evaluator.py").read_text()
    for call in ("load_model", "model_from_json", "deserialize_keras_object", "from_config", "pickle"):
        assert f"{call}(" not in source
