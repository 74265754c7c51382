"""Turning what the sandboxed processes sent into evidence for the checks.

The student's process is untrusted: its observations are plain data (arrays decoded safely) for checks to
weigh, and its exported models are only handed on, as data, to the clean evaluator. The evaluator's
messages are the evidence the checks believe: it never ran student code.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.authoring import ModelEvidence
from grader.sandbox.arrays import UnreadableArrays, read_arrays, with_arrays
from grader.sandbox.channel import Message
from grader.sandbox.process import RunOutcome

UNREADABLE = "your code returned data the grader cannot read"


@dataclass(frozen=True)
class ExportedModel:
    description: dict[str, Any]  # the model's class, architecture and compile settings, as sent
    weights: bytes  # an .npz archive, read only by the evaluator


@dataclass
class StudentEvidence:
    observations: dict[str, Any] = field(default_factory=dict)
    observation_errors: dict[str, str] = field(default_factory=dict)
    models: dict[str, ExportedModel] = field(default_factory=dict)
    model_errors: dict[str, str] = field(default_factory=dict)


def student_evidence(messages: list[Message], observations: set[str], exports: set[str]) -> StudentEvidence:
    evidence = StudentEvidence()
    for message in messages:
        name = message.header.get("name")
        kind = message.kind
        if type(name) is not str:
            continue
        if kind == "observation" and name in observations:
            try:
                arrays = read_arrays(message.payload)
                ordered = [arrays[f"arr_{number}"] for number in range(len(arrays))]
                evidence.observations[name] = with_arrays(message.header.get("value"), ordered)
            except (UnreadableArrays, KeyError):
                evidence.observation_errors[name] = UNREADABLE
        elif kind == "observation_failed" and name in observations:
            evidence.observation_errors[name] = str(message.header.get("message", ""))[:2000]
        elif kind == "model" and name in exports:
            description = {key: message.header.get(key) for key in ("class_name", "config", "compile")}
            evidence.models[name] = ExportedModel(description, message.payload)
        elif kind == "model_failed" and name in exports:
            evidence.model_errors[name] = str(message.header.get("message", ""))[:2000]
    return evidence


def model_evidence(outcome: RunOutcome, names: set[str]) -> tuple[dict[str, ModelEvidence], dict[str, str]]:
    """The evaluator's findings; a model it refused or could not finish is an error for its checks."""
    found: dict[str, ModelEvidence] = {}
    errors: dict[str, str] = {}
    for message in outcome.messages:
        name = message.header.get("name")
        if name not in names:
            continue
        if message.kind == "evaluated":
            summary = message.header["summary"]
            predictions = {key: np.asarray(value) for key, value in read_arrays(message.payload).items()}
            found[name] = ModelEvidence(predictions=predictions, **summary)
        elif message.kind == "refused":
            errors[name] = f"the grader could not use your model: {message.header.get('reason')}"
    for name in names - found.keys() - errors.keys():
        errors[name] = _unfinished(outcome)
    return found, errors


def _unfinished(outcome: RunOutcome) -> str:
    if outcome.unreadable:
        return f"your model made the grader's evaluation send {outcome.unreadable}"
    if outcome.out_of_memory:
        return "your model is too large for the grader to evaluate within the memory allowed"
    if outcome.timed_out:
        return "your model took too long for the grader to evaluate"
    return "the grader could not evaluate your model"
