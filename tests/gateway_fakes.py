"""What a fake Temporal client records, in the names and plain values the tests assert on.

The gateway calls by workflow method (`ReferralWorkflow.decide`) and sends a decision as a
`RawValue`; the fakes record the message's registered name and the decision as a dict.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import RawValue
from temporalio.converter import DataConverter

from gateway.connection import data_converter

_DEFINITIONS = (
    "_defn",  # an update's
    "__temporal_update_definition",
    "__temporal_query_definition",
    "__temporal_signal_definition",
)


def message_name(method: Any) -> str:
    """The registered name of a workflow's update, query or signal method (or a name)."""
    if isinstance(method, str):
        return method
    for attribute in _DEFINITIONS:
        definition = getattr(method, attribute, None)
        if definition is not None:
            return str(definition.name)
    raise AssertionError(f"not a workflow message: {method!r}")


def plain(arg: Any) -> Any:
    """A RawValue as the value it carries (the codec has not run: no client sent it)."""
    if isinstance(arg, RawValue):
        return data_converter().payload_converter.from_payload(arg.payload)
    return arg


def fake_converter() -> DataConverter:
    return data_converter()
