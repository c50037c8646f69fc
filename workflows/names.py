"""The names the referral workflow answers to, for callers that read a case without loading
the workflow's module graph (`sro status` answers in about the time a bare client takes:
gateway/reading.py). The workflow declares its handlers with these names, so they cannot drift.
"""

from __future__ import annotations

#: The referral workflow's query for a case's status (`ReferralWorkflow.status`).
STATUS_QUERY = "status"
