"""What runs a student's job inside the sandbox. Standalone: only the standard library, NumPy and TensorFlow.

The zygote imports TensorFlow through `warm_up`; each job's process then reads its job from stdin, runs
the program's cells one by one and, right after each exercise's last cell, calls that exercise's observations
and exports its models (so what a finished exercise earns is sent before a limit can stop a later one), writing
what they yield to the channel descriptor: JSON lines, each optionally followed by raw bytes (`payload`).

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
        saved.append((namespace, _code_of(namespace)))
        for value in list(namespace.values()):
            if _type(value) is type and getattr(value, "__module__", "") == name:
                saved.append((value, _code_of(value.__dict__)))
    return saved


def _code_of(namespace) -> dict:
    """The functions, classes and modules a namespace holds: what a patch replaces. Its other values are
    the libraries' own state (TensorFlow's eager context among them), which changes as cells run and must
    not be wound back between exercises."""
    return {
        key: value
        for key, value in namespace.items()
        if callable(value) or isinstance(value, (staticmethod, classmethod, property, _type(sys)))
    }


def restore_libraries(saved: list) -> list:
    """Undo the student's monkey-patching (np.allclose = ...) so an honest student's observations work;
    a dishonest one gains nothing from it, since nothing here is believed on its own. Returns what it
    undid, in the same form, so that the student's own later cells can have it back."""
    undone: list = []
    for owner, original in saved:
        namespace = owner if _type(owner) is dict else owner.__dict__
        replaced = {
            key: namespace[key] for key, value in original.items() if namespace.get(key, value) is not value
        }
        for key, value in original.items():
            if namespace.get(key) is value:
                continue
            if _type(owner) is dict:
                owner[key] = value
                continue
            try:
                type.__setattr__(owner, key, value)
            except (AttributeError, TypeError):
                replaced.pop(key, None)
        if replaced:
            undone.append((owner, replaced))
    return undone


def guarded_namespace(namespace: dict, saved: list) -> dict:
    """The namespace as the observations see it: a student's function that patches a library while an
    observation calls it is undone on return. A copy, so the student's own cells keep their functions."""
    function_type = _type(guarded_namespace)
    guarded = dict(namespace)
    for name, value in namespace.items():
        if _type(value) is function_type and getattr(value, "__module__", None) == "__main__":
            guarded[name] = _restoring(value, saved)
    return guarded


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


def raised_in(error: BaseException, cells: list, number: int):
    """The exercise cell, before the failing cell `number`, whose code the error was raised in, if any."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        name = frame.filename
        if name.startswith("<cell ") and name.endswith(">") and name[6:-1].isdigit():
            cell = int(name[6:-1]) - 1
            if cell < number and cells[cell]["is_exercise_cell"]:
                found = cell
    return found


def missing_name(error: BaseException):
    name = getattr(error, "name", None) if isinstance(error, NameError) else None
    return name if _type(name) is str else None


def blame(cells: list, number: int, raised: object, missing: object, skipped: set):
    """The exercise a failing cell counts against, if any (mirrored by the host's `grader.outcome`): its
    own, for an exercise's cell; for a course cell, the exercise whose code raised the error, or that was
    meant to define the missing name. Any other failure of a course cell counts against no exercise."""
    cell = cells[number]
    if cell["is_exercise_cell"]:
        return cell["exercise"]
    if _type(raised) is int:
        return cells[raised]["exercise"]
    if _type(missing) is not str:
        return None
    if missing in skipped:
        return missing
    for earlier in reversed(cells[:number]):
        if earlier["is_exercise_cell"] and missing in earlier["provides"]:
            return earlier["exercise"]
    return None


def cell_failed(number: int, cells: list, error: BaseException, kind: str, state: dict, send) -> None:
    cell = cells[number]
    raised = None if cell["is_exercise_cell"] else raised_in(error, cells, number)
    missing = missing_name(error)
    exercise = blame(cells, number, raised, missing, state["skipped"])
    if exercise is not None:
        state["failed"].add(exercise)
    where = f"<cell {(number if raised is None else raised) + 1}>"
    message = "MemoryError" if kind == "memory" else describe_error(error, where)
    # What this cell should have made is missing: an observation that looks for it says why.
    culprit = f" in your code for '{cells[raised]['exercise']}'" if raised is not None else ""
    cause = f"{cell['label']} failed{culprit}: {message}"
    for name in cell["binds"]:
        if name not in state["namespace"]:
            state["broken"][name] = cause
    event = {"event": "cell_failed", "cell": number, "kind": kind, "message": message}
    if raised is not None:
        event["raised_in"] = raised
    if missing is not None:
        event["missing_name"] = missing
    send(event)


def run_cell(number: int, cells: list, state: dict, send) -> None:
    filename = f"<cell {number + 1}>"
    send({"event": "cell_started", "cell": number})
    started = _monotonic()
    try:
        code = compile(cells[number]["source"], filename, "exec")
    except (SyntaxError, ValueError) as error:
        cell_failed(number, cells, error, "syntax_error", state, send)
        return
    try:
        exec(code, state["namespace"])
    except BaseException as error:  # noqa: BLE001 - the student's code may raise anything, SystemExit too
        kind = "memory" if isinstance(error, MemoryError) else "exception"
        cell_failed(number, cells, error, kind, state, send)
    else:
        send({"event": "cell_finished", "cell": number, "seconds": _monotonic() - started})


def _compiled(item: dict, what: str):
    scope: dict = {"__name__": "tfgrade_observation"}
    exec(compile(item["source"], f"<{what} {item['name']}>", "exec"), scope)
    return scope[item["name"]]


def _failure(event: str, name: str, error: BaseException, state: dict) -> dict:
    if isinstance(error, MemoryError):
        return {"event": event, "name": name, "kind": "memory", "message": "MemoryError"}
    message = _unmade(error, state) or describe_error(error, "<cell ")
    return {"event": event, "name": name, "kind": "exception", "message": message}


def _unmade(error: BaseException, state: dict):
    """An observation looking up a name the notebook never made reads as why it was not made: the error
    of the cell that should have made it, not a KeyError of the grader's own code."""
    name = missing_name(error)
    if name is None and isinstance(error, KeyError) and len(error.args) == 1:
        frames = traceback.extract_tb(error.__traceback__)
        if frames and frames[-1].filename.startswith(("<observation ", "<export ")):
            name = error.args[0]
    if _type(name) is not str or name in state["namespace"]:
        return None
    return state["broken"].get(name) or f"your notebook did not define '{name}'"


def run_observations(observations: list[dict], namespace: dict, inputs: dict, state: dict, send) -> None:
    for observation in observations:
        send({"event": "observation_started", "name": observation["name"]})
        arrays = Arrays()
        try:
            value = plain(_compiled(observation, "observation")(namespace, inputs), arrays)
            archive = arrays.archive()
        except BaseException as error:  # noqa: BLE001
            send(_failure("observation_failed", observation["name"], error, state))
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


def run_exports(exports: list[dict], namespace: dict, state: dict, send) -> None:
    for export in exports:
        try:
            described, weights = export_model(_compiled(export, "export")(namespace))
        except BaseException as error:  # noqa: BLE001
            send(_failure("model_failed", export["name"], error, state))
        else:
            send({"event": "model", "name": export["name"], **described}, weights)


def check_exercise(exercise: str, header: dict, inputs: dict, state: dict, libraries: list, send) -> None:
    """The exercise's observations and exports, right after its last cell: what it earns is sent before
    a later exercise can exhaust the notebook's time or memory. The libraries are as they were before any
    student code ran while they run, and as the student's code left them afterwards, for the next cells."""
    observations = [item for item in header["observations"] if item["exercise"] == exercise]
    exports = [item for item in header["exports"] if item["exercise"] == exercise]
    if exercise in state["failed"] or not (observations or exports):
        return
    send({"event": "checking", "exercise": exercise})
    patched = restore_libraries(libraries)
    try:
        namespace = guarded_namespace(state["namespace"], libraries)
        run_observations(observations, namespace, inputs, state, send)
        run_exports(exports, namespace, state, send)
    finally:
        restore_libraries(patched)


def last_cells(cells: list) -> dict:
    """Each cell number after which an exercise is complete: the last of the cells that belong to it."""
    last = {}
    for number, cell in enumerate(cells):
        if cell["exercise"] is not None:
            last[cell["exercise"]] = number
    ending: dict = {}
    for exercise, number in last.items():
        ending.setdefault(number, []).append(exercise)
    return ending


def run_job(header: dict, blobs: dict, libraries: list) -> None:
    send = make_sender()
    configure(header)
    inputs = load_arrays(blobs.get("inputs", b""))
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    skipped = set(header["skipped_exercises"])
    state = {"namespace": namespace, "failed": set(skipped), "skipped": skipped, "broken": {}}
    cells = header["cells"]
    ending = last_cells(cells)
    for number in range(len(cells)):
        run_cell(number, cells, state, send)
        for exercise in ending.get(number, ()):
            check_exercise(exercise, header, inputs, state, libraries, send)
    without_cells = {item["exercise"] for item in header["observations"] + header["exports"]}
    for exercise in sorted(without_cells - {cell["exercise"] for cell in cells}):
        check_exercise(exercise, header, inputs, state, libraries, send)
    sys.stdout.flush()
    sys.stderr.flush()
    send({"event": "done"})
    os._exit(0)
