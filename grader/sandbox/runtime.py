"""What runs a job inside the sandbox. Standalone: only the standard library, NumPy and TensorFlow.

The zygote imports TensorFlow through `warm_up`; each job's process then reads its job from stdin, runs
the program's cells one by one, calls the observations and writes JSON events to the event descriptor.
Nothing here decides a score: the judge outside reads the observations.
"""

import builtins
import io
import json
import os
import resource
import sys
import time
import traceback

EVENT_FD = 3
_write = os.write
_dumps = json.dumps
_type = builtins.type
_monotonic = time.monotonic
_PLAIN_SCALARS = (str, int, float, bool, _type(None))


def make_emitter(token: str):
    """Events carry the job's token, so a student's stray writes to the descriptor are not taken as ours.

    Forked children of the student's code inherit the descriptor; only this process may speak.
    """
    prefix = (token + " ").encode()
    owner = os.getpid()
    getpid = os.getpid

    def emit(event: dict) -> None:
        if getpid() == owner:
            _write(EVENT_FD, prefix + (_dumps(event, default=str) + "\n").encode())

    return emit


def plain(value: object, depth: int = 0) -> object:
    """Only plain JSON data leaves the sandbox: no subclass, no object with clever comparisons."""
    kind = _type(value)
    if depth > 20:
        raise TypeError("observation nested too deeply")
    if kind is float and (value != value or value in (float("inf"), float("-inf"))):
        return repr(value)  # JSON has no NaN or infinity; a check then sees a string, not a number
    if kind in _PLAIN_SCALARS:
        return value
    if kind in (list, tuple):
        return [plain(item, depth + 1) for item in value]  # type: ignore[attr-defined]
    if kind is dict:
        return {str(key): plain(item, depth + 1) for key, item in value.items()}  # type: ignore[attr-defined]
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
    """Undo the student's monkey-patching (np.allclose = ..., builtins.isinstance = ...) before observing."""
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
    header = json.loads(sys.stdin.buffer.readline())
    payload = sys.stdin.buffer.read(header["inputs_size"]) if header["inputs_size"] else b""
    inputs: dict = {}
    if payload:
        import numpy

        with numpy.load(io.BytesIO(payload), allow_pickle=False) as archive:
            inputs = {name: archive[name] for name in archive.files}
    return header, inputs


def configure(header: dict) -> None:
    import tensorflow as tf

    threads = header["threads"]
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    # The same submission earns the same score when it is graded again.
    tf.keras.utils.set_random_seed(header["seed"])
    scratch = header["scratch"]
    os.makedirs(scratch, exist_ok=True)
    os.chdir(scratch)
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


def run_cells(cells: list[dict], namespace: dict, failed: set, emit) -> None:
    for number, cell in enumerate(cells):
        filename = f"<cell {number + 1}>"
        emit({"event": "cell_started", "cell": number})
        started = _monotonic()
        try:
            code = compile(cell["source"], filename, "exec")
        except (SyntaxError, ValueError) as error:
            blame(cell, failed)
            emit(
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
            emit({"event": "cell_failed", "cell": number, "kind": "memory", "message": "MemoryError"})
        except BaseException as error:  # noqa: BLE001 - the student's code may raise anything, SystemExit too
            blame(cell, failed)
            emit(
                {
                    "event": "cell_failed",
                    "cell": number,
                    "kind": "exception",
                    "message": describe_error(error, filename),
                }
            )
        else:
            emit({"event": "cell_finished", "cell": number, "seconds": _monotonic() - started})


def run_observations(observations: list[dict], namespace: dict, inputs: dict, failed: set, emit) -> None:
    for observation in observations:
        if observation["exercise"] in failed:
            continue
        emit({"event": "observation_started", "name": observation["name"]})
        try:
            scope: dict = {"__name__": "tfgrade_observation"}
            exec(compile(observation["source"], f"<observation {observation['name']}>", "exec"), scope)
            value = plain(scope[observation["name"]](namespace, inputs))
        except MemoryError:
            emit(
                {
                    "event": "observation_failed",
                    "name": observation["name"],
                    "kind": "memory",
                    "message": "MemoryError",
                }
            )
        except BaseException as error:  # noqa: BLE001
            emit(
                {
                    "event": "observation_failed",
                    "name": observation["name"],
                    "kind": "exception",
                    "message": describe_error(error, "<cell "),
                }
            )
        else:
            emit({"event": "observation", "name": observation["name"], "value": value})


def run_job(header: dict, inputs: dict, libraries: list) -> None:
    emit = make_emitter(header.pop("token"))
    configure(header)
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    failed = set(header["skipped_exercises"])
    run_cells(header["cells"], namespace, failed, emit)
    restore_libraries(libraries)
    guard_student_functions(namespace, libraries)
    run_observations(header["observations"], namespace, inputs, failed, emit)
    emit({"event": "done"})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
