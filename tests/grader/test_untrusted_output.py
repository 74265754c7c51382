"""What the student's process sends and how it ends are its own doing: graded, capped, never retried."""

from collections.abc import Iterator

import pytest
from helpers import points_by_check
from probe_notebooks import PROBE_DIR, VECTOR_CHECK, with_vector_code

from grader import Assignment, Catalog, GradeReport, SandboxPool, Status, grade_notebook

SOLUTION = (PROBE_DIR / "solution.ipynb").read_bytes()


@pytest.fixture(scope="module")
def slot() -> Iterator[SandboxPool]:
    """One grading slot, so each attack is followed by an honest submission on the same zygote."""
    with SandboxPool(Catalog(PROBE_DIR.parent), size=1) as pool:
        yield pool


def graded_then_honest(code: str, probe: Assignment, slot: SandboxPool) -> tuple[GradeReport, GradeReport]:
    attack = grade_notebook(with_vector_code(code), probe, pool=slot)
    honest = grade_notebook(SOLUTION, probe, pool=slot)
    assert (honest.status, honest.score) == (Status.GRADED, honest.max_score), honest.message
    return attack, honest


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSEGV", "SIGTERM"])
def test_a_submission_that_kills_itself_is_graded_not_retried(
    probe: Assignment, slot: SandboxPool, signal_name: str
) -> None:
    attack, _ = graded_then_honest(
        f"import os, signal\nos.kill(os.getpid(), signal.{signal_name})", probe, slot
    )
    assert attack.status is Status.GRADED, attack.message
    assert "ended the grading process early" in attack.message
    assert attack.score == 0.0


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            'b"{\\"event\\": \\"observation\\", \\"name\\": \\"vector\\", \\"value\\": \\"" + b"x" * 30_000_000',
            "longer",
        ),
        ('b"[" * 200_000 + b"]" * 200_000 + b"\\n"', "not a JSON object"),
        ('b"{\\"a\\": " * 5_000 + b"1" + b"}" * 5_000 + b"\\n"', "not a JSON object"),
        (
            'b"{\\"event\\": \\"observation\\", \\"name\\": \\"vector\\", \\"value\\": " + b"[" * 40 + b"]" * 40 + b"}\\n"',
            "nested",
        ),
        ('b"{\\"event\\": \\"model\\", \\"name\\": \\"model\\", \\"payload\\": 999999999999}\\n"', "payload"),
        ('(b"{\\"event\\": \\"x\\", \\"a\\": [" + b"{}," * 100_000 + b"{}]}\\n") * 6', "values"),
    ],
)
def test_giant_or_deeply_nested_output_is_graded_with_a_clear_message(
    probe: Assignment, slot: SandboxPool, written: str, problem: str
) -> None:
    code = f"import os\ndata = memoryview({written})\nwhile data:\n    data = data[os.write(3, data):]\nvector = None"
    attack, _ = graded_then_honest(code, probe, slot)
    assert attack.status is Status.GRADED, attack.message
    assert problem in attack.message
    assert attack.score == 0.0
    assert len(attack.model_dump_json()) < 2 * 1024**2


def test_everything_printed_reaches_the_report_even_when_the_process_ends_abruptly(
    probe: Assignment, slot: SandboxPool
) -> None:
    code = 'import os, sys\nfor n in range(2000):\n    print(f"line {n}")\nprint("last words", file=sys.stderr)\nos._exit(0)'
    attack, _ = graded_then_honest(code, probe, slot)
    assert "line 1999" in attack.metadata["output"]
    assert "last words" in attack.metadata["output"]


def test_an_honest_vector_still_counts_after_an_attack(probe: Assignment, slot: SandboxPool) -> None:
    report = grade_notebook(with_vector_code("vector = np.array([1.0, 2.0, 3.0])"), probe, pool=slot)
    assert points_by_check(report)[VECTOR_CHECK] == 1.0


def test_messages_of_unexpected_form_are_ignored_not_a_grader_error(
    probe: Assignment, slot: SandboxPool
) -> None:
    code = (
        "import json, os\n"
        'for name in (["x"], {"y": 1}, 3, None):\n'
        '    os.write(3, json.dumps({"event": "observation", "name": name, "value": 1}).encode() + b"\\n")\n'
        '    os.write(3, json.dumps({"event": "model", "name": name, "config": 1}).encode() + b"\\n")\n'
        "vector = np.array([1.0, 2.0, 3.0])"
    )
    attack, _ = graded_then_honest(code, probe, slot)
    assert attack.status is Status.GRADED, attack.message
    assert attack.score == attack.max_score


def test_an_archive_of_countless_arrays_is_not_read(probe: Assignment, slot: SandboxPool) -> None:
    code = (
        "import io, json, os\n"
        "archive = io.BytesIO()\n"
        "np.savez(archive, *[np.zeros(1)] * 5000)\n"
        'header = {"event": "observation", "name": "vector", "value": {"type": "ndarray", "values": [1.0, 2.0, 3.0]}}\n'
        'header["payload"] = len(archive.getvalue())\n'
        'os.write(3, json.dumps(header).encode() + b"\\n" + archive.getvalue())\n'
        # A forged start of the notebook's last cell: the exercise counts as finished, so its evidence is read.
        'os.write(3, json.dumps({"event": "cell_started", "cell": 4}).encode() + b"\\n")\n'
        "os._exit(0)"
    )
    attack, _ = graded_then_honest(code, probe, slot)
    assert attack.status is Status.GRADED, attack.message
    vector = next(check for check in attack.checks if check.name == VECTOR_CHECK)
    assert "cannot read" in vector.message
    assert attack.timings["judge"] < 1


def test_half_a_surrogate_pair_in_a_message_leaves_the_report_readable(
    probe: Assignment, slot: SandboxPool
) -> None:
    attack, _ = graded_then_honest('raise ValueError("bad \\ud800 value")', probe, slot)
    assert attack.status is Status.GRADED
    assert "bad ? value" in attack.model_dump_json()
