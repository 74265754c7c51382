"""Preparing what the sandbox receives from an assignment: observation sources and probe inputs."""

import ast
import inspect
import io
import textwrap
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.authoring import Observation


def observation_payload(observation: Observation) -> dict[str, Any]:
    """Only the function's own source enters the sandbox, never the module with the checks around it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(observation.function)))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    function.decorator_list = []
    return {"name": observation.name, "exercise": observation.exercise, "source": ast.unparse(function)}


def probe_inputs_archive(assignment: Assignment) -> bytes:
    make_inputs = assignment.registry.probe_inputs
    if make_inputs is None:
        return b""
    buffer = io.BytesIO()
    arrays = {name: np.asarray(value) for name, value in make_inputs(assignment.directory).items()}
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()
