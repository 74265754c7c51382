from typing import Annotated

from fastapi import APIRouter, Path

from app.deps import Instructor, SessionDep, SettingsDep
from app.errors import NotFound
from app.presenters import present_delivery
from app.schemas import DeliveryPublic
from workers.models import Delivery, DeliveryState
from workers.queueing import enqueue_delivery

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"])
# Ids are 64-bit integer keys in every database we run on; larger ones are refused before a query.
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("/{delivery_id}/resend", status_code=202)
def resend(
    delivery_id: DeliveryId, _: Instructor, session: SessionDep, settings: SettingsDep
) -> DeliveryPublic:
    """Sends the callback again, with the same webhook-id so the LMS can drop a repeat."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"There is no delivery {delivery_id}.")
    delivery.state = DeliveryState.PENDING
    session.commit()
    enqueue_delivery(settings, delivery.id)
    return present_delivery(delivery)
