"""The API that an assignment's `checks.py` is written against.

Observations run inside the sandbox and must be self-contained functions: they import what they
need in their own body and receive the student's namespace and the probe inputs. Checks run outside
the sandbox on the JSON the observations returned, next to expected values the sandbox never sees.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ObservationFunction = Callable[[dict[str, Any], dict[str, Any]], Any]
CheckFunction = Callable[["CheckContext"], None]


@dataclass(frozen=True)
class Observation:
    name: str
    exercise: str
    function: ObservationFunction


@dataclass(frozen=True)
class Check:
    name: str
    exercise: str
    function: CheckFunction
    points: float | None
    hidden: bool


ProbeInputs = Callable[[Path], dict[str, Any]]


@dataclass
class Registry:
    observations: list[Observation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    probe_inputs: ProbeInputs | None = None


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
    """The observation a check needs was not produced (the student's code failed before it)."""


@dataclass(frozen=True)
class CheckContext:
    observations: dict[str, Any]
    observation_errors: dict[str, str]
    assignment_dir: Path

    def observation(self, name: str) -> Any:
        if name in self.observation_errors:
            raise ObservationUnavailable(self.observation_errors[name])
        if name not in self.observations:
            raise ObservationUnavailable(f"the observation '{name}' was not produced")
        return self.observations[name]

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
