"""An assignment's structure as `tfgrade assignments validate` checks it before grading anything."""

import json
import shutil
from pathlib import Path

from probe_notebooks import PROBE_DIR, legacy_probe, without_grader_version

from grader.assignment import load_assignment
from grader.validation import structure_problems


def probe_copy(folder: Path) -> Path:
    copy = folder / "probe"
    shutil.copytree(PROBE_DIR, copy)
    return copy


def set_toml_version(assignment: Path, line: str) -> None:
    toml = (assignment / "assignment.toml").read_text()
    (assignment / "assignment.toml").write_text(toml.replace('grader_version = "1"\n', line))


def test_the_probe_assignment_is_valid() -> None:
    assert structure_problems(load_assignment(PROBE_DIR)) == []


def test_a_template_without_grader_version_is_valid(tmp_path: Path) -> None:
    assert structure_problems(load_assignment(legacy_probe(tmp_path))) == []


def test_a_template_whose_version_differs_from_assignment_toml_is_refused(tmp_path: Path) -> None:
    folder = probe_copy(tmp_path)
    set_toml_version(folder, 'grader_version = "2"\n')
    assert structure_problems(load_assignment(folder)) == ["the template's grader_version is not '2'"]


def test_a_template_without_the_version_assignment_toml_names_is_refused(tmp_path: Path) -> None:
    folder = probe_copy(tmp_path)
    template = folder / "template.ipynb"
    template.write_bytes(without_grader_version(template.read_bytes()))
    assert structure_problems(load_assignment(folder)) == ["the template's grader_version is not '1'"]


def test_without_a_version_in_assignment_toml_the_template_names_it(tmp_path: Path) -> None:
    folder = probe_copy(tmp_path)
    set_toml_version(folder, "")
    template = folder / "template.ipynb"
    document = json.loads(template.read_bytes())
    document["metadata"]["grader_version"] = 3
    template.write_text(json.dumps(document))
    assignment = load_assignment(folder)
    assert assignment.grader_version == "3"
    assert structure_problems(assignment) == []
