import importlib.util
import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from grader.authoring import Registry, collect
from grader.notebook import read_notebook
from grader.runtimes import find_runtime
from grader.support import SUPPORT_FOLDER

ScorePolicy = Literal["best", "latest"]
TEMPLATE_MAX_BYTES = 50 * 1024**2


class AssignmentError(Exception):
    """An assignment folder that cannot be used (missing file, bad toml, unknown slug)."""


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300.0
    cpu_seconds: float = 600.0
    memory_mb: int = 2048
    processes: int = 256
    file_size_mb: int = 64
    output_kb: int = 256


@dataclass(frozen=True)
class Exercise:
    name: str
    points: float


@dataclass(frozen=True)
class Assignment:
    slug: str
    title: str
    version: str
    grader_version_in_toml: str | None
    score_policy: ScorePolicy
    cooldown_seconds: int
    limits: Limits
    exercises: tuple[Exercise, ...]
    directory: Path
    runtime: str | None = None  # the locked environment it is graded in (grader/runtimes.py); None: .venv's

    @property
    def template_path(self) -> Path:
        return self.directory / "template.ipynb"

    @property
    def solution_path(self) -> Path:
        return self.directory / "solution.ipynb"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def support_dir(self) -> Path:
        """Files placed read-only beside the notebook in the sandbox (grader/support.py)."""
        return self.directory / SUPPORT_FOLDER

    @property
    def max_score(self) -> float:
        return sum(exercise.points for exercise in self.exercises)

    @cached_property
    def grader_version(self) -> str | None:
        """The version a student's notebook must carry in its metadata: assignment.toml's, or else the
        template's. None for a template without one, as older course notebooks are: then none is checked."""
        if self.grader_version_in_toml is not None:
            return self.grader_version_in_toml
        return read_notebook(self.template_path.read_bytes(), max_bytes=TEMPLATE_MAX_BYTES).grader_version

    @cached_property
    def registry(self) -> Registry:
        return load_checks(self.directory / "checks.py", self.slug)


def default_assignments_root() -> Path:
    configured = os.environ.get("TFGRADE_ASSIGNMENTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "assignments"


def load_assignment(directory: Path) -> Assignment:
    config_path = directory / "assignment.toml"
    try:
        config = tomllib.loads(config_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AssignmentError(f"{config_path}: {error}") from error
    for required in ("template.ipynb", "checks.py"):
        if not (directory / required).is_file():
            raise AssignmentError(f"{directory}: missing {required}")
    try:
        return Assignment(
            slug=config["slug"],
            title=config["title"],
            version=str(config.get("version", "1")),
            grader_version_in_toml=str(config["grader_version"]) if "grader_version" in config else None,
            score_policy=config.get("score_policy", "best"),
            cooldown_seconds=int(config.get("cooldown_seconds", 0)),
            limits=Limits(**config.get("limits", {})),
            exercises=tuple(
                Exercise(name=item["name"], points=float(item["points"])) for item in config["exercises"]
            ),
            directory=directory.resolve(),
            runtime=_runtime(config, config_path),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise AssignmentError(f"{config_path}: invalid or missing field {error}") from error


def _runtime(config: dict[str, Any], config_path: Path) -> str | None:
    """The runtime the assignment names, refused here if no lock defines it; whether it is built is the
    validation's question (an unbuilt runtime stops its own assignment's grading, not the catalog)."""
    if "runtime" not in config:
        return None
    try:
        return find_runtime(config["runtime"]).name
    except ValueError as error:
        raise AssignmentError(f"{config_path}: {error}") from None


def load_checks(path: Path, slug: str) -> Registry:
    spec = importlib.util.spec_from_file_location(f"tfgrade_checks.{slug.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    try:
        registry = collect(lambda: loader.exec_module(module))
    except Exception as error:
        raise AssignmentError(f"{path}: {type(error).__name__}: {error}") from error
    registry.probe_inputs = getattr(module, "probe_inputs", None)
    registry.fresh_inputs = getattr(module, "fresh_inputs", None)
    return registry


class Catalog:
    """The assignments found in one folder, keyed by slug."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_assignments_root()

    @cached_property
    def assignments(self) -> dict[str, Assignment]:
        found = (load_assignment(path.parent) for path in sorted(self.root.glob("*/assignment.toml")))
        return {assignment.slug: assignment for assignment in found}

    def get(self, slug: str) -> Assignment:
        try:
            return self.assignments[slug]
        except KeyError:
            known = ", ".join(sorted(self.assignments))
            raise AssignmentError(f"unknown assignment '{slug}'; the assignments are: {known}") from None

    def data_dirs(self) -> dict[str, Path]:
        return {slug: a.data_dir for slug, a in self.assignments.items() if a.data_dir.is_dir()}

    def runtimes(self) -> list[str | None]:
        """The runtimes its assignments are graded in, the default one (None) first; None alone when empty."""
        named = {assignment.runtime for assignment in self.assignments.values()}
        return sorted(named or {None}, key=lambda name: (name is not None, name or ""))

    def support_dirs(self) -> dict[str, Path]:
        return {
            slug: a.support_dir
            for slug, a in self.assignments.items()
            if a.support_dir.is_dir() and not a.support_dir.is_symlink()
        }
