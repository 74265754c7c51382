"""`tfgrade students`: a roster is imported whole or not at all, importing it again keeps every password
unless asked to reset them, and a reset password must be changed at the next login."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from app.accounts import authenticate_student
from workers.database import session_scope
from workers.models import Student
from workers.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StudentsCli:
    """`tfgrade students ...` run as a script, against this test's database."""

    env: dict[str, str]
    roster: Path

    def __call__(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "students", *arguments],
            env={**os.environ, **self.env},
            cwd=PROJECT,
            capture_output=True,
            text=True,
        )

    def import_roster(self, roster: str, *options: str) -> subprocess.CompletedProcess[str]:
        self.roster.write_text(roster)
        return self("import", str(self.roster), *options)


@pytest.fixture
def cli(unit_env: dict[str, str], tmp_path: Path) -> StudentsCli:
    return StudentsCli(unit_env, tmp_path / "roster.csv")


def students(settings: Settings) -> dict[str, str]:
    with session_scope(settings.database_url) as session:
        return {row.email: row.name for row in session.execute(select(Student.email, Student.name))}


def passwords(output: str) -> dict[str, str]:
    header, *lines = output.splitlines()
    assert header == "email,password"
    return dict(line.split(",") for line in lines)


@pytest.mark.parametrize(
    ("roster", "problems"),
    [
        (
            "mail,name\na@example.com,Ada\n",
            ["line 1: the header must name the columns email and name once each; it names mail, name"],
        ),
        ("", ["line 1: the header must name the columns email and name once each; it names nothing"]),
        (
            "email,name\na@example.com,Ada\nnot-an-email,Bob\nA@example.com,Ada again\nc@example.com,\nd@example.com\n",
            [
                "line 3: 'not-an-email' is not an email address",
                "line 4: a@example.com is already on an earlier line",
                "line 5: the name of c@example.com must be 1 to 200 printable characters",
                "line 6: 1 columns where the header has 2",
            ],
        ),
        (
            "email,name,email\na@example.com,Ada,b@example.com\n",
            [
                "line 1: the header must name the columns email and name once each; it names email, name, email"
            ],
        ),
        (
            'email,name\nb@example.com,"Bob\nc@example.com,Cy\n',
            ["line 3: the name of b@example.com must be 1 to 200 printable characters"],
        ),
        (
            "email,name\na@example.com," + "x" * 200_000 + "\n",
            ["line 2: field larger than field limit (131072)"],
        ),
    ],
    ids=["misspelled-header", "empty-file", "bad-lines", "repeated-column", "unclosed-quote", "huge-field"],
)
def test_a_roster_with_any_bad_line_is_refused_whole_with_every_reason(
    cli: StudentsCli, settings: Settings, roster: str, problems: list[str]
) -> None:
    done = cli.import_roster(roster)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nothing imported from {cli.roster}:",
        *(f"  {p}" for p in problems),
    ]
    assert done.stdout == ""
    assert students(settings) == {}


def test_importing_again_adds_and_renames_and_keeps_passwords_unless_reset(
    cli: StudentsCli, settings: Settings
) -> None:
    first = passwords(cli.import_roster("Email , Name\nA@Example.com,Ada\nb@example.com,Bob\n").stdout)
    assert list(first) == ["a@example.com", "b@example.com"]

    again = cli.import_roster("email,name\nb@example.com,Bobby\nc@example.com,Cy\na@example.com,Ada\n")
    assert again.returncode == 0
    assert list(passwords(again.stdout)) == ["c@example.com"]
    assert again.stderr == "1 added, 0 given new passwords, 1 renamed, 1 unchanged\n"
    assert students(settings) == {"a@example.com": "Ada", "b@example.com": "Bobby", "c@example.com": "Cy"}
    for email, password in first.items():
        assert authenticate_student(settings.database_url, email=email, password=password) is not None

    reset = cli.import_roster("email,name\na@example.com,Ada\n", "--reset-passwords")
    fresh = passwords(reset.stdout)
    assert list(fresh) == ["a@example.com"]
    assert (
        authenticate_student(settings.database_url, email="a@example.com", password=first["a@example.com"])
        is None
    )
    assert (
        authenticate_student(settings.database_url, email="a@example.com", password=fresh["a@example.com"])
        is not None
    )


def test_a_reset_password_is_printed_once_and_must_be_changed(cli: StudentsCli, settings: Settings) -> None:
    first = passwords(cli.import_roster("email,name\na@example.com,Ada\n").stdout)["a@example.com"]
    reset = cli("reset-password", "A@example.com")
    assert reset.returncode == 0
    heading, one_time = reset.stdout.splitlines()
    assert heading == "student a@example.com, one-time password (to be changed at the next login):"
    assert authenticate_student(settings.database_url, email="a@example.com", password=first) is None
    found = authenticate_student(settings.database_url, email="a@example.com", password=one_time)
    assert found is not None and found.must_change_password

    unknown = cli("reset-password", "nobody@example.com")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        2,
        "",
        "there is no student nobody@example.com\n",
    )
