"""Keeping a capped copy of a child's output: its head and its tail, never all of it."""

import threading
from typing import IO


class CappedOutput:
    def __init__(self, stream: IO[bytes], limit_bytes: int) -> None:
        self._stream = stream
        self._head_limit = limit_bytes // 2
        self._tail_limit = limit_bytes - self._head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped = 0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := self._stream.read1(65536):  # type: ignore[attr-defined]
            room = self._head_limit - len(self._head)
            self._head += chunk[:room]
            rest = chunk[room:] if room > 0 else chunk
            if rest:
                self._tail += rest
                overflow = len(self._tail) - self._tail_limit
                if overflow > 0:
                    del self._tail[:overflow]
                    self._dropped += overflow

    def text(self, wait_seconds: float = 2.0) -> str:
        self._thread.join(wait_seconds)
        head = self._head.decode(errors="replace").replace("\x00", "\ufffd")
        tail = self._tail.decode(errors="replace").replace("\x00", "\ufffd")
        if self._dropped:
            return f"{head}\n... [{self._dropped} bytes of output not kept] ...\n{tail}"
        return head + tail
