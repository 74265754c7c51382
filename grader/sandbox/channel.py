"""Reading what a sandboxed process sends: JSON lines, each optionally followed by raw bytes, all capped.

A student's process can write any bytes here, so the reader believes nothing because of where it came
from, and caps what it costs the host: the bytes of a job, of a line, of a payload, and JSON nesting.
Output past a cap, or that does not parse, ends the reading with `problem` set: the submission's doing.
"""

import json
import re
import selectors
import time
from dataclasses import dataclass
from typing import IO, Any

MAX_JOB_BYTES = 256 * 1024**2
MAX_LINE_BYTES = 1024**2
MAX_PAYLOAD_BYTES = 160 * 1024**2
MAX_DEPTH = 32
# Surrogates can only arrive as escapes (raw UTF-8 cannot encode them), so most lines need no second look.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
MAX_JOB_VALUES = 500_000  # JSON values parsed in a job: a byte cap alone lets tiny objects multiply in memory


@dataclass(frozen=True)
class Message:
    header: dict[str, Any]
    payload: bytes = b""

    @property
    def kind(self) -> object:
        return self.header.get("event")


class ChannelReader:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._received = 0
        self._values = 0
        self.problem: str | None = None

    def next(self, deadline: float) -> Message | None:
        """The next message, or None when the stream ends, the deadline passes or a cap is hit."""
        line = self._line(deadline)
        if line is None:
            return None
        header = self._parse(bytes(line))
        if header is None:
            return None
        size = header.get("payload", 0)
        if type(size) is not int or not 0 <= size <= MAX_PAYLOAD_BYTES:
            self.problem = f"a payload of {size!r} bytes, more than the grader reads"
            return None
        payload = self._exactly(size, deadline) if size else b""
        return None if payload is None else Message(header, payload)

    def _line(self, deadline: float) -> bytearray | None:
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_LINE_BYTES:
                self.problem = f"a message longer than {MAX_LINE_BYTES // 1024} KB"
                return None
            if not self._fill(deadline):
                return None
        line = self._buffer[:end]
        del self._buffer[: end + 1]
        return line

    def _exactly(self, size: int, deadline: float) -> bytes | None:
        while len(self._buffer) < size:
            if not self._fill(deadline):
                return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _fill(self, deadline: float) -> bool:
        with selectors.DefaultSelector() as selector:
            selector.register(self._stream, selectors.EVENT_READ)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return False
        chunk = self._stream.read(1024**2)
        if not chunk:
            return False
        self._received += len(chunk)
        if self._received > MAX_JOB_BYTES:
            self.problem = f"more than {MAX_JOB_BYTES // 1024**2} MB of results"
            return False
        self._buffer += chunk
        return True

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        try:
            # Databases refuse NUL characters in text; a student's message must not make a report unstorable.
            header = json.loads(line.replace(b"\\u0000", b"\\ufffd"))
        except (ValueError, RecursionError):
            header = None
        if type(header) is not dict:
            self.problem = "a message that is not a JSON object"
            return None
        depth, values = shape_of(header)
        self._values += values
        if depth > MAX_DEPTH:
            self.problem = f"data nested more than {MAX_DEPTH} levels deep"
            return None
        if self._values > MAX_JOB_VALUES:
            self.problem = f"more than {MAX_JOB_VALUES} values of results"
            return None
        return _without_lone_surrogates(header) if SURROGATE_ESCAPE.search(line) else header


def shape_of(value: object) -> tuple[int, int]:
    """How deeply lists and objects nest in a parsed JSON value, and how many values it holds."""
    deepest, count, pending = 0, 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest, count = max(deepest, depth), count + 1
        if depth > MAX_DEPTH:
            break
        if type(item) is dict:
            pending.extend((child, depth + 1) for child in item.values())
        elif type(item) is list:
            pending.extend((child, depth + 1) for child in item)
    return deepest, count


def _without_lone_surrogates(header: dict[str, Any]) -> dict[str, Any]:
    """JSON may escape half of a UTF-16 pair (\\ud800), which no report can be stored or shown with."""
    text = json.dumps(header, ensure_ascii=False)
    if not any("\ud800" <= character <= "\udfff" for character in text):
        return header
    cleaned: dict[str, Any] = json.loads(text.encode("utf-8", "replace"))
    return cleaned
