"""Student code is hostile: it must not escape, linger, or raise its own score."""

import http.server
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import named_descendants
from report_views import exercise_statuses, points_by_check

from grader import GradeReport, SandboxPool, Status, grade_notebook
from grader.assignment import Assignment

GradeFixture = Callable[[str], GradeReport]
LOOPBACK_PORT = 47811  # the port network-attempt.ipynb tries


def test_an_infinite_loop_times_out_and_names_where_keeping_the_exercises_finished_before_it(
    grade_fixture: GradeFixture,
) -> None:
    report = grade_fixture("infinite-loop")
    stopped = (
        "Your notebook ran longer than the 12 seconds allowed and was stopped in cell 6 (`FEATURES = "
        "np.linspace(-1, 1, 200, dtype=\"float32\").reshape…`), frozen code after exercise 'train_classifier'. "
        "Look for an endless loop, or training with far more epochs or data than asked. Exercises finished "
        "before then were graded; the rest scored no points."
    )
    assert (report.status, report.score) == (Status.TIMEOUT, 3.0)
    assert report.message == f"{stopped} You scored 3 of 5. Read the failed test cases below."
    assert exercise_statuses(report) == {
        "make_vector": "ok",
        "make_model": "ok",
        "train_classifier": "timeout",
    }
    # make_model's points come from its exported model, which the clean evaluator rebuilt after the stop.
    assert points_by_check(report) == {
        "the vector holds 1, 2, 3": 1.0,
        "one Dense layer": 1.0,
        "three units": 1.0,
        "classifies the probe points": 0.0,
    }
    classifies = next(check for check in report.checks if check.name == "classifies the probe points")
    assert classifies.message == f"Not checked: Your code for 'train_classifier' failed: {stopped}"
    assert report.timings["run"] < 20


def test_a_memory_bomb_ends_as_memory_exceeded(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("memory-bomb")
    assert (report.status, report.score) == (Status.MEMORY_EXCEEDED, 0.0)
    assert "more than the 1024 MB of memory allowed" in report.message


def test_a_fork_bomb_is_contained_and_leaves_nothing(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("fork-bomb")
    assert report.status is Status.TIMEOUT
    assert report.score == 0.0
    assert _job_processes_left() == []


@pytest.fixture
def loopback_server() -> Iterator[list[str]]:
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler API's name
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", LOOPBACK_PORT), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield requests
    server.shutdown()
    server.server_close()


def test_the_network_is_unreachable_even_on_loopback(
    grade_fixture: GradeFixture, loopback_server: list[str]
) -> None:
    report = grade_fixture("network-attempt")
    assert loopback_server == []
    # The fixture returns the right vector only if some address answered.
    assert points_by_check(report)["the vector holds 1, 2, 3"] == 0.0
    assert report.score == 4.0


def test_patching_numpy_tensorflow_and_builtins_earns_nothing(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("patches-numpy-tensorflow-and-builtins")
    assert report.status is Status.GRADED
    assert report.score == 4.0
    vector = next(check for check in report.checks if check.name == "the vector holds 1, 2, 3")
    assert vector.message == (
        "Failed test case: values of the vector. Expected: [1.0, 2.0, 3.0], but got: [0.0, 0.0, 0.0]."
    )


def test_an_object_equal_to_everything_earns_nothing(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("always-equal-object")
    assert report.score == 4.0
    assert points_by_check(report)["the vector holds 1, 2, 3"] == 0.0


def test_a_fake_report_and_an_early_exit_earn_nothing_beyond_the_fixed_answer_they_spell_out(
    grade_fixture: GradeFixture,
) -> None:
    report = grade_fixture("prints-fake-report-and-exits")
    # The forged observation spells out the vector exercise's fixed answer, which is that exercise's
    # whole work; the forged "done" earns the models that were never exported nothing.
    assert report.status is Status.GRADED
    assert points_by_check(report) == {
        "the vector holds 1, 2, 3": 1.0,
        "one Dense layer": 0.0,
        "three units": 0.0,
        "classifies the probe points": 0.0,
    }
    assert '"score": 5.0' in report.metadata["output"]


def test_files_written_for_the_judge_are_never_read(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("writes-result-files")
    assert report.score == 4.0
    assert not Path("/tfgrade-planted.json").exists()
    assert not Path("/sandbox").exists()


def test_the_checks_expected_values_and_solution_are_out_of_reach(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("reads-checks-and-solution")
    # The fixture answers correctly only if it found probes.json, checks.py, solution.ipynb or /etc/shadow.
    assert report.score == 4.0
    assert exercise_statuses(report)["make_vector"] == "ok"


def test_no_process_survives_grading(probe: Assignment, probe_pool: SandboxPool) -> None:
    # Durations of this run's own: another suite on the machine grading the same fixture is not seen.
    durations = [str(31_337_000_000 + secrets.randbelow(10**6) * 10 + last) for last in (7, 8)]
    notebook = (Path(__file__).parent / "fixtures" / "leaves-process-running.ipynb").read_text()
    notebook = notebook.replace("'31337'", f"'{durations[0]}'").replace("'31338'", f"'{durations[1]}'")
    report = grade_notebook(notebook.encode(), probe, pool=probe_pool)
    assert report.score == 5.0
    pattern = f"sleep ({'|'.join(durations)})"
    survivors = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    assert survivors.stdout == ""


def test_a_forged_training_history_does_not_pass_for_accuracy(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("forges-training-history")
    assert report.score == 3.0
    classify = next(check for check in report.checks if check.name == "classifies the probe points")
    assert classify.message == (
        "Failed test case: accuracy on the probe points. Expected: at least 0.8, but got: 0.0."
    )


def _job_processes_left() -> list[int]:
    """Live processes named like a job's under this test's zygotes. A forked child keeps its parent's name
    (never its command line), and a job's PID namespace keeps its orphans under the zygote; other test runs
    on the machine are not under this one. A zombie holds nothing but its exit status."""
    return [pid for pid in named_descendants(os.getpid(), "tfgrade-job") if not _zombie(pid)]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True  # it is gone


def test_huge_output_is_captured_capped_and_harmless(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("huge-output")
    assert report.score == 5.0
    output = report.metadata["output"]
    assert len(output) < 300_000
    assert "bytes of output not kept" in output


def test_filling_the_disk_ends_as_memory_exceeded_on_a_private_tmpfs(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("disk-filling")
    assert (report.status, report.score) == (Status.MEMORY_EXCEEDED, 0.0)
    assert not list(Path("/tmp").glob("filler-*.bin"))


def test_the_services_environment_secrets_are_not_visible(
    grade_fixture: GradeFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFGRADE_SECRET_KEY", "do-not-leak")
    report = grade_fixture("reads-environment-secrets")
    # The fixture answers correctly only if it saw a secret in its environment or another process's.
    assert report.score == 4.0


def test_planted_sitecustomize_reaches_neither_the_host_nor_the_next_submission(
    grade_fixture: GradeFixture, probe, probe_pool
) -> None:
    from grader import grade_notebook

    report = grade_fixture("plants-sitecustomize")
    assert report.score == 5.0
    site_packages = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert not list(site_packages.rglob("tfgrade_planted.pth"))
    assert not (site_packages / "site-packages" / "sitecustomize.py").exists()
    after = grade_notebook(probe.solution_path.read_bytes(), probe, pool=probe_pool)
    assert after.score == 5.0


def test_a_100_mb_notebook_is_refused_without_being_parsed(probe) -> None:
    from grader import grade_notebook

    report = grade_notebook(b"{" + b" " * 100_000_000 + b"}", probe)
    assert report.status is Status.NOT_GRADABLE
    assert "larger than the 20 MB allowed" in report.message
    assert report.timings["total"] < 1.0


def test_nul_characters_and_nan_cannot_make_a_report_unstorable(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("nul-characters-and-nan")
    assert report.score == 2.0
    stored = report.model_dump_json()
    assert "\\u0000" not in stored and "NaN" not in stored
    vector = next(check for check in report.checks if check.name == "the vector holds 1, 2, 3")
    assert vector.message.endswith("but got: ['nan', 2.0, 3.0].")
