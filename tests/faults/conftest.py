import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_processes import postgres  # noqa: E402
from stack import Stack, lms  # noqa: E402


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres() as url:
        yield url


@pytest.fixture
def stack(postgres_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A fresh database, Redis, API and one grading worker (hostname worker-a), ready to grade."""
    with ExitStack() as exits:
        receiver = exits.enter_context(lms())
        service = Stack(tmp_path, postgres_url, receiver, exits)
        service.start_api()
        service.start_worker()
        service.wait_ready()
        yield service
