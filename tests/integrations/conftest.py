from __future__ import annotations

from collections.abc import Iterator

import pytest

from interaction_platform.celery import app as celery_app
from tests.integrations.receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1 (see receiver.py)."""
    found, server = start_receiver()
    try:
        yield found
    finally:
        found.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks run in process when queued (the embedded default's behaviour)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
