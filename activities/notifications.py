"""The one way notices leave the system: reminders, escalations and information requests.

The default sink writes each notice as a JSON file in the outbox folder (SRO_OUTBOX, default
data/outbox), named by its notice id so a retried activity never writes it twice. Real delivery
(email) plugs in here.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from pydantic import BaseModel
from temporalio import activity

from safeguarding.case import Notice

log = logging.getLogger(__name__)


class SendNoticeInput(BaseModel):
    notice: Notice


class SendNoticeResult(BaseModel):
    notice_id: str
    delivered_to: str
    already_sent: bool


def outbox_dir() -> Path:
    data = Path(os.environ.get("SRO_DATA_DIR", "data"))
    return Path(os.environ.get("SRO_OUTBOX", data / "outbox"))


def _file_name(notice_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", notice_id) + ".json"


@activity.defn
async def send_notice(input: SendNoticeInput) -> SendNoticeResult:
    notice = input.notice
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _file_name(notice.notice_id)
    if target.exists():
        return SendNoticeResult(
            notice_id=notice.notice_id, delivered_to=str(target), already_sent=True
        )
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(notice.model_dump(mode="json"), indent=2))
    temporary.replace(target)  # atomic: a crash never leaves half a notice
    # Case reference, kind and audience only: never anything about the child.
    log.info("notice %s for case %s to %s", notice.kind, notice.case_ref, notice.audience)
    return SendNoticeResult(
        notice_id=notice.notice_id, delivered_to=str(target), already_sent=False
    )
