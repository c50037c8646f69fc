"""Domain figures for operators, counted through the SDK's metric meter: the worker's runtime
exports them with its own (task latencies, polls, failures), e.g. to Prometheus when
SRO_METRICS_ADDRESS is set (worker.py). Replay-safe: the SDK records nothing while replaying.
Labels are kinds, reasons and partnership codes: never anything about a child.
"""

from __future__ import annotations

from temporalio import workflow


def decision_applied(kind: str, partnership: str) -> None:
    workflow.metric_meter().create_counter(
        "sro_decisions_applied", "decisions applied to cases"
    ).add(1, {"kind": kind, "partnership": partnership})


def decision_refused(refusal_type: str, partnership: str | None) -> None:
    """A refusal the case records or its handler gives. An Update refused by its validator
    never reaches the case, and the SDK records no metric from a validator."""
    workflow.metric_meter().create_counter(
        "sro_decisions_refused", "decisions refused, by the refusal's type"
    ).add(1, {"type": refusal_type, "partnership": partnership or "unknown"})


def alert_fired(alert: str, partnership: str) -> None:
    workflow.metric_meter().create_counter(
        "sro_alerts_fired", "reminders and escalations of deadlines fired"
    ).add(1, {"alert": alert, "partnership": partnership})
