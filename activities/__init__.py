"""Activities: everything that touches the world outside the workflow.

The activity functions are loaded on first use (PEP 562), not when the package is imported: a
workflow imports `activities.deadlines` or `activities.register_io`, and importing the package
must not load the register's database stack (`activities.register`) into its module graph.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activities.deadlines import plan_deadlines
    from activities.disposal import dispose_case, find_due_disposals
    from activities.notifications import send_notice
    from activities.partnerships import load_partnership_settings
    from activities.register import record_case, record_escalation
    from activities.report_mail import mail_scheduled_report
    from activities.scheduled import write_scheduled_report

    ALL_ACTIVITIES: list[Callable[..., Any]]

#: Where each activity the worker registers is defined, in registration order.
_DEFINED_IN = {
    "load_partnership_settings": "activities.partnerships",
    "plan_deadlines": "activities.deadlines",
    "send_notice": "activities.notifications",
    "record_case": "activities.register",
    "record_escalation": "activities.register",
    "write_scheduled_report": "activities.scheduled",
    "mail_scheduled_report": "activities.report_mail",
    "find_due_disposals": "activities.disposal",
    "dispose_case": "activities.disposal",
}


def __getattr__(name: str) -> Any:
    if name == "ALL_ACTIVITIES":
        value: Any = [__getattr__(each) for each in _DEFINED_IN]
    elif name in _DEFINED_IN:
        value = getattr(importlib.import_module(_DEFINED_IN[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # loaded once: the same list and functions every time
    return value


__all__ = [
    "ALL_ACTIVITIES",
    "dispose_case",
    "find_due_disposals",
    "load_partnership_settings",
    "mail_scheduled_report",
    "plan_deadlines",
    "record_case",
    "record_escalation",
    "send_notice",
    "write_scheduled_report",
]
