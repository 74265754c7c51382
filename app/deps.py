from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.accounts import find_api_token
from app.errors import LoginRequired, NotFound, PasswordChangeRequired, Unauthorized
from grader import Assignment, AssignmentError, Catalog
from workers.database import get_session_factory
from workers.models import ApiToken, Student, Submission
from workers.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


async def get_db(settings: SettingsDep) -> AsyncIterator[Session]:
    # FastAPI runs each sync dependency and the endpoint as separate tasks in its thread pool. A pooled
    # connection held while waiting for the next thread deadlocks a busy server: every thread waits for
    # a connection, every connection for a thread (a burst of logins and pages did so). So dependencies
    # end their transaction before they return (`done_with`), and this one closes the session on the
    # event loop, which needs no thread.
    with get_session_factory(settings.database_url)() as session:
        yield session


def done_with(session: Session) -> None:
    """Gives the connection back before the next thread-pool task; loaded objects stay readable."""
    session.commit()


SessionDep = Annotated[Session, Depends(get_db)]


def get_assignment(slug: str, catalog: CatalogDep) -> Assignment:
    try:
        return catalog.get(slug)
    except AssignmentError:
        raise NotFound(f"There is no assignment '{slug}'.") from None


AssignmentDep = Annotated[Assignment, Depends(get_assignment)]


def get_logged_in_student(request: Request, session: SessionDep) -> Student:
    """The student of a session cookie issued under their current session version, even one who must still
    change a one-time password."""
    student_id = request.session.get("student_id")
    student = session.get(Student, student_id) if isinstance(student_id, int) else None
    if student is None or request.session.get("session_version") != student.session_version:
        raise LoginRequired()
    done_with(session)
    return student


LoggedInStudent = Annotated[Student, Depends(get_logged_in_student)]


def get_current_student(student: LoggedInStudent) -> Student:
    if student.must_change_password:
        raise PasswordChangeRequired()
    return student


CurrentStudent = Annotated[Student, Depends(get_current_student)]


def get_own_submission(submission_id: str, student: CurrentStudent, session: SessionDep) -> Submission:
    """A student's own submission; anyone else's answers exactly like one that does not exist."""
    submission = session.get(Submission, submission_id)
    if submission is None or submission.student_id != student.id:
        raise NotFound("There is no such submission.")
    done_with(session)
    return submission


OwnSubmission = Annotated[Submission, Depends(get_own_submission)]

_bearer = HTTPBearer(auto_error=False)


def get_instructor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    token = find_api_token(session, credentials.credentials) if credentials else None
    if token is None:
        raise Unauthorized("A valid instructor token is required (Authorization: Bearer <token>).")
    done_with(session)  # also records when the token was last used
    return token


Instructor = Annotated[ApiToken, Depends(get_instructor)]


def get_any_submission(submission_id: str, session: SessionDep, _: Instructor) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"There is no submission '{submission_id}'.")
    done_with(session)
    return submission


AnySubmission = Annotated[Submission, Depends(get_any_submission)]
