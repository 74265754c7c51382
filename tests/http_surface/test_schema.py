"""schemathesis against the app's OpenAPI schema: no 5xx, and every response matches the schema."""

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from workers.database import session_scope
from workers.heartbeat import beat
from workers.settings import Settings

EXAMPLES_PER_OPERATION = 25
CHECKS = [schemathesis.checks.not_a_server_error, response_schema_conformance, content_type_conformance]


def test_every_operation_answers_generated_requests_within_its_schema(
    app: FastAPI, token: str, settings: Settings
) -> None:
    with session_scope(settings.database_url) as session:
        beat(session, "http-surface")  # /readyz answers 503 without a worker seen recently
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [o.label for o in operations]
    for operation in operations:
        fuzz(operation, {"authorization": f"Bearer {token}"})
        fuzz(operation, {})


def fuzz(operation: APIOperation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_schema(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_within_schema()
