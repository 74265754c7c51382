"""What `tfgrade assignments validate` says about an assignment's support/ folder, and how the catalog
records it. No sandbox starts here."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from probe_notebooks import PROBE_DIR
from support_assignment import SLUG, course_style_catalog

from grader.assignment import Catalog, load_assignment
from grader.sandbox.host import detect_host
from grader.validation import structure_problems


@pytest.fixture
def catalog() -> Iterator[Path]:
    with course_style_catalog() as root:
        yield root


def support_of(catalog: Path) -> Path:
    return catalog / SLUG / "support"


def test_the_loader_records_the_support_folder_of_the_assignments_that_have_one(catalog: Path) -> None:
    shutil.copytree(PROBE_DIR, catalog / "probe")
    assert load_assignment(catalog / SLUG).support_dir == support_of(catalog)
    assert Catalog(catalog).support_dirs() == {SLUG: support_of(catalog)}


def test_a_well_formed_support_folder_raises_no_problem(catalog: Path) -> None:
    assert structure_problems(load_assignment(catalog / SLUG)) == []


def test_a_support_entry_named_like_the_data_folder_is_refused(catalog: Path) -> None:
    (support_of(catalog) / "data").mkdir()
    assert structure_problems(load_assignment(catalog / SLUG)) == [
        "support/data: the notebook's working directory already holds the assignment's data/ folder under "
        "that name; rename it"
    ]


def test_a_symbolic_link_anywhere_in_support_is_refused(catalog: Path) -> None:
    (support_of(catalog) / "more-numbers.txt").symlink_to("numbers.txt")
    (support_of(catalog) / "extras" / "checks.py").symlink_to("../../checks.py")
    assert structure_problems(load_assignment(catalog / SLUG)) == [
        "support/extras/checks.py is a symbolic link; put the file itself in support/",
        "support/more-numbers.txt is a symbolic link; put the file itself in support/",
    ]


def test_a_support_folder_that_is_a_symbolic_link_is_refused(catalog: Path) -> None:
    support_of(catalog).rename(catalog / "elsewhere")
    support_of(catalog).symlink_to(catalog / "elsewhere")
    assert structure_problems(load_assignment(catalog / SLUG)) == [
        "support is a symbolic link; put the folder itself beside assignment.toml"
    ]


def test_something_neither_file_nor_folder_in_support_is_refused(catalog: Path) -> None:
    os.mkfifo(support_of(catalog) / "pipe")
    assert structure_problems(load_assignment(catalog / SLUG)) == [
        "support/pipe is neither a file nor a folder"
    ]


@pytest.mark.skipif(not detect_host().as_sandbox_user(), reason="the sandbox runs as this process's own user")
def test_support_files_the_sandbox_user_cannot_read_are_refused(catalog: Path) -> None:
    (support_of(catalog) / "numbers.txt").chmod(0o600)
    (support_of(catalog) / "extras").chmod(0o700)
    assert structure_problems(load_assignment(catalog / SLUG)) == [
        "support/extras cannot be read by the user the sandbox runs as",
        "support/numbers.txt cannot be read by the user the sandbox runs as",
    ]
