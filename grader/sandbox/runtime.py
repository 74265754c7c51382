"""The program that runs inside the sandbox. Standalone: only the standard library, NumPy and TensorFlow.

It imports TensorFlow while it waits, announces `ready`, then reads one job from stdin, runs the
program's cells one by one, calls the observations and writes JSON events to the event descriptor.
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

EVENT_FD = int(sys.argv[1]) if len(sys.argv) > 1 else 3
_write = os.write
_dumps = json.dumps
_type = builtins.type
_monotonic = time.monotonic
_PLAIN_SCALARS = (str, int, float, bool, _type(None))


def emit(event: dict) -> None:
    _write(EVENT_FD, (_dumps(event, default=str) + "\n").encode())


def plain(value: object, depth: int = 0) -> object:
    """Only plain JSON data leaves the sandbox: no subclass, no object with clever comparisons."""
    kind = _type(value)
    if depth > 20:
        raise TypeError("observation nested too deeply")
    if kind in _PLAIN_SCALARS:
        return value
    if kind in (list, tuple):
        return [plain(item, depth + 1) for item in value]  # type: ignore[union-attr]
    if kind is dict:
        return {str(key): plain(item, depth + 1) for key, item in value.items()}  # type: ignore[union-attr]
    raise TypeError(f"observation returned a {kind.__name__}, not plain data")


def warm_up() -> None:
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401

    emit({"event": "ready", "pid": os.getpid()})


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
    scratch = header["scratch"]
    os.makedirs(scratch, exist_ok=True)
    os.chdir(scratch)
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
    line = None
    if isinstance(error, SyntaxError) and error.filename == filename:
        line = error.lineno
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename == filename:
                line = frame.lineno
    where = f"line {line}: " if line else ""
    detail = str(error) if not isinstance(error, SyntaxError) else (error.msg or "invalid syntax")
    if isinstance(error, SystemExit):
        detail = "your code called exit(); remove that call"
    return f"{where}{_type(error).__name__}: {detail}"[:2000]


def run_cells(cells: list[dict], namespace: dict, failed: set) -> None:
    for number, cell in enumerate(cells):
        filename = f"<cell {number + 1}>"
        emit({"event": "cell_started", "cell": number})
        started = _monotonic()
        try:
            code = compile(cell["source"], filename, "exec")
        except (SyntaxError, ValueError) as error:
            failed.add(cell["exercise"])
            emit({"event": "cell_failed", "cell": number, "kind": "syntax_error",
                  "message": describe_error(error, filename)})
            continue
        try:
            exec(code, namespace)
        except MemoryError:
            failed.add(cell["exercise"])
            emit({"event": "cell_failed", "cell": number, "kind": "memory", "message": "MemoryError"})
        except BaseException as error:  # noqa: BLE001 - the student's code may raise anything, SystemExit too
            failed.add(cell["exercise"])
            emit({"event": "cell_failed", "cell": number, "kind": "exception",
                  "message": describe_error(error, filename)})
        else:
            emit({"event": "cell_finished", "cell": number, "seconds": _monotonic() - started})


def run_observations(observations: list[dict], namespace: dict, inputs: dict, failed: set) -> None:
    for observation in observations:
        if observation["exercise"] in failed:
            continue
        emit({"event": "observation_started", "name": observation["name"]})
        try:
            scope: dict = {"__name__": "tfgrade_observation"}
            exec(compile(observation["source"], f"<observation {observation['name']}>", "exec"), scope)
            value = plain(scope[observation["name"]](namespace, inputs))
        except MemoryError:
            emit({"event": "observation_failed", "name": observation["name"], "kind": "memory",
                  "message": "MemoryError"})
        except BaseException as error:  # noqa: BLE001
            emit({"event": "observation_failed", "name": observation["name"], "kind": "exception",
                  "message": f"{_type(error).__name__}: {error}"[:2000]})
        else:
            emit({"event": "observation", "name": observation["name"], "value": value})


def main() -> None:
    warm_up()
    header, inputs = read_job()
    configure(header)
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    failed = set(header["skipped_exercises"])
    run_cells(header["cells"], namespace, failed)
    run_observations(header["observations"], namespace, inputs, failed)
    emit({"event": "done"})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
