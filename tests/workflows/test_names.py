"""The names callers use without loading the workflow are the names it declares."""

from __future__ import annotations

from tests.gateway_fakes import message_name
from workflows import names
from workflows.referral import ReferralWorkflow


def test_the_status_query_is_declared_under_its_shared_name() -> None:
    assert message_name(ReferralWorkflow.status) == names.STATUS_QUERY == "status"
