"""Coalesced wake-ups: one message while one is pending, again once the task has taken it.
The flags live in a real Redis (``REDIS_URL``); without one, and with eager tasks, every
wake-up is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from interaction_platform import wakeups
from tests.processes import wait_until


class Broker:
    """Stands in for the ``send`` callable: counts publishes, or fails like a dead broker."""

    def __init__(self, *, fails: bool = False) -> None:
        self.sent = 0
        self.fails = fails

    def __call__(self) -> None:
        if self.fails:
            raise ConnectionError("broker unreachable")
        self.sent += 1


QUEUES = ("test-inbox", "test-fan-out")


@pytest.fixture
def flags(settings: Any) -> Iterator[redis.Redis]:
    """Queued (not eager) tasks with the flags in the suite's Redis; our keys removed after."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(*(wakeups.flag_key(queue) for queue in QUEUES))
    yield client
    client.delete(*(wakeups.flag_key(queue) for queue in QUEUES))
    client.close()


@pytest.mark.redis
class TestCoalescing:
    def test_only_the_first_of_many_wake_ups_is_sent_while_it_is_pending(
        self, flags: redis.Redis
    ) -> None:
        broker = Broker()
        sent = [wakeups.wake("test-inbox", broker) for _ in range(50)]
        assert sent == [True] + [False] * 49
        assert broker.sent == 1
        assert flags.get(wakeups.flag_key("test-inbox")) == b"1"
        assert 0 < flags.ttl(wakeups.flag_key("test-inbox")) <= wakeups.WAKE_PENDING_TTL_S == 10

    def test_a_commit_after_the_task_took_its_wake_up_sends_a_new_one(
        self, flags: redis.Redis
    ) -> None:
        broker = Broker()
        wakeups.wake("test-inbox", broker)
        wakeups.wake_taken("test-inbox")
        assert flags.exists(wakeups.flag_key("test-inbox")) == 0
        assert wakeups.wake("test-inbox", broker) is True
        assert wakeups.wake("test-inbox", broker) is False
        assert broker.sent == 2

    def test_queues_are_coalesced_apart(self, flags: redis.Redis) -> None:
        inbox, fan_out = Broker(), Broker()
        wakeups.wake("test-inbox", inbox)
        wakeups.wake("test-fan-out", fan_out)
        wakeups.wake("test-fan-out", fan_out)
        assert (inbox.sent, fan_out.sent) == (1, 1)

    def test_a_failed_publish_leaves_no_flag_behind(self, flags: redis.Redis) -> None:
        with pytest.raises(ConnectionError):
            wakeups.wake("test-inbox", Broker(fails=True))
        assert flags.exists(wakeups.flag_key("test-inbox")) == 0
        broker = Broker()
        assert wakeups.wake("test-inbox", broker) is True
        assert broker.sent == 1

    def test_an_expired_flag_lets_the_next_wake_up_through(self, flags: redis.Redis) -> None:
        # given: a wake-up whose task never started (lost with a killed worker)
        wakeups.wake("test-inbox", Broker())
        # when its flag expires (as after WAKE_PENDING_TTL_S)
        flags.pexpire(wakeups.flag_key("test-inbox"), 1)
        wait_until(
            lambda: not flags.exists(wakeups.flag_key("test-inbox")),
            timeout_s=2,
            what="the flag to expire",
        )
        # then
        broker = Broker()
        assert wakeups.wake("test-inbox", broker) is True


def test_eager_tasks_are_always_sent(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    broker = Broker()
    assert [wakeups.wake("test-inbox", broker) for _ in range(3)] == [True, True, True]
    assert broker.sent == 3


def test_without_a_reachable_redis_every_wake_up_is_sent(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    broker = Broker()
    assert [wakeups.wake("test-inbox", broker) for _ in range(3)] == [True, True, True]
    wakeups.wake_taken("test-inbox")  # logged, not raised
    assert broker.sent == 3
