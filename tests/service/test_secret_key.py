"""Session cookies are signed with a secret no one else knows, even when none is configured."""

import base64
import json
import stat
from pathlib import Path

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts import add_student
from app.main import create_app
from workers.database import session_scope
from workers.migrate import migrate
from workers.models import Student
from workers.settings import Settings


def test_without_a_configured_secret_each_data_folder_makes_its_own_once(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "one")
    assert len(first.secret_key) >= 32
    assert Settings(data_dir=tmp_path / "one").secret_key == first.secret_key
    assert Settings(data_dir=tmp_path / "two").secret_key != first.secret_key
    kept = tmp_path / "one" / "secret_key"
    assert kept.read_text() == first.secret_key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert sorted(path.name for path in (tmp_path / "one").iterdir()) == ["secret_key"]


def test_a_configured_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, secret_key="configured-" * 4).secret_key == "configured-" * 4
    assert list(tmp_path.iterdir()) == []


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="set TFGRADE_SECRET_KEY"):
        Settings(data_dir=tmp_path, environment="production")
    assert list(tmp_path.iterdir()) == []


def signed_cookie(secret: str, student_id: int) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it."""
    session = base64.b64encode(json.dumps({"student_id": student_id, "session_version": 0}).encode())
    return itsdangerous.TimestampSigner(secret).sign(session).decode()


def home_page_status(settings: Settings, cookie: str) -> int:
    with TestClient(create_app(settings), cookies={"tfgrade_session": cookie}) as client:
        return client.get("/", follow_redirects=False).status_code


@pytest.mark.parametrize("known_secret", ["development-only-secret", ""])
def test_a_cookie_signed_with_a_guessable_secret_opens_nothing(tmp_path: Path, known_secret: str) -> None:
    settings = Settings(data_dir=tmp_path)
    migrate(settings)
    with session_scope(settings.database_url) as session:
        add_student(session, email="a@example.com", name="A")
        student_id = session.scalars(select(Student.id)).one()
    assert home_page_status(settings, signed_cookie(known_secret, student_id)) == 303
    # Signed with the folder's own secret, the same cookie is believed: the refusal above is the signature's.
    assert home_page_status(settings, signed_cookie(settings.secret_key, student_id)) == 200
