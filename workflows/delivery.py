"""Delivering notices from a workflow without holding anything up.

A workflow queues notices in its state (its `outbox`, carried across continue-as-new) and one
background task sends them, oldest first, through the notification activity. A decision or a
timer never waits for mail: while the mail server is down the activity retries and the queue
waits; a notice leaves the queue only once sent (the activity is idempotent, so a notice whose
send was cut short by continue-as-new is safely sent again). A notice the activity refuses for
good is recorded in the history, not retried forever.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import SendNoticeInput, send_notice
    from safeguarding.case import Notice

SEND_TIMEOUT = timedelta(seconds=60)
#: A send heartbeats every 2 s (`activities.notifications.HEARTBEAT_EVERY`): a worker killed
#: mid-send is noticed after this, not after SEND_TIMEOUT.
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=10)
)


async def deliver(
    outbox: list[Notice], stopping: Callable[[], bool], note: Callable[[str], None]
) -> None:
    """Send queued notices until `stopping()` and the queue is empty."""
    while True:
        await workflow.wait_condition(lambda: bool(outbox) or stopping())
        if not outbox:
            return
        notice = outbox[0]
        try:
            await workflow.execute_activity(
                send_notice,
                SendNoticeInput(notice=notice),
                start_to_close_timeout=SEND_TIMEOUT,
                heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                retry_policy=SEND_RETRY,
                summary=f"{notice.kind} to {notice.audience}"[:200],
            )
        except ActivityError as err:  # refused for good (e.g. an unsafe subject): say so
            cause = err.cause or err
            note(f"Notice {notice.notice_id} could not be sent: {cause}")
        outbox.pop(0)
