"""`cases`: referrals started on the time-skipping server, each test file's worker on a queue of
its own (defined in test_referral.py; a file defining its own `cases` uses that one)."""

from tests.workflows.test_referral import cases

__all__ = ["cases"]
