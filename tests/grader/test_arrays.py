"""Reading the arrays a sandboxed process sent: numeric, uncompressed, within caps, or refused."""

import io
import struct
import zipfile

import numpy as np
import pytest

from grader.sandbox.arrays import (
    MAX_ARRAY_BYTES,
    MAX_ARRAYS,
    UnreadableArrays,
    archive,
    read_arrays,
    with_arrays,
)

# Where a zip central directory entry keeps the member's uncompressed size.
CENTRAL_HEADER = b"PK\x01\x02"
UNCOMPRESSED_SIZE_OFFSET = 24


def claiming_size(size: int) -> bytes:
    """A one-member archive whose directory claims `size` bytes: what a forged archive can say."""
    data = archive({"a": np.zeros(1)})
    entry = data.index(CENTRAL_HEADER) + UNCOMPRESSED_SIZE_OFFSET
    return data[:entry] + struct.pack("<I", size) + data[entry + 4 :]


def with_npy_header(header: str) -> bytes:
    """An archive of one .npy member carrying this header, as a forged archive can."""
    encoded = header.encode() + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as members:
        members.writestr("a.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(encoded)) + encoded)
    return buffer.getvalue()


def refusal_of(data: bytes) -> str:
    with pytest.raises(UnreadableArrays) as refused:
        read_arrays(data)
    return str(refused.value)


def test_numeric_arrays_come_back_as_sent() -> None:
    sent = {
        "floats": np.arange(6, dtype=np.float32).reshape(2, 3),
        "ints": np.array([-1, 2]),
        "unsigned": np.array([7], dtype=np.uint8),
        "booleans": np.array([True, False]),
    }
    received = read_arrays(archive(sent))
    assert received.keys() == sent.keys()
    for name, array in sent.items():
        assert received[name].dtype == array.dtype
        np.testing.assert_array_equal(received[name], array)


def test_nothing_sent_is_no_arrays() -> None:
    assert read_arrays(b"") == {}


@pytest.mark.parametrize("array", [np.array(["text"]), np.array([1 + 2j])])
def test_arrays_that_are_not_real_numbers_are_refused(array: np.ndarray) -> None:
    assert refusal_of(archive({"a": array})) == "arrays that are not numbers"


def test_object_arrays_are_refused_without_unpickling() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.array([{"x": 1}], dtype=object))
    assert "pickle" in refusal_of(buffer.getvalue())


def test_compressed_archives_are_refused() -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a=np.zeros(3))
    assert refusal_of(buffer.getvalue()) == "compressed arrays"


def test_the_number_of_arrays_is_capped() -> None:
    assert len(read_arrays(archive({f"a{n}": np.zeros(1) for n in range(MAX_ARRAYS)}))) == MAX_ARRAYS
    too_many = archive({f"a{n}": np.zeros(1) for n in range(MAX_ARRAYS + 1)})
    assert refusal_of(too_many) == f"more than {MAX_ARRAYS} arrays"
    assert MAX_ARRAYS == 1000


def test_the_size_the_archive_claims_is_capped_before_reading() -> None:
    assert refusal_of(claiming_size(MAX_ARRAY_BYTES + 1)) == "arrays larger than the grader reads"
    assert read_arrays(claiming_size(MAX_ARRAY_BYTES)).keys() == {"a"}
    assert MAX_ARRAY_BYTES == 160 * 1024 * 1024


def test_bytes_that_are_no_archive_are_refused_with_a_short_reason() -> None:
    reason = refusal_of(b"PK" + b"\x00" * 5000)
    assert 0 < len(reason) <= 200
    long_reason = refusal_of(
        with_npy_header(f"{{'descr': '{'z' * 400}', 'fortran_order': False, 'shape': (1,), }}")
    )
    assert long_reason.startswith("descr is not a valid dtype descriptor") and len(long_reason) == 200


@pytest.mark.parametrize(
    "header", ["{" + "x" * 50, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "(" * 5000]
)
def test_an_array_header_that_does_not_parse_is_refused(header: str) -> None:
    refusal_of(with_npy_header(header))


def test_placeholders_are_replaced_by_the_arrays_sent_at_any_depth() -> None:
    arrays = [np.zeros(2), np.ones(3)]
    value = {"first": {"__array__": 0}, "rest": [1, {"__array__": 1}, "text"], "n": None}
    replaced = with_arrays(value, arrays)
    assert isinstance(replaced, dict)
    assert replaced["first"] is arrays[0]
    assert replaced["rest"][0] == 1 and replaced["rest"][1] is arrays[1] and replaced["rest"][2] == "text"
    assert replaced["n"] is None


@pytest.mark.parametrize(
    "value",
    [{"__array__": 0, "other": 1}, {"__array__": True}, {"__array__": "0"}, {"__array__": 0.0}],
)
def test_only_a_lone_integer_reference_is_a_placeholder(value: dict[str, object]) -> None:
    assert with_arrays(value, [np.zeros(1)]) == value


@pytest.mark.parametrize("index", [-1, 2])
def test_a_reference_to_an_array_not_sent_is_refused(index: int) -> None:
    with pytest.raises(UnreadableArrays) as refused:
        with_arrays([{"__array__": index}], [np.zeros(1), np.zeros(1)])
    assert str(refused.value) == "a reference to an array that was not sent"
