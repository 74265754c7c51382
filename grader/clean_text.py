"""Text a student reads, without terminal codes and without the paths of the grading host or its sandbox.

Keras and TensorFlow colour their messages and name the files they come from; a student's code can print
anything. Reports are read in a browser, an LMS or a terminal, where such codes are noise or worse, and a
path tells where and how the grader is installed.
"""

import re

from grader.sandbox.process import SANDBOX_ROOT, SANDBOX_SCRATCH

_ESCAPE_SEQUENCE = re.compile(
    # CSI (colours, cursor moves, erasing), 7-bit or 8-bit: parameters, intermediates, one final byte.
    r"(?:\x1b\[|\x9b)[0-?]*[\x20-/]*[@-~]"
    # OSC (hyperlinks, window titles), DCS, SOS, PM and APC: a string up to its terminator. One left open
    # ends at the line's end, so that it cannot take the rest of a message with it.
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    # Any other escape: character sets, keypad modes, saving the cursor.
    r"|\x1b[\x20-/]*[0-~]"
)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CARRIAGE_RETURN = re.compile(r"\r\n?")

# At least two components, so that a fraction such as "x /2" stays; never inside a word or a URL.
_ABSOLUTE_PATH = re.compile(
    r"(?<![^\s'\"`(\[{=,:;])(?:file://)?/[^\s'\"`()\[\]{}<>,:;/]+/[^\s'\"`()\[\]{}<>,:;]*"
)
# Without bubblewrap, a job works in a temporary folder of the host's, named by the sandbox `tfgrade-...`.
_WORKING_DIRECTORY = re.compile(
    rf"^(?:{re.escape(SANDBOX_SCRATCH)}|/.*/tfgrade-[a-z0-9_]+/work)(?:/(?P<inside>.*))?$"
)
_SANDBOX_DATA = re.compile(rf"^{re.escape(SANDBOX_ROOT)}/data/[^/]+(?P<inside>/.*)?$")
_PYTHON_LIBRARIES = (
    re.compile(r"^.*/(?:site-packages|dist-packages)(?P<inside>/.*)?$"),
    re.compile(r"^.*?/lib/python3(?:\.\d+)?(?P<inside>/.*)?$"),
)


def clean_text(text: str) -> str:
    """`text` without escape sequences and control characters (a carriage return becomes a new line), and
    with every absolute path neutral: the notebook's working directory `<notebook>` and what is in it
    relative to it, the assignment's data `data/...` as the notebook names it, Python's libraries
    `<python>/...`, any other `<path>`."""
    plain = _ESCAPE_SEQUENCE.sub("", text)
    plain = _CONTROL_CHARACTER.sub("", _CARRIAGE_RETURN.sub("\n", plain))
    return _ABSOLUTE_PATH.sub(_neutral_path, plain)


def _neutral_path(match: re.Match[str]) -> str:
    found = match.group()
    path = found.rstrip(".")
    sentence_end = found[len(path) :]
    path = path.removeprefix("file://")
    if working := _WORKING_DIRECTORY.match(path):
        inside = (working.group("inside") or "").strip("/")
        return (inside or "<notebook>") + sentence_end
    if data := _SANDBOX_DATA.match(path):
        return "data" + (data.group("inside") or "") + sentence_end
    for library in _PYTHON_LIBRARIES:
        if found_in := library.match(path):
            return "<python>" + (found_in.group("inside") or "") + sentence_end
    return "<path>" + sentence_end
