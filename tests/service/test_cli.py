from pathlib import Path

from helpers import tfgrade
from sqlalchemy import select

from app.accounts import authenticate_student, find_api_token
from workers.database import session_scope
from workers.models import Integration
from workers.settings import Settings


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_tokens_create_prints_a_working_token_alone_on_the_last_line(
    unit_env: dict[str, str], settings: Settings
) -> None:
    token = last_line(tfgrade(unit_env, "tokens", "create", "--name", "ci"))
    with session_scope(settings.database_url) as session:
        found = find_api_token(session, token)
        assert found is not None and found.name == "ci"
        assert found.token_hash != token


def test_students_add_prints_a_one_time_password_that_logs_in(
    unit_env: dict[str, str], settings: Settings
) -> None:
    password = last_line(tfgrade(unit_env, "students", "add", "--email", "Ada@Example.com", "--name", "Ada"))
    assert authenticate_student(settings.database_url, email="ada@example.com", password=password) is not None
    assert (
        authenticate_student(settings.database_url, email="ada@example.com", password=password + "x") is None
    )


def test_students_import_gives_every_roster_row_a_password(
    unit_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\nbo@example.com,Bo\ncy@example.com,Cy\n")
    lines = tfgrade(unit_env, "students", "import", str(roster)).strip().splitlines()
    assert lines[0] == "email,password"
    passwords = dict(line.split(",") for line in lines[1:])
    for email, password in passwords.items():
        assert authenticate_student(settings.database_url, email=email, password=password) is not None
    assert sorted(passwords) == ["bo@example.com", "cy@example.com"]


def test_integrations_create_prints_the_webhook_secret_last(
    unit_env: dict[str, str], settings: Settings
) -> None:
    output = tfgrade(
        unit_env, "integrations", "create", "--name", "canvas-cli", "--callback-url", "https://lms.example/cb"
    )
    secret = last_line(output)
    assert secret.startswith("whsec_")
    with session_scope(settings.database_url) as session:
        integration = session.scalars(select(Integration).where(Integration.name == "canvas-cli")).one()
        assert integration.secret == secret
        assert integration.callback_urls == ["https://lms.example/cb"]
