import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvicorn

from app import accounts
from app.metrics import MULTIPROCESS_DIR_VARIABLE
from grader import Catalog
from workers.celery_app import DELIVERIES_QUEUE, GRADING_QUEUE
from workers.database import session_scope
from workers.migrate import migrate as apply_migrations
from workers.settings import get_settings


def migrate() -> int:
    apply_migrations(get_settings())
    print("database is up to date")
    return 0


def create_token(*, name: str) -> int:
    with session_scope(get_settings().database_url) as session:
        token = accounts.create_api_token(session, name=name)
    print(f"instructor token '{name}' (shown once):")
    print(token)
    return 0


def add_student(*, email: str, name: str) -> int:
    with session_scope(get_settings().database_url) as session:
        student = accounts.add_student(session, email=email, name=name)
    print(f"student {student.email}, one-time password:")
    print(student.password)
    return 0


def import_students(*, roster: Path, reset_passwords: bool = False) -> int:
    """Prints the one-time passwords of new students (and of known ones when resetting) as CSV."""
    try:
        text = roster.read_text(encoding="utf-8-sig")
        with session_scope(get_settings().database_url) as session:
            imported = accounts.import_roster(session, text, reset_passwords=reset_passwords)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read the roster {roster}: {error}", file=sys.stderr)
        return 2
    except accounts.RosterRefused as refused:
        print(f"nothing imported from {roster}:", *refused.problems, sep="\n  ", file=sys.stderr)
        return 2
    print("email,password")
    for student in [*imported.added, *imported.new_passwords]:
        print(f"{student.email},{student.password}")
    print(
        f"{len(imported.added)} added, {len(imported.new_passwords)} given new passwords, "
        f"{imported.renamed} renamed, {imported.unchanged} unchanged",
        file=sys.stderr,
    )
    return 0


def reset_student_password(*, email: str) -> int:
    with session_scope(get_settings().database_url) as session:
        student = accounts.reset_password(session, email)
    if student is None:
        print(f"there is no student {email}", file=sys.stderr)
        return 2
    print(f"student {student.email}, one-time password (to be changed at the next login):")
    print(student.password)
    return 0


def create_integration(*, name: str, callback_urls: list[str]) -> int:
    with session_scope(get_settings().database_url) as session:
        secret = accounts.create_integration(session, name=name, callback_urls=callback_urls)
    print(f"integration '{name}', callbacks to: {', '.join(callback_urls) or 'none'}; webhook secret:")
    print(secret)
    return 0


def api(*, host: str, port: int, processes: int = 1) -> int:
    counters = None
    if processes > 1 and not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        # Request counters then live in files every process writes, and /metrics sums them.
        counters = tempfile.mkdtemp(prefix="tfgrade-metrics-")
        os.environ[MULTIPROCESS_DIR_VARIABLE] = counters
    try:
        uvicorn.run(
            "app.main:create_app", factory=True, host=host, port=port, log_level="info", workers=processes
        )
    finally:
        if counters:
            shutil.rmtree(counters, ignore_errors=True)
    return 0


def worker(*, queues: list[str], concurrency: int | None, hostname: str | None, allow_no_cgroup: bool) -> int:
    from workers.cgroup_check import CgroupsMissing
    from workers.main import default_hostname, run_worker

    settings = get_settings()
    if allow_no_cgroup:
        settings = settings.model_copy(update={"allow_no_cgroup": True})
    try:
        run_worker(
            settings,
            queues=queues,
            concurrency=concurrency or settings.worker_concurrency,
            hostname=hostname or default_hostname(),
        )
    except CgroupsMissing as refusal:
        print(f"tfgrade worker: {refusal}", file=sys.stderr)
        return 2
    return 0


def _start(*arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", *arguments], env=os.environ.copy())


def _supervise(processes: list[subprocess.Popen[bytes]]) -> int:
    """Waits until one process ends or we are told to stop, then stops them all."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return max(process.returncode or 0 for process in processes)


def _print_demo_logins() -> None:
    email, name = "student@example.com", "Demo Student"
    with session_scope(get_settings().database_url) as session:
        token = accounts.create_api_token(session, name="demo")
        student = accounts.add_student(session, email=email, name=name)
    print(f"demo student login: {student.email} / {student.password}")
    print(f"demo instructor token: {token}")


def serve(*, host: str, port: int, concurrency: int | None, demo: bool, allow_no_cgroup: bool) -> int:
    settings = get_settings()
    apply_migrations(settings)
    slugs = ", ".join(Catalog().assignments) or "none"
    print(f"assignments: {slugs}")
    url = f"http://{host}:{port}"
    if demo:
        _print_demo_logins()
    processes = [
        _start("api", f"--host={host}", f"--port={port}"),
        _start(
            "worker",
            f"--queues={GRADING_QUEUE}",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            *(["--allow-no-cgroup"] if allow_no_cgroup else []),
        ),
        _start("worker", f"--queues={DELIVERIES_QUEUE}", "--concurrency=2"),
    ]
    print(f"tfgrade is serving at {url} (API docs at {url}/docs)", flush=True)
    return _supervise(processes)
