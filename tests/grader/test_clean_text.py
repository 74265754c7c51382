"""What a student reads carries no terminal codes and no path of the grading host or its sandbox."""

import pytest

from grader.clean_text import clean_text
from grader.report import CheckResult, ExerciseResult, ExerciseStatus, GradeReport, Status


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            'Exception encountered when calling Dense.call().\n\n\x1b[1mInput 0 of layer "dense" is '
            "incompatible with the layer\x1b[0m",
            'Exception encountered when calling Dense.call().\n\nInput 0 of layer "dense" is incompatible '
            "with the layer",
        ),
        ("\x1b[38;5;196mred\x1b[39m and \x1b[1;31;48;2;0;0;0mbold\x1b[m", "red and bold"),
        ("\x9b31mred\x9b0m", "red"),
    ],
)
def test_colour_codes_are_removed(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[?25lEpoch 1/5\x1b[2K\x1b[1A\x1b[10Ddone\x1b[?25h", "Epoch 1/5done"),
        ("loss: 0.5\r\naccuracy: 0.9\r10/10", "loss: 0.5\naccuracy: 0.9\n10/10"),
        ("\x1b7saved\x1b8 \x1b(Bplain\x1b= end\x1b", "saved plain end"),
        ("bell\x07 back\x08space nul\x00 del\x7f c1\x85", "bell backspace nul del c1"),
    ],
)
def test_cursor_and_other_control_codes_are_removed(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "see \x1b]8;;https://keras.io/api/layers/\x1b\\the layers\x1b]8;;\x1b\\ for more",
            "see the layers for more",
        ),
        ("\x1b]8;id=3;file:///etc/passwd\x07link\x1b]8;;\x07", "link"),
        ("\x1b]0;window title\x07text", "text"),
        ("\x1b]2;unterminated title\nthe next line", "\nthe next line"),
        ("\x9d8;;https://example.com\x9cx\x9d8;;\x9c", "x"),
    ],
)
def test_osc_sequences_such_as_hyperlinks_keep_only_their_visible_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            'File "/sandbox/venv/lib/python3.11/site-packages/keras/src/layers/core/dense.py", line 144',
            'File "<python>/keras/src/layers/core/dense.py", line 144',
        ),
        (
            "/work/main/.venv/lib/python3.11/site-packages/tensorflow/python/ops/array_ops.py:12: UserWarning",
            "<python>/tensorflow/python/ops/array_ops.py:12: UserWarning",
        ),
        ("(/usr/lib/python3/dist-packages/numpy/core/numeric.py)", "(<python>/numpy/core/numeric.py)"),
        ('File "/usr/lib/python3.11/json/decoder.py", line 337', 'File "<python>/json/decoder.py", line 337'),
        ("in /usr/local/lib/python3.11/runpy.py", "in <python>/runpy.py"),
        (
            "[Errno 2] No such file or directory: '/tmp/work/data/trainn.npz'",
            "[Errno 2] No such file or directory: 'data/trainn.npz'",
        ),
        ("cwd=/tmp/work, home=/tmp/work/", "cwd=<notebook>, home=<notebook>"),
        ("saved to /tmp/tfgrade-k2j3h4_a/work/model.keras", "saved to model.keras"),
        ("file:///tmp/work/helper.py", "helper.py"),
        ("read `/sandbox/data/c1w4-happy-sad/happy/happy-01.png`", "read `data/happy/happy-01.png`"),
        ("open('/work/wt11a/assignments/probe/hidden/probes.json')", "open('<path>')"),
        ("cannot open /etc/hosts.", "cannot open <path>."),
        ("[/proc/self/status, /tmp/workbench/x]", "[<path>, <path>]"),
        ("wrote /tmp/work/results/ and /tmp/work/notesX.", "wrote results and notesX."),
        ("mounted at /sandbox/data/c1w1-housing-prices", "mounted at data"),
        ("Python in /usr/lib/python3.11", "Python in <python>"),
        ("in /tmp/workX", "in <path>"),
        ("\x1b[1m/tmp/work/x.npz\x1b[0m", "x.npz"),
    ],
)
def test_absolute_paths_become_neutral(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "Failed test case: accuracy on 500 unseen digits. Expected: at least 0.88, but got: 0.5.",
        "1875/1875 - 3s - 2ms/step - loss: 0.3 - accuracy: 0.9",
        "see https://www.tensorflow.org/api_docs/python/tf/keras and http://example.com/a/b",
        "prices / 100, x /2, either/or, a//b",
        "relative paths stay: data/mnist.npz ./data/x ../x ~/.keras/datasets/x <cell 3>",
        "tabs\tand\nnew lines, café, ✓, 数据",
        "",
    ],
)
def test_text_without_codes_or_absolute_paths_is_unchanged(text: str) -> None:
    assert clean_text(text) == text


def test_cleaning_twice_changes_nothing_more() -> None:
    once = clean_text(
        "\x1b[31m/sandbox/venv/lib/python3.11/site-packages/keras/x.py\x1b[0m in /tmp/work/a /etc/b"
    )
    assert once == "<python>/keras/x.py in a <path>"
    assert clean_text(once) == once


def test_every_message_of_a_report_is_cleaned_as_it_is_made() -> None:
    dirty = "\x1b[1mline 3: OSError: /tmp/work/data/x.npz\x1b[0m"
    clean = "line 3: OSError: data/x.npz"
    check = CheckResult(
        name="n", exercise="e", points=0.0, max_points=1.0, passed=False, hidden=False, message=dirty
    )
    exercise = ExerciseResult(name="e", status=ExerciseStatus.EXCEPTION, message=dirty)
    report = GradeReport(
        assignment="a",
        assignment_version="1",
        status=Status.GRADED,
        message=dirty,
        checks=(check,),
        exercises=(exercise,),
        grader_version="0",
    )
    assert (report.message, report.checks[0].message, report.exercises[0].message) == (clean, clean, clean)
    stored = GradeReport.model_validate({**report.model_dump(), "message": dirty})
    assert stored.message == clean
