import base64
import csv
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import hash_api_token, hash_password, new_api_token, new_password, verify_password
from workers.database import session_scope
from workers.models import ApiToken, Integration, Student, utcnow


@dataclass(frozen=True)
class NewStudent:
    email: str
    password: str


def add_student(session: Session, *, email: str, name: str, password: str | None = None) -> NewStudent:
    """Creates the student, or gives an existing one a fresh password."""
    password = password or new_password()
    email = email.strip().lower()
    student = session.scalar(select(Student).where(Student.email == email))
    if student is None:
        student = Student(email=email, name=name, password_hash="")
        session.add(student)
    student.name = name
    student.password_hash = hash_password(password)
    session.flush()
    return NewStudent(email=email, password=password)


def import_roster(session: Session, roster: Path) -> list[NewStudent]:
    with roster.open(newline="") as handle:
        rows: Iterable[dict[str, str]] = csv.DictReader(handle)
        return [add_student(session, email=row["email"], name=row["name"]) for row in rows]


def authenticate_student(database_url: str, *, email: str, password: str) -> int | None:
    """The student's id when the password is right.

    The database is asked in a transaction of its own that ends before the slow password check, so a
    burst of logins does not hold every database connection while hashing.
    """
    with session_scope(database_url) as session:
        found = session.execute(
            select(Student.id, Student.password_hash).where(Student.email == email.strip().lower())
        ).first()
    if found is None or not verify_password(password, found.password_hash):
        return None
    student_id: int = found.id
    return student_id


def create_api_token(session: Session, *, name: str) -> str:
    token = new_api_token()
    session.add(ApiToken(name=name, token_hash=hash_api_token(token)))
    session.flush()
    return token


def find_api_token(session: Session, token: str) -> ApiToken | None:
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token)))
    if found is not None:
        found.last_used_at = utcnow()
    return found


def create_integration(session: Session, *, name: str, callback_urls: list[str]) -> str:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    session.add(Integration(name=name, secret=secret, callback_urls=callback_urls))
    session.flush()
    return secret
