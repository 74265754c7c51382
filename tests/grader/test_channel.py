"""Reading what a sandboxed process sends: messages as sent, and every cap ends the reading with a reason."""

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from grader.sandbox import channel
from grader.sandbox.channel import (
    MAX_DEPTH,
    MAX_JOB_VALUES,
    MAX_LINE_BYTES,
    MAX_PAYLOAD_BYTES,
    ChannelReader,
    Message,
    shape_of,
)

SOON = 10.0


@contextmanager
def channel_sending(*chunks: bytes, close: bool = True) -> Iterator[ChannelReader]:
    """A reader on a socket like the sandbox's, fed these chunks by another thread (then closed)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def send() -> None:
        try:
            for chunk in chunks:
                theirs.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return  # the reader stopped at a cap, as it may
        if close:
            theirs.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    with os.fdopen(ours.detach(), "rb", buffering=0) as stream:
        yield ChannelReader(stream)
    sender.join()
    theirs.close()


def read_all(*chunks: bytes) -> tuple[list[Message], str | None]:
    with channel_sending(*chunks) as reader:
        messages = list(iter(lambda: reader.next(time.monotonic() + SOON), None))
        return messages, reader.problem


def line(header: object) -> bytes:
    return json.dumps(header).encode() + b"\n"


def nested(depth: int) -> dict[str, object]:
    """A header `depth` levels deep, counting itself and the number at the bottom."""
    value: object = 0
    for _ in range(depth - 2):
        value = [value]
    return {"v": value}


def test_messages_and_their_payloads_arrive_as_sent() -> None:
    messages, problem = read_all(
        line({"event": "cell_started", "cell": 0}),
        line({"event": "arrays", "payload": 5}) + b"ab",
        b"cde" + line({"event": "empty", "payload": 0}),
    )
    assert messages == [
        Message({"event": "cell_started", "cell": 0}),
        Message({"event": "arrays", "payload": 5}, b"abcde"),
        Message({"event": "empty", "payload": 0}, b""),
    ]
    assert [message.kind for message in messages] == ["cell_started", "arrays", "empty"]
    assert problem is None


def test_a_payload_that_ends_the_stream_arrives() -> None:
    assert read_all(line({"payload": 3}) + b"abc") == ([Message({"payload": 3}, b"abc")], None)


def test_an_empty_line_is_not_a_message() -> None:
    assert read_all(b"\n") == ([], "a message that is not a JSON object")


def test_a_message_cut_short_by_the_end_of_the_stream_is_dropped_without_blame() -> None:
    assert read_all(line({"payload": 10}) + b"abc") == ([], None)
    assert read_all(b'{"event": "half') == ([], None)


def test_a_payload_as_large_as_allowed_is_waited_for() -> None:
    assert read_all(line({"payload": MAX_PAYLOAD_BYTES})) == ([], None)


@pytest.mark.parametrize("size", [-1, MAX_PAYLOAD_BYTES + 1, "3", 3.0, True, None])
def test_a_payload_size_that_is_not_a_count_within_the_cap_is_the_submissions_doing(size: object) -> None:
    assert read_all(line({"payload": size}) + b"abc") == (
        [],
        f"a payload of {size!r} bytes, more than the grader reads",
    )


def test_a_silent_process_ends_the_reading_at_the_deadline_without_blame() -> None:
    with channel_sending(close=False) as reader:
        started = time.monotonic()
        assert reader.next(started + 0.2) is None
        assert 0.15 < time.monotonic() - started < SOON
        assert reader.problem is None
        assert reader.next(time.monotonic() - 1) is None


def test_a_line_as_long_as_allowed_is_read() -> None:
    text = "x" * (MAX_LINE_BYTES - len('{"t": ""}'))
    messages, problem = read_all(line({"t": text}))
    assert messages == [Message({"t": text})] and problem is None


def test_a_line_longer_than_allowed_is_refused_before_its_end_arrives() -> None:
    with channel_sending(b"x" * MAX_LINE_BYTES, close=False) as reader:
        assert reader.next(time.monotonic() + 0.3) is None
        assert reader.problem is None
    with channel_sending(b"x" * (MAX_LINE_BYTES + 1), close=False) as reader:
        assert reader.next(time.monotonic() + SOON) is None
        assert reader.problem == "a message longer than 1024 KB"


@pytest.mark.parametrize("sent", [b"[1, 2]", b'"text"', b"not json", b"\xff\xfe", b"[" * 100_000])
def test_anything_but_a_json_object_is_the_submissions_doing(sent: bytes) -> None:
    assert read_all(sent + b"\n" + line({"event": "later"})) == ([], "a message that is not a JSON object")


def test_nesting_is_capped() -> None:
    messages, problem = read_all(line(nested(MAX_DEPTH)))
    assert messages == [Message(nested(MAX_DEPTH))] and problem is None
    assert read_all(line(nested(MAX_DEPTH + 1))) == ([], f"data nested more than {MAX_DEPTH} levels deep")


def test_the_values_of_a_whole_job_are_capped() -> None:
    per_message = 100_000
    full = [line({"v": [0] * (per_message - 2)}) for _ in range(MAX_JOB_VALUES // per_message)]
    messages, problem = read_all(*full)
    assert len(messages) == len(full) and problem is None
    messages, problem = read_all(*full, line({}))
    assert len(messages) == len(full)
    assert problem == f"more than {MAX_JOB_VALUES} values of results"


def test_the_bytes_of_a_whole_job_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cap's logic, on a cap small enough to reach quickly; its size is its own constant.
    monkeypatch.setattr(channel, "MAX_JOB_BYTES", 3 * 1024**2)
    payload = 1024**2
    header = line({"payload": payload})
    first_two = [header + bytes(payload)] * 2
    rest = channel.MAX_JOB_BYTES - 2 * (len(header) + payload) - len('{"t": ""}\n')
    messages, problem = read_all(*first_two, line({"t": "x" * rest}))
    assert len(messages) == 3 and problem is None
    with channel_sending(*first_two, line({"t": "x" * (rest + 1)}), close=False) as reader:
        started = time.monotonic()
        messages = list(iter(lambda: reader.next(started + SOON), None))
        assert time.monotonic() - started < SOON / 2, "the cap ends the reading, not the deadline"
        assert len(messages) == 2
        assert reader.problem == "more than 3 MB of results"


def test_nul_characters_become_replacement_characters() -> None:
    messages, _ = read_all(b'{"message": "a\\u0000b"}\n')
    assert messages == [Message({"message": "a\ufffdb"})]


def test_lone_surrogates_are_replaced_and_pairs_kept() -> None:
    messages, problem = read_all(
        b'{"lone": "a\\ud800b", "upper": "\\uDBFF"}\n', b'{"pair": "\\ud83d\\ude00"}\n'
    )
    assert messages == [Message({"lone": "a?b", "upper": "?"}), Message({"pair": "\U0001f600"})]
    assert problem is None


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udfff"])
def test_the_lowest_and_highest_lone_surrogates_are_replaced(escape: bytes) -> None:
    assert read_all(b'{"t": "' + escape + b'"}\n') == ([Message({"t": "?"})], None)


def test_shape_of_counts_nesting_and_values() -> None:
    assert shape_of(1) == (1, 1)
    assert shape_of({"a": [1, 2], "b": {"c": None}}) == (3, 6)
    assert shape_of([[1], (2, 3)]) == (3, 4)
