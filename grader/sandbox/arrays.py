"""Reading NumPy arrays that a sandboxed process sent, without trusting the archive.

Only uncompressed archives of plain numeric arrays, read without pickle, within a size cap: a
compressed member could expand far past what was sent.
"""

import io
import zipfile
from tokenize import TokenError

import numpy as np

MAX_ARRAY_BYTES = 160 * 1024**2
MAX_ARRAYS = 1000


class UnreadableArrays(ValueError):
    """The bytes are not an archive of numeric arrays the grader reads."""


def read_arrays(data: bytes) -> dict[str, np.ndarray]:
    if not data:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARRAYS:
                raise UnreadableArrays(f"more than {MAX_ARRAYS} arrays")
            if any(member.compress_type != zipfile.ZIP_STORED for member in members):
                raise UnreadableArrays("compressed arrays")
            if sum(member.file_size for member in members) > MAX_ARRAY_BYTES:
                raise UnreadableArrays("arrays larger than the grader reads")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
    # numpy parses each array's header with Python's own tokenizer and parser, which have errors of their own.
    except (
        OSError,
        ValueError,
        zipfile.BadZipFile,
        EOFError,
        SyntaxError,
        TokenError,
        RecursionError,
    ) as error:
        raise UnreadableArrays(str(error)[:200]) from error
    if any(array.dtype.kind not in "biuf" for array in loaded.values()):
        raise UnreadableArrays("arrays that are not numbers")
    return loaded


def with_arrays(value: object, arrays: list[np.ndarray]) -> object:
    """An observation's JSON with its `{"__array__": n}` placeholders replaced by the arrays sent."""
    if type(value) is dict:
        index = value.get("__array__")
        if len(value) == 1 and type(index) is int:
            if not 0 <= index < len(arrays):
                raise UnreadableArrays("a reference to an array that was not sent")
            return arrays[index]
        return {key: with_arrays(item, arrays) for key, item in value.items()}
    if type(value) is list:
        return [with_arrays(item, arrays) for item in value]
    return value


def archive(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()
