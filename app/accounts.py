import base64
import csv
import io
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.login_limits import forget_account
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
    else:
        student.session_version += 1
    student.name = name
    student.password_hash = hash_password(password)
    session.flush()
    return NewStudent(email=email, password=password)


class RosterRefused(Exception):
    """A roster with at least one line that cannot be imported; nothing of it was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RosterImport:
    added: list[NewStudent]
    renamed: int
    unchanged: int
    new_passwords: list[NewStudent]


_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+")
ROSTER_COLUMNS = ("email", "name")
MAX_NAME_CHARS = 200


def read_roster(text: str) -> dict[str, str]:
    """Each student's name by lower-cased email, in the file's order; refuses the whole roster when any
    line cannot be read."""
    reader = csv.reader(io.StringIO(text))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise RosterRefused([f"line {reader.line_num}: {error}"]) from None
    header = [column.strip().lower() for column in rows[0][1]] if rows else []
    if sorted(column for column in header if column in ROSTER_COLUMNS) != sorted(ROSTER_COLUMNS):
        found = ", ".join(header) or "nothing"
        raise RosterRefused(
            [f"line 1: the header must name the columns email and name once each; it names {found}"]
        )
    email_at, name_at = header.index("email"), header.index("name")
    students: dict[str, str] = {}
    problems: list[str] = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"line {line}: {len(row)} columns where the header has {len(header)}")
            continue
        email, name = row[email_at].strip().lower(), row[name_at].strip()
        if not (_EMAIL.fullmatch(email) and email.isprintable()):
            problems.append(f"line {line}: {row[email_at]!r} is not an email address")
        elif not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            problems.append(
                f"line {line}: the name of {email} must be 1 to {MAX_NAME_CHARS} printable characters"
            )
        elif email in students:
            problems.append(f"line {line}: {email} is already on an earlier line")
        else:
            students[email] = name
    if problems:
        raise RosterRefused(problems)
    return students


def import_roster(session: Session, roster: str, *, reset_passwords: bool = False) -> RosterImport:
    """Adds the roster's new students and updates the names of known ones; known students keep their
    passwords unless `reset_passwords`."""
    students = read_roster(roster)
    known = {
        student.email: student
        for student in session.scalars(select(Student).where(Student.email.in_(list(students))))
    }
    added: list[NewStudent] = []
    new_passwords: list[NewStudent] = []
    renamed = unchanged = 0
    for email, name in students.items():
        student = known.get(email)
        if student is None:
            added.append(add_student(session, email=email, name=name))
        elif reset_passwords:
            student.name = name
            new_passwords.append(_one_time_password(session, student))
        elif student.name != name:
            student.name = name
            renamed += 1
        else:
            unchanged += 1
    session.flush()
    return RosterImport(added=added, renamed=renamed, unchanged=unchanged, new_passwords=new_passwords)


@dataclass(frozen=True)
class Authenticated:
    student_id: int
    session_version: int
    must_change_password: bool


@lru_cache(maxsize=1)
def _hash_of_no_account() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate_student(database_url: str, *, email: str, password: str) -> Authenticated | None:
    """The student when the password is right. An unknown email costs the same password check as a known
    one, so the answer's time does not tell whether an account exists.

    The database is asked in a transaction of its own that ends before the slow password check, so a
    burst of logins does not hold every database connection while hashing.
    """
    with session_scope(database_url) as session:
        found = session.execute(
            select(
                Student.id, Student.password_hash, Student.session_version, Student.must_change_password
            ).where(Student.email == email.strip().lower())
        ).first()
    if found is None:
        verify_password(password, _hash_of_no_account())
        return None
    if not verify_password(password, found.password_hash):
        return None
    return Authenticated(found.id, found.session_version, found.must_change_password)


MIN_PASSWORD_LENGTH = 10


class PasswordRefused(Exception):
    """A password change that was not made; the message is shown to the student."""


def change_password(session: Session, student: Student, *, current: str, new: str) -> None:
    """Sets the student's own password and ends every session of theirs, this one included."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(f"Choose a new password of at least {MIN_PASSWORD_LENGTH} characters.")
    if not verify_password(current, student.password_hash):
        raise PasswordRefused("Your current password is not right.")
    if new == current:
        raise PasswordRefused("Choose a new password that differs from the one you were given.")
    student.password_hash = hash_password(new)
    student.must_change_password = False
    student.session_version += 1
    session.flush()


def reset_password(session: Session, email: str) -> NewStudent | None:
    """A one-time password for the student, who must change it at the next login; ends their sessions."""
    student = session.scalar(select(Student).where(Student.email == email.strip().lower()))
    if student is None:
        return None
    forget_account(session, student.email)
    return _one_time_password(session, student)


def _one_time_password(session: Session, student: Student) -> NewStudent:
    password = new_password()
    student.password_hash = hash_password(password)
    student.must_change_password = True
    student.session_version += 1
    session.flush()
    return NewStudent(email=student.email, password=password)


def end_sessions(session: Session, student_id: int, version: int) -> None:
    """Ends every session of the student, when asked from a session that is still one of them."""
    student = session.get(Student, student_id)
    if student is not None and student.session_version == version:
        student.session_version += 1
        session.flush()


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
