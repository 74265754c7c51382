from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from helpers import lms, postgres
from stack import Stack


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres() as url:
        yield url


@pytest.fixture
def stack(postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A fresh database, Redis, API and one grading worker (hostname worker-a), ready to grade. Indirect
    parametrisation passes settings of its own (TFGRADE_* variables)."""
    with ExitStack() as exits:
        receiver = exits.enter_context(lms())
        service = Stack(tmp_path, postgres_url, receiver, exits, getattr(request, "param", {}))
        service.start_api()
        service.start_worker()
        service.wait_ready()
        yield service
