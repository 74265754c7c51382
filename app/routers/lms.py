import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.deps import CatalogDep, SessionDep, SettingsDep
from app.errors import Unauthorized, Unprocessable
from app.schemas import LmsSubmissionAccepted, LmsSubmissionCreate
from app.submissions import progress_state, queue_grading
from app.uploads import UploadRejected, check_upload
from grader import AssignmentError
from workers.models import Integration, Submission, WebhookMessage

router = APIRouter(prefix="/api/v1/lms", tags=["lms"])


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def verified_sender(session: Session, body: bytes, headers: dict[str, str]) -> Integration:
    for integration in session.scalars(select(Integration).order_by(Integration.id)):
        try:
            Webhook(integration.secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        return integration
    raise Unauthorized("The webhook signature is missing, wrong or too old.")


def already_received(
    session: Session, integration: Integration, webhook_id: str, external_id: str | None
) -> Submission | None:
    message = session.scalar(
        select(WebhookMessage).where(
            WebhookMessage.integration_id == integration.id, WebhookMessage.webhook_id == webhook_id
        )
    )
    if message is not None:
        return session.get(Submission, message.submission_id)
    if external_id is None:
        return None
    return session.scalar(
        select(Submission).where(
            Submission.integration_id == integration.id, Submission.external_submission_id == external_id
        )
    )


def accepted(submission: Submission) -> LmsSubmissionAccepted:
    return LmsSubmissionAccepted(submission_id=submission.id, status=progress_state(submission))


@router.post(
    "/submissions",
    status_code=202,
    responses={401: {"description": "Bad or stale signature"}, 422: {"description": "Unusable submission"}},
)
def receive_submission(
    request: Request, body: RawBody, session: SessionDep, settings: SettingsDep, catalog: CatalogDep
) -> LmsSubmissionAccepted:
    integration = verified_sender(session, body, dict(request.headers))
    webhook_id = request.headers["webhook-id"]
    try:
        payload = LmsSubmissionCreate.model_validate_json(body)
    except ValidationError as error:
        raise Unprocessable(f"The JSON body is not a submission: {error.errors(include_url=False)}") from None
    existing = already_received(session, integration, webhook_id, payload.external_submission_id)
    if existing is not None:
        return accepted(existing)
    submission = new_submission(integration, payload, catalog, settings.max_upload_bytes)
    session.add(WebhookMessage(integration_id=integration.id, webhook_id=webhook_id, submission=submission))
    try:
        queue_grading(session, settings, submission, reason="upload")
    except IntegrityError:
        session.rollback()
        raced = already_received(session, integration, webhook_id, payload.external_submission_id)
        if raced is None:
            raise
        return accepted(raced)
    return accepted(submission)


def new_submission(
    integration: Integration, payload: LmsSubmissionCreate, catalog: CatalogDep, max_bytes: int
) -> Submission:
    callback_url = payload.callback_url or next(iter(integration.callback_urls), None)
    if callback_url is not None and callback_url not in integration.callback_urls:
        raise Unprocessable("callback_url is not one of the URLs registered for this integration.")
    try:
        assignment = catalog.get(payload.assignment)
        notebook = base64.b64decode(payload.notebook, validate=True)
        check_upload(notebook, assignment, max_bytes)
    except AssignmentError:
        raise Unprocessable(f"There is no assignment '{payload.assignment}'.") from None
    except binascii.Error:
        raise Unprocessable("notebook is not valid base64.") from None
    except UploadRejected as rejection:
        raise Unprocessable(rejection.message) from None
    return Submission(
        assignment=assignment.slug,
        integration_id=integration.id,
        external_user_id=payload.user_id,
        external_submission_id=payload.external_submission_id,
        callback_url=callback_url,
        filename=f"{payload.external_submission_id}.ipynb",
        notebook=notebook,
    )
