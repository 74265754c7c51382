"""`runtime = "NAME"` in assignment.toml: which locked environment an assignment is graded in, and the
refusals when that environment is unknown or not built."""

import shutil
import sys
from pathlib import Path

import pytest
from probe_notebooks import PROBE_DIR

from grader import Catalog, Status, grade_notebook
from grader.assignment import AssignmentError, load_assignment
from grader.runtimes import STAMP, Runtime, RuntimeUnavailable, find_runtime
from grader.sandbox.host import detect_host, runtime_host
from grader.sandbox.pool import SandboxPool
from grader.validation import structure_problems

RUNTIMES = Path(__file__).resolve().parents[2] / "requirements" / "runtimes"


def probe_with(folder: Path, line: str) -> Path:
    """A copy of the probe assignment with `line` at the top of its assignment.toml."""
    copy = folder / "probe"
    shutil.copytree(PROBE_DIR, copy)
    toml = copy / "assignment.toml"
    toml.write_text(line + "\n" + toml.read_text())
    return copy


def unbuilt(tmp_path: Path) -> Path:
    """An empty folder of built runtimes: every lock's runtime is missing from it."""
    folder = tmp_path / "runtimes"
    folder.mkdir()
    return folder


def test_an_assignment_without_a_runtime_has_the_default_one() -> None:
    assert load_assignment(PROBE_DIR).runtime is None


def test_an_assignment_names_its_runtime(tmp_path: Path) -> None:
    assert load_assignment(probe_with(tmp_path, 'runtime = "course-c1"')).runtime == "course-c1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'runtime = "course-c9"',
            "runtime 'course-c9' is unknown: there is no requirements/runtimes/course-c9.lock",
        ),
        ("runtime = 3", "runtime must be a runtime's name, not 3"),
        ('runtime = "../course-c1"', "runtime must be a runtime's name, not '../course-c1'"),
        ('runtime = ""', "runtime must be a runtime's name, not ''"),
    ],
)
def test_a_runtime_that_is_not_a_known_lock_is_refused_at_loading(
    tmp_path: Path, line: str, message: str
) -> None:
    folder = probe_with(tmp_path, line)
    with pytest.raises(AssignmentError) as refusal:
        load_assignment(folder)
    assert str(refusal.value) == f"{folder / 'assignment.toml'}: {message}"


def test_every_lock_is_a_known_runtime() -> None:
    assert sorted(path.stem for path in RUNTIMES.glob("*.lock")) == ["course-c1"]
    runtime = find_runtime("course-c1")
    assert runtime.lock == RUNTIMES / "course-c1.lock"
    assert runtime.prefix == RUNTIMES.parents[1] / ".runtimes" / "course-c1"


def test_a_runtime_not_built_is_named_with_the_command_that_builds_it(tmp_path: Path) -> None:
    runtime = find_runtime("course-c1", built=unbuilt(tmp_path))
    assert runtime.problem() == (
        f"runtime 'course-c1' is not built ({tmp_path / 'runtimes' / 'course-c1'} is missing or older than "
        "requirements/runtimes/course-c1.lock): run scripts/setup.sh"
    )


def test_a_runtime_built_from_another_lock_is_not_built(tmp_path: Path) -> None:
    built = unbuilt(tmp_path)
    (built / "course-c1" / "bin").mkdir(parents=True)
    (built / "course-c1" / "bin" / "python").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    (built / "course-c1" / STAMP).write_text("0" * 64 + "\n")
    assert find_runtime("course-c1", built=built).problem() is not None
    lock_hash = Runtime.lock_hash(RUNTIMES / "course-c1.lock")
    (built / "course-c1" / STAMP).write_text(lock_hash + "\n")
    assert find_runtime("course-c1", built=built).problem() is None


def test_a_runtime_with_its_python_but_no_stamp_is_not_built(tmp_path: Path) -> None:
    built = unbuilt(tmp_path)
    (built / "course-c1" / "bin").mkdir(parents=True)
    (built / "course-c1" / "bin" / "python").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    assert find_runtime("course-c1", built=built).problem() == (
        f"runtime 'course-c1' is not built ({built / 'course-c1'} is missing or older than "
        "requirements/runtimes/course-c1.lock): run scripts/setup.sh"
    )


def test_a_lock_outside_the_project_is_named_by_its_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grader.runtimes.LOCKS", tmp_path)
    with pytest.raises(ValueError) as refusal:
        find_runtime("course-c9")
    assert str(refusal.value) == f"runtime 'course-c9' is unknown: there is no {tmp_path / 'course-c9.lock'}"
    runtime = Runtime(name="elsewhere", lock=tmp_path / "elsewhere.lock", prefix=tmp_path / "built")
    assert runtime.problem() == (
        f"runtime 'elsewhere' is not built ({tmp_path / 'built'} is missing or older than "
        f"{tmp_path / 'elsewhere.lock'}): run scripts/setup.sh"
    )


def test_a_runtimes_base_installation_is_the_one_its_python_reports() -> None:
    runtime = Runtime(name="this", lock=RUNTIMES / "course-c1.lock", prefix=Path(sys.prefix))
    assert runtime.base_prefix() == sys.base_prefix


def test_validation_refuses_an_assignment_whose_runtime_is_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grader.runtimes.BUILT", unbuilt(tmp_path))
    assignment = load_assignment(probe_with(tmp_path, 'runtime = "course-c1"'))
    assert structure_problems(assignment) == [
        f"runtime 'course-c1' is not built ({tmp_path / 'runtimes' / 'course-c1'} is missing or older than "
        "requirements/runtimes/course-c1.lock): run scripts/setup.sh"
    ]


def test_no_sandbox_starts_for_a_runtime_not_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grader.runtimes.BUILT", unbuilt(tmp_path))
    with pytest.raises(RuntimeUnavailable, match="runtime 'course-c1' is not built"):
        runtime_host(detect_host(), "course-c1")


def test_grading_in_a_runtime_not_built_is_the_graders_error_and_no_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grader.runtimes.BUILT", unbuilt(tmp_path))
    folder = probe_with(tmp_path / "catalog", 'runtime = "course-c1"')
    assignment = load_assignment(folder)
    with SandboxPool(Catalog(folder.parent), size=1) as pool:
        assert pool.warm_runtimes() == []  # nothing to start, and no failure for the others
        pooled = grade_notebook(assignment.solution_path.read_bytes(), assignment, pool=pool)
    alone = grade_notebook(assignment.solution_path.read_bytes(), assignment)
    for report in (pooled, alone):
        assert report.status is Status.ERROR
        assert report.score == 0
        assert report.message.startswith("The grader failed on its side")


def test_the_pool_warms_each_runtime_the_catalog_uses(tmp_path: Path) -> None:
    probe_with(tmp_path / "catalog", 'runtime = "course-c1"')
    shutil.copytree(PROBE_DIR, tmp_path / "catalog" / "default-probe")
    toml = tmp_path / "catalog" / "default-probe" / "assignment.toml"
    toml.write_text(toml.read_text().replace('slug = "probe"', 'slug = "default-probe"'))
    assert Catalog(tmp_path / "catalog").runtimes() == [None, "course-c1"]
