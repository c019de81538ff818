"""Coalesced wake-ups: at most one wake-up message waiting per queue of durable work.

Services write durable rows (the touchpoint inbox, the webhook outbox) and, after the commit,
wake a worker to drain them. A Celery message per write costs a broker round trip and over a
millisecond of Python in the request, while the worker drains every waiting row on its first
wake-up anyway. So a writer sends a wake-up only when none is pending: a flag in Redis (the
broker's server), set with ``SET NX`` before the message is sent, and cleared by the task
*before* it starts draining. One process-wide client does it in one round trip (about 60 µs;
Django's cache API builds a new client per call, which costs ten times that).

Why no row is missed: a writer that finds the flag set has committed its row before it looked.
The flag means a wake-up was sent whose task has not cleared it yet; that task clears it, then
drains, so its drain starts after the row was committed and sees it. Two more cases:

- the flag expires after ``WAKE_PENDING_TTL_S``: a wake-up lost with a killed worker or a broker
  restart holds the next ones back that long at most (and the periodic sweeps remain the
  safety net for rows whose wake-up was lost);
- a Redis that cannot be reached lets every wake-up through, as before this module.

With eager tasks (the embedded default and the test suite) or without ``REDIS_URL`` there is
no broker to spare: every wake-up is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

#: How long a sent wake-up holds back the next ones if its task never starts.
WAKE_PENDING_TTL_S = 10
#: A wake-up must not hold up the request that commits the rows: give up on Redis quickly.
REDIS_TIMEOUT_S = 0.5


def flag_key(queue: str) -> str:
    return f"ip:wake-pending:{queue}"


@cache
def _flags(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )


def _flags_in_use() -> redis.Redis | None:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return None
    return _flags(settings.REDIS_URL)


def wake(queue: str, send: Callable[[], object]) -> bool:
    """Call ``send`` (which publishes the task that drains ``queue``) unless a wake-up of that
    queue is already pending. Returns whether it was sent. Call it after the commit of the rows
    the task will drain (``transaction.on_commit``). When ``send`` raises (the broker is
    unreachable), the flag is cleared again and the exception goes to the caller."""
    flags = _flags_in_use()
    if flags is not None:
        try:
            if not flags.set(flag_key(queue), 1, nx=True, ex=WAKE_PENDING_TTL_S):
                return False
        except redis.RedisError:
            logger.warning("wake-up flags unavailable; sending a wake-up for %s anyway", queue)
    try:
        send()
    except BaseException:
        wake_taken(queue)
        raise
    return True


def wake_taken(queue: str) -> None:
    """Called by the draining task before it claims anything: from now on a writer's wake-up
    is needed again, so the next commit sends one."""
    flags = _flags_in_use()
    if flags is None:
        return
    try:
        flags.delete(flag_key(queue))
    except redis.RedisError:
        logger.warning("wake-up flags unavailable; %s will take every wake-up", queue)
