"""The `tfgrade` command. Imports stay inside the handlers so that `tfgrade grade` starts fast."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.cli import add_grading_commands, version_line


def _migrate(args: argparse.Namespace) -> int:
    from app import commands

    return commands.migrate()


def _serve(args: argparse.Namespace) -> int:
    from app import commands

    return commands.serve(
        host=args.host,
        port=args.port,
        concurrency=args.concurrency,
        demo=args.demo,
        allow_no_cgroup=args.allow_no_cgroup,
    )


def _api(args: argparse.Namespace) -> int:
    from app import commands

    return commands.api(host=args.host, port=args.port, processes=args.processes)


def _worker(args: argparse.Namespace) -> int:
    from app import commands

    return commands.worker(
        queues=args.queues.split(","),
        concurrency=args.concurrency,
        hostname=args.hostname,
        allow_no_cgroup=args.allow_no_cgroup,
    )


def _tokens_create(args: argparse.Namespace) -> int:
    from app import commands

    return commands.create_token(name=args.name)


def _students_add(args: argparse.Namespace) -> int:
    from app import commands

    return commands.add_student(email=args.email, name=args.name)


def _students_import(args: argparse.Namespace) -> int:
    from app import commands

    return commands.import_students(roster=args.roster, reset_passwords=args.reset_passwords)


def _students_reset_password(args: argparse.Namespace) -> int:
    from app import commands

    return commands.reset_student_password(email=args.email)


def _integrations_create(args: argparse.Namespace) -> int:
    from app import commands

    return commands.create_integration(name=args.name, callback_urls=args.callback_url)


def _doctor(args: argparse.Namespace) -> int:
    from app.doctor import run_doctor
    from grader import Catalog

    return 0 if run_doctor(Catalog()) else 1


def _add_cgroup_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-no-cgroup",
        action="store_true",
        help="grade even where no cgroup caps submissions' memory and processes (TFGRADE_ALLOW_NO_CGROUP)",
    )


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfgrade", description="Autograding for TensorFlow notebooks.")
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", required=True)
    add_grading_commands(commands)

    serve = commands.add_parser("serve", help="run the API and workers on this machine")
    _add_server_options(serve)
    serve.add_argument(
        "--concurrency", type=int, default=None, help="grading slots (TFGRADE_WORKER_CONCURRENCY)"
    )
    serve.add_argument("--demo", action="store_true", help="also create and print a demo token and student")
    _add_cgroup_option(serve)
    serve.set_defaults(func=_serve)

    api = commands.add_parser("api", help="run the web app and REST API")
    _add_server_options(api)
    api.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes sharing the port (one per core that serves)",
    )
    api.set_defaults(func=_api)

    worker = commands.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--queues", default="grading,deliveries")
    worker.add_argument("--concurrency", type=int, default=None, help="threads and sandboxes")
    worker.add_argument("--hostname", default=None)
    _add_cgroup_option(worker)
    worker.set_defaults(func=_worker)

    commands.add_parser("migrate", help="create or upgrade the database schema").set_defaults(func=_migrate)

    doctor = commands.add_parser(
        "doctor", help="check this host's sandbox and every assignment's canary (solution full, template 0)"
    )
    doctor.set_defaults(func=_doctor)

    tokens = commands.add_parser("tokens", help="instructor API tokens").add_subparsers(required=True)
    create_token = tokens.add_parser("create", help="print a new token (shown once)")
    create_token.add_argument("--name", required=True)
    create_token.set_defaults(func=_tokens_create)

    students = commands.add_parser("students", help="student accounts").add_subparsers(required=True)
    add = students.add_parser("add", help="add a student and print a one-time password")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.set_defaults(func=_students_add)
    roster = students.add_parser(
        "import", help="add the new students of a CSV roster (header: email,name) and update names"
    )
    roster.add_argument("roster", type=Path)
    roster.add_argument(
        "--reset-passwords", action="store_true", help="also give students already known new passwords"
    )
    roster.set_defaults(func=_students_import)
    reset = students.add_parser(
        "reset-password", help="print a one-time password, to be changed at the next login; ends all sessions"
    )
    reset.add_argument("email")
    reset.set_defaults(func=_students_reset_password)

    integrations = commands.add_parser("integrations", help="LMS integrations").add_subparsers(required=True)
    integration = integrations.add_parser("create", help="register an LMS and print its webhook secret")
    integration.add_argument("--name", required=True)
    integration.add_argument("--callback-url", action="append", default=[], help="repeatable")
    integration.set_defaults(func=_integrations_create)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
