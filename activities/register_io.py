"""What the register activity takes and gives back, and its declaration for workflows.

Apart from `activities/register.py` (which loads SQLAlchemy and SQLModel), so a workflow can call
the activity without the database stack in its module graph: the workflow imports this module,
the worker registers the implementation under the same name.
"""

from __future__ import annotations

from temporalio import activity

from safeguarding.model import DomainModel
from safeguarding.projection import CaseSnapshot

#: The activity's name: the implementation and the declaration below share it.
RECORD_CASE = "record_case"


class RecordCaseInput(DomainModel):
    snapshot: CaseSnapshot


class RecordCaseResult(DomainModel):
    case_ref: str
    #: The register holds the case's history up to (not including) this index.
    history_upto: int
    #: False when the register already held a newer snapshot (this one's rows were not needed).
    current: bool
    history_added: int
    decisions_added: int


@activity.defn(name=RECORD_CASE)
async def record_case(input: RecordCaseInput) -> RecordCaseResult:
    """The declaration a workflow calls (name, input and result types). Never registered on a
    worker: the worker runs `activities.register.record_case`."""
    raise NotImplementedError("declaration only: the worker registers activities.register")
