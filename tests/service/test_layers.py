import ast
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def imported_packages(package: str) -> set[str]:
    found = set()
    for path in (PROJECT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_dependencies_point_from_app_to_workers_to_grader() -> None:
    assert "app" not in imported_packages("workers")
    assert not {"app", "workers"} & imported_packages("grader")


def test_the_cli_starts_without_loading_the_web_stack_or_tensorflow() -> None:
    probe = "import sys, app.cli; print(sorted({'fastapi', 'sqlalchemy', 'celery', 'tensorflow'} & set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    assert loaded.stdout.strip() == "[]"
