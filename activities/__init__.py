"""Activities: everything that touches the world outside the workflow."""

from collections.abc import Callable
from typing import Any

from activities.deadlines import plan_deadlines
from activities.notifications import send_notice
from activities.partnerships import load_partnership_settings
from activities.register import record_case

ALL_ACTIVITIES: list[Callable[..., Any]] = [
    load_partnership_settings,
    plan_deadlines,
    send_notice,
    record_case,
]

__all__ = [
    "ALL_ACTIVITIES",
    "load_partnership_settings",
    "plan_deadlines",
    "record_case",
    "send_notice",
]
