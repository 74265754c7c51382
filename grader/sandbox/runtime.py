"""What runs a student's job inside the sandbox. Standalone: only the standard library, NumPy and TensorFlow.

The zygote imports TensorFlow through `warm_up`; each job's process then reads its job from stdin, runs
the program's cells one by one, calls the observations and exports the models, writing what they yield
to the channel descriptor: JSON lines, each optionally followed by raw bytes (`payload`).

Nothing this process writes is believed by the host: the student's code runs here and can write any
bytes to the channel. The host decides scores only from evidence that costs as much to forge as to earn:
values computed from inputs drawn fresh for this job, and the exported model, which a separate process
that never ran student code rebuilds and evaluates on inputs this process never sees.
"""

import builtins
import io
import json
import os
import resource
import sys
import time
import traceback

CHANNEL_FD = 3
_write = os.write
_dumps = json.dumps
_type = builtins.type
_monotonic = time.monotonic
_PLAIN_SCALARS = (str, int, float, bool, _type(None))
MAX_DEPTH = 20


def make_sender():
    """Forked children of the student's code inherit the descriptor; only this process speaks on it."""
    owner = os.getpid()
    getpid = os.getpid

    def send(message: dict, payload: bytes = b"") -> None:
        if getpid() != owner:
            return
        if payload:
            message = {**message, "payload": len(payload)}
        data = memoryview((_dumps(message, default=str) + "\n").encode() + payload)
        while data:
            data = data[_write(CHANNEL_FD, data) :]

    return send


class Arrays:
    """NumPy arrays found in an observation's value, sent as one uncompressed .npz after its JSON."""

    def __init__(self) -> None:
        self.items: list = []

    def add(self, array) -> dict:
        self.items.append(array)
        return {"__array__": len(self.items) - 1}

    def archive(self) -> bytes:
        if not self.items:
            return b""
        import numpy

        buffer = io.BytesIO()
        numpy.savez(buffer, *self.items)
        return buffer.getvalue()


def plain(value: object, arrays: Arrays, depth: int = 0) -> object:
    """Only plain JSON data and numeric arrays leave: no subclass, no object with clever comparisons."""
    import numpy

    kind = _type(value)
    if depth > MAX_DEPTH:
        raise TypeError("observation nested too deeply")
    if kind is float and (value != value or value in (float("inf"), float("-inf"))):
        return repr(value)  # JSON has no NaN or infinity; a check then sees a string, not a number
    if kind in _PLAIN_SCALARS:
        return value
    if kind is numpy.ndarray and value.dtype.kind in "biuf":  # type: ignore[attr-defined]
        return arrays.add(numpy.array(value, copy=True))
    if kind in (list, tuple):
        return [plain(item, arrays, depth + 1) for item in value]  # type: ignore[attr-defined]
    if kind is dict:
        return {str(key): plain(item, arrays, depth + 1) for key, item in value.items()}  # type: ignore[attr-defined]
    raise TypeError(f"observation returned a {kind.__name__}, not plain data")


PROTECTED_PACKAGES = ("builtins", "numpy", "tensorflow", "keras", "json", "math")


def snapshot_libraries() -> list:
    """What the libraries the observations rely on look like before any student code runs."""
    saved: list = []
    for name, module in list(sys.modules.items()):
        if module is None or name.partition(".")[0] not in PROTECTED_PACKAGES:
            continue
        namespace = getattr(module, "__dict__", None)
        if _type(namespace) is not dict:
            continue
        saved.append((namespace, dict(namespace)))
        for value in list(namespace.values()):
            if _type(value) is type and getattr(value, "__module__", "") == name:
                saved.append((value, dict(value.__dict__)))
    return saved


def restore_libraries(saved: list) -> None:
    """Undo the student's monkey-patching (np.allclose = ...) so an honest student's observations work;
    a dishonest one gains nothing from it, since nothing here is believed on its own."""
    for owner, original in saved:
        if _type(owner) is dict:
            for key, value in original.items():
                if owner.get(key) is not value:
                    owner[key] = value
            continue
        for key, value in original.items():
            if owner.__dict__.get(key) is not value:
                try:
                    type.__setattr__(owner, key, value)
                except (AttributeError, TypeError):
                    pass


def guard_student_functions(namespace: dict, saved: list) -> None:
    """A student's function that patches a library while an observation calls it is undone on return."""
    function_type = _type(guard_student_functions)
    for name, value in list(namespace.items()):
        if _type(value) is function_type and getattr(value, "__module__", None) == "__main__":
            namespace[name] = _restoring(value, saved)


def _restoring(function, saved: list):
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            restore_libraries(saved)

    return call


def warm_up() -> list:
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401

    return snapshot_libraries()


def read_job() -> tuple[dict, dict]:
    """The job's header (one JSON line), then its blobs of raw bytes in the order the header lists."""
    header = json.loads(sys.stdin.buffer.readline())
    blobs = {name: sys.stdin.buffer.read(size) if size else b"" for name, size in header["blobs"]}
    return header, blobs


def load_arrays(data: bytes) -> dict:
    if not data:
        return {}
    import numpy

    with numpy.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def configure(header: dict) -> None:
    import tensorflow as tf

    threads = header["threads"]
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    tf.keras.utils.set_random_seed(header["seed"])
    scratch = header["scratch"]
    os.makedirs(scratch, exist_ok=True)
    os.chdir(scratch)
    # As in Jupyter, the notebook's folder is importable: the course's own modules (support files) lie there.
    sys.path.insert(0, "")
    os.environ["HOME"] = scratch  # Keras and friends write under ~; keep that in this job's scratch
    if header.get("data_dir"):
        os.symlink(header["data_dir"], os.path.join(scratch, "data"))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = int(used.ru_utime + used.ru_stime + header["cpu_seconds"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    memory = header["memory_bytes"]
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    processes = header["max_processes"]
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    file_size = header["file_size_bytes"]
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write its memory anywhere


def describe_error(error: BaseException, filename: str) -> str:
    """The error as a student reads it, located in their cell (the last line of it in the traceback)."""
    line = None
    if isinstance(error, SyntaxError) and error.filename == filename:
        line = error.lineno
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename.startswith(filename):
                line = frame.lineno
    where = f"line {line}: " if line else ""
    detail = str(error) if not isinstance(error, SyntaxError) else (error.msg or "invalid syntax")
    if isinstance(error, SystemExit):
        detail = "your code called exit(); remove that call"
    return f"{where}{_type(error).__name__}: {detail}"[:2000]


def blame(cell: dict, failed: set) -> None:
    """A failing exercise cell fails its exercise; a failing frozen cell fails the exercise above it,
    unless an earlier exercise already failed and is the likelier cause."""
    if cell["is_exercise_cell"] or not failed:
        failed.add(cell["exercise"])


def run_cells(cells: list[dict], namespace: dict, failed: set, send) -> None:
    for number, cell in enumerate(cells):
        filename = f"<cell {number + 1}>"
        send({"event": "cell_started", "cell": number})
        started = _monotonic()
        try:
            code = compile(cell["source"], filename, "exec")
        except (SyntaxError, ValueError) as error:
            blame(cell, failed)
            send(
                {
                    "event": "cell_failed",
                    "cell": number,
                    "kind": "syntax_error",
                    "message": describe_error(error, filename),
                }
            )
            continue
        try:
            exec(code, namespace)
        except MemoryError:
            blame(cell, failed)
            send({"event": "cell_failed", "cell": number, "kind": "memory", "message": "MemoryError"})
        except BaseException as error:  # noqa: BLE001 - the student's code may raise anything, SystemExit too
            blame(cell, failed)
            send(
                {
                    "event": "cell_failed",
                    "cell": number,
                    "kind": "exception",
                    "message": describe_error(error, filename),
                }
            )
        else:
            send({"event": "cell_finished", "cell": number, "seconds": _monotonic() - started})


def _compiled(item: dict, what: str):
    scope: dict = {"__name__": "tfgrade_observation"}
    exec(compile(item["source"], f"<{what} {item['name']}>", "exec"), scope)
    return scope[item["name"]]


def _failure(event: str, name: str, error: BaseException) -> dict:
    if isinstance(error, MemoryError):
        return {"event": event, "name": name, "kind": "memory", "message": "MemoryError"}
    return {"event": event, "name": name, "kind": "exception", "message": describe_error(error, "<cell ")}


def run_observations(observations: list[dict], namespace: dict, inputs: dict, failed: set, send) -> None:
    for observation in observations:
        if observation["exercise"] in failed:
            continue
        send({"event": "observation_started", "name": observation["name"]})
        arrays = Arrays()
        try:
            value = plain(_compiled(observation, "observation")(namespace, inputs), arrays)
            archive = arrays.archive()
        except BaseException as error:  # noqa: BLE001
            send(_failure("observation_failed", observation["name"], error))
        else:
            send({"event": "observation", "name": observation["name"], "value": value}, archive)


def export_model(model) -> tuple[dict, bytes]:
    """A Keras model as data only: its architecture and compile settings as JSON, its weights as arrays."""
    import numpy

    config = json.loads(_dumps(model.get_config(), default=str))
    compile_config = getattr(model, "get_compile_config", lambda: None)()
    weights = [numpy.asarray(weight) for weight in model.get_weights()]
    buffer = io.BytesIO()
    numpy.savez(buffer, *weights)
    described = {
        "class_name": _type(model).__name__,
        "config": config,
        "compile": json.loads(_dumps(compile_config, default=str)),
    }
    return described, buffer.getvalue()


def run_exports(exports: list[dict], namespace: dict, failed: set, send) -> None:
    for export in exports:
        if export["exercise"] in failed:
            continue
        try:
            described, weights = export_model(_compiled(export, "export")(namespace))
        except BaseException as error:  # noqa: BLE001
            send(_failure("model_failed", export["name"], error))
        else:
            send({"event": "model", "name": export["name"], **described}, weights)


def run_job(header: dict, blobs: dict, libraries: list) -> None:
    send = make_sender()
    configure(header)
    inputs = load_arrays(blobs.get("inputs", b""))
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    failed = set(header["skipped_exercises"])
    run_cells(header["cells"], namespace, failed, send)
    restore_libraries(libraries)
    guard_student_functions(namespace, libraries)
    run_observations(header["observations"], namespace, inputs, failed, send)
    run_exports(header["exports"], namespace, failed, send)
    sys.stdout.flush()
    sys.stderr.flush()
    send({"event": "done"})
    os._exit(0)
