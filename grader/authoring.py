"""The API that an assignment's `checks.py` is written against.

Observations and model exports run inside the student's sandbox and must be self-contained functions:
they import what they need in their own body. An observation receives the student's namespace and the
inputs drawn fresh for this submission (`fresh_inputs`) and returns plain data or NumPy arrays; an export
returns a Keras model, which a clean evaluator rebuilds from its architecture and weights and runs on
the hidden probe inputs (`probe_inputs`), which never enter the student's sandbox. Checks run outside
every sandbox on that evidence, next to expected values no sandbox sees. Whatever the student's process
reports can be forged there; a check believes it only where forging costs as much as doing the work.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ObservationFunction = Callable[[dict[str, Any], dict[str, Any]], Any]
ExportFunction = Callable[[dict[str, Any]], Any]
CheckFunction = Callable[["CheckContext"], None]


@dataclass(frozen=True)
class Observation:
    name: str
    exercise: str
    function: ObservationFunction


@dataclass(frozen=True)
class ModelExport:
    name: str
    exercise: str
    function: ExportFunction
    probes: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    name: str
    exercise: str
    function: CheckFunction
    points: float | None
    hidden: bool


ProbeInputs = Callable[[Path], dict[str, np.ndarray]]
FreshInputs = Callable[[np.random.Generator], dict[str, np.ndarray]]


@dataclass
class Registry:
    observations: list[Observation] = field(default_factory=list)
    exports: list[ModelExport] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    probe_inputs: ProbeInputs | None = None
    fresh_inputs: FreshInputs | None = None


_current_registry = Registry()


def collect(run_module: Callable[[], None]) -> Registry:
    """Run the code of a checks module and return what its decorators registered."""
    global _current_registry
    previous, _current_registry = _current_registry, Registry()
    try:
        run_module()
        return _current_registry
    finally:
        _current_registry = previous


def observe(exercise: str) -> Callable[[ObservationFunction], ObservationFunction]:
    def register(function: ObservationFunction) -> ObservationFunction:
        _current_registry.observations.append(Observation(function.__name__, exercise, function))
        return function

    return register


def export_model(
    exercise: str, *, probes: tuple[str, ...] = ()
) -> Callable[[ExportFunction], ExportFunction]:
    """The function returns one of the student's Keras models; the evaluator predicts on `probes`."""

    def register(function: ExportFunction) -> ExportFunction:
        _current_registry.exports.append(ModelExport(function.__name__, exercise, function, probes))
        return function

    return register


def check(
    exercise: str, name: str, *, points: float | None = None, hidden: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        _current_registry.checks.append(Check(name, exercise, function, points, hidden))
        return function

    return register


class CheckFailed(Exception):
    def __init__(self, what: str, expected: object, got: object) -> None:
        super().__init__(f"Failed test case: {what}. Expected: {expected}, but got: {got}.")


class ObservationUnavailable(Exception):
    """The evidence a check needs was not produced (the student's code failed before it)."""


@dataclass(frozen=True)
class ModelEvidence:
    """What the clean evaluator found in an exported model: its structure, and its predictions."""

    layers: list[dict[str, Any]]
    input_shape: list[int | None]
    output_shape: list[int | None]
    loss: str | None
    from_logits: bool
    metrics: list[str]
    optimizer: str | None
    predictions: dict[str, np.ndarray]

    @property
    def layer_classes(self) -> list[str]:
        return [str(layer["class_name"]) for layer in self.layers]


@dataclass(frozen=True)
class CheckContext:
    observations: dict[str, Any]
    observation_errors: dict[str, str]
    assignment_dir: Path
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    models: dict[str, ModelEvidence] = field(default_factory=dict)
    model_errors: dict[str, str] = field(default_factory=dict)

    def observation(self, name: str) -> Any:
        """What the student's process reported: believe it only where forging costs as much as earning."""
        if name in self.observation_errors:
            raise ObservationUnavailable(self.observation_errors[name])
        if name not in self.observations:
            raise ObservationUnavailable(f"the observation '{name}' was not produced")
        return self.observations[name]

    def model(self, name: str) -> ModelEvidence:
        """The evaluator's evidence about the model the export `name` returned."""
        if name in self.model_errors:
            raise ObservationUnavailable(self.model_errors[name])
        if name not in self.models:
            raise ObservationUnavailable(f"the model '{name}' was not exported")
        return self.models[name]

    @property
    def hidden_dir(self) -> Path:
        return self.assignment_dir / "hidden"


def expect(what: str, expected: object, got: object, passed: bool) -> None:
    if not passed:
        raise CheckFailed(what, expected, got)


def expect_equal(what: str, expected: object, got: object) -> None:
    expect(what, expected, got, type(got) is type(expected) and got == expected)


def expect_close(what: str, expected: float, got: object, tolerance: float) -> None:
    passed = (
        isinstance(got, int | float)
        and not isinstance(got, bool)
        and math.isfinite(got)
        and abs(got - expected) <= tolerance
    )
    expect(what, f"{expected} ± {tolerance}", got, passed)
