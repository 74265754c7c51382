"""Accounts and secrets: what a student, an instructor token and an LMS integration are given and checked by."""

import base64
import uuid

from sqlalchemy import select

from app.accounts import (
    add_student,
    authenticate_student,
    create_api_token,
    create_integration,
    find_api_token,
    import_roster,
)
from app.security import new_api_token, new_password
from workers.database import session_scope
from workers.models import ApiToken, Integration, Student
from workers.settings import Settings


def unique_email() -> str:
    return f"student-{uuid.uuid4().hex}@example.com"


def test_generated_passwords_and_tokens_carry_their_random_bytes() -> None:
    assert len(new_password()) == 16  # 12 random bytes
    token = new_api_token()
    assert token.startswith("tfg_") and len(token) == len("tfg_") + 43  # 32 random bytes
    assert new_password() != new_password() and new_api_token() != new_api_token()


def test_a_student_is_stored_once_and_given_a_fresh_password_when_added_again(settings: Settings) -> None:
    email = unique_email()
    with session_scope(settings.database_url) as session:
        first = add_student(session, email=f"  {email.upper()} ", name="First Name")
    with session_scope(settings.database_url) as session:
        second = add_student(session, email=email, name="Second Name", password="chosen")
    assert first.email == second.email == email
    with session_scope(settings.database_url) as session:
        [student] = session.scalars(select(Student).where(Student.email == email)).all()
        assert student.name == "Second Name"
    assert authenticate_student(settings.database_url, email=email, password=first.password) is None
    found = authenticate_student(settings.database_url, email=email, password="chosen")
    assert found is not None and found.student_id == student.id


def test_a_new_student_logs_in_with_the_password_given(settings: Settings) -> None:
    email = unique_email()
    with session_scope(settings.database_url) as session:
        created = add_student(session, email=email, name="Name")
        student_id = session.scalars(select(Student.id).where(Student.email == email)).one()
        assert session.get(Student, student_id).name == "Name"  # type: ignore[union-attr]
    found = authenticate_student(settings.database_url, email=f" {email.upper()}", password=created.password)
    assert found is not None and found.student_id == student_id
    assert authenticate_student(settings.database_url, email=email, password="wrong") is None
    assert (
        authenticate_student(settings.database_url, email=unique_email(), password=created.password) is None
    )


def test_a_roster_adds_every_row_with_its_fields_exactly_as_written(settings: Settings) -> None:
    emails = [unique_email(), unique_email()]
    roster = f'email,name\r\n{emails[0]},Ada\r\n{emails[1]},"Hopper, Grace"\r\n'
    with session_scope(settings.database_url) as session:
        added = import_roster(session, roster).added
    assert [student.email for student in added] == emails
    for student, name in zip(added, ["Ada", "Hopper, Grace"], strict=True):
        assert authenticate_student(settings.database_url, email=student.email, password=student.password)
        with session_scope(settings.database_url) as session:
            assert session.scalars(select(Student.name).where(Student.email == student.email)).one() == name


def test_an_instructor_token_is_found_by_itself_and_its_use_recorded(settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        token = create_api_token(session, name="recorded")
    with session_scope(settings.database_url) as session:
        found = find_api_token(session, token)
        assert found is not None and found.name == "recorded"
        assert find_api_token(session, token + "x") is None
    with session_scope(settings.database_url) as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.name == "recorded")).one()
        assert stored.last_used_at is not None
        assert token not in stored.token_hash


def test_an_integration_secret_is_a_standard_webhooks_secret_of_32_random_bytes(settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        secret = create_integration(session, name="secret-shape", callback_urls=["https://lms.example/a"])
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    with session_scope(settings.database_url) as session:
        stored = session.scalars(select(Integration).where(Integration.name == "secret-shape")).one()
        assert stored.callback_urls == ["https://lms.example/a"]
