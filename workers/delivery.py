import json
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from workers.models import Delivery, DeliveryAttempt, DeliveryState
from workers.settings import Settings


def signed_headers(secret: str, webhook_id: str, body: str) -> dict[str, str]:
    sent_at = datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
        "content-type": "application/json",
    }


def post_callback(delivery: Delivery, timeout: float) -> DeliveryAttempt:
    body = json.dumps(delivery.payload)
    started = time.monotonic()
    try:
        response = httpx.post(
            delivery.url,
            content=body,
            headers=signed_headers(delivery.integration.secret, delivery.webhook_id, body),
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        return DeliveryAttempt(
            error=f"{type(error).__name__}: {error}", duration_seconds=time.monotonic() - started
        )
    return DeliveryAttempt(
        status_code=response.status_code,
        error=None if response.is_success else response.text[:500],
        duration_seconds=time.monotonic() - started,
    )


def attempt_delivery(session: Session, delivery_id: int, settings: Settings) -> bool:
    """Makes one recorded attempt; True when there is nothing more to do for this delivery."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return True
    if delivery.url not in delivery.integration.callback_urls:
        delivery.attempts.append(
            DeliveryAttempt(error="callback URL is not registered for this integration", duration_seconds=0.0)
        )
        delivery.state = DeliveryState.FAILED
        return True
    attempt = post_callback(delivery, settings.delivery_timeout_seconds)
    delivery.attempts.append(attempt)
    if attempt.error is None:
        delivery.state = DeliveryState.DELIVERED
        return True
    return False


def give_up(session: Session, delivery_id: int) -> None:
    session.get_one(Delivery, delivery_id).state = DeliveryState.FAILED
