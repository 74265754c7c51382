"""Reading a job's JSON events, one per line, each signed with the job's token."""

import json
import selectors
import time
from typing import IO, Any

MAX_EVENT_BYTES = 32 * 1024 * 1024


class EventReader:
    def __init__(self, stream: IO[bytes], token: str) -> None:
        self._stream = stream
        self._token = token.encode()
        self._buffer = b""
        self._received = 0

    def next(self, deadline: float) -> dict[str, Any] | None:
        """The next event, or None when the stream ends, floods or the deadline passes."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._stream, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                chunk = self._stream.read(65536)
                if not chunk:
                    return None
                self._received += len(chunk)
                if self._received > MAX_EVENT_BYTES:
                    return None
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        signed, _, line = line.partition(b" ")
        if signed != self._token:
            return {"event": "forged"}
        try:
            # Databases refuse NUL characters in text; a student's message must not make a report unstorable.
            event = json.loads(line.replace(b"\\u0000", b"\\ufffd"))
        except ValueError:
            return {"event": "garbled"}
        return event if isinstance(event, dict) else {"event": "garbled"}
