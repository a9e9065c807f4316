"""The bounds and defaults of consumer groups (README: Consumer groups, limits)."""

from __future__ import annotations

import re

MAX_GROUPS = 1_000  # consumer groups in a store
MAX_MEMBERS = 100  # members connected to one group, on all replicas together
MAX_BACKLOG = 10_000  # unsettled events of a group copied from the log at once
MAX_PARKED = 10_000  # parked events of a group; beyond, the group stops taking new events
SCAN_PAGE = 500  # events a claim copies from the log at most
MAX_CLAIM_BYTES = 4 * 1024 * 1024  # event bytes a claim hands out at most (one event if larger)
DEFAULT_MAX_UNACKED = 100
MAX_UNACKED = 1_000
DEFAULT_ACK_DEADLINE = 30  # seconds
MAX_SECONDS = 3_600  # ack deadline, extension and nack delay
MAX_ATTEMPTS = 5
MAX_ANSWERS = 1_000  # ack ids, nacks and extensions in one request together
MAX_REASON_BYTES = 1_024
MAX_REDRIVE = 1_000  # sequences in one RedriveParkedEvents request
FIRST_MESSAGE_SECONDS = 10.0  # a ConsumeEvents stream must name its group within this
MEMBER_STALE_SECONDS = 30.0  # a member row not refreshed for this long is gone (its replica died)
BACKOFF_FIRST_US = 1_000_000
BACKOFF_MAX_US = 60_000_000
GROUP_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")


def stale_before_us(now_us: int) -> int:
    """The time before which a member row not refreshed belongs to a member that is gone."""
    return now_us - int(MEMBER_STALE_SECONDS * 1_000_000)


def backoff_us(attempts: int) -> int:
    """The wait before redelivering a nacked event after `attempts` attempts: 1 s doubled per
    attempt, at most 60 s."""
    return min(BACKOFF_MAX_US, BACKOFF_FIRST_US << max(0, min(attempts - 1, 16)))
