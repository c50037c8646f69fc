"""What the register activity takes and gives back, and its declaration for workflows.

Apart from `activities/register.py` (which loads SQLAlchemy and SQLModel), so a workflow can call
the activity without the database stack in its module graph: the workflow imports this module,
the worker registers the implementation under the same name.
"""

from __future__ import annotations

from temporalio import activity

from safeguarding.escalation_projection import EscalationSnapshot
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


# --------------------------------------------------------------------- issue 13, item 12

#: An escalation's rows, written by its own workflow.
RECORD_ESCALATION = "record_escalation"


class RecordEscalationInput(DomainModel):
    snapshot: EscalationSnapshot


class RecordEscalationResult(DomainModel):
    escalation_ref: str
    #: False when the register already held a newer snapshot.
    current: bool


@activity.defn(name=RECORD_ESCALATION)
async def record_escalation(input: RecordEscalationInput) -> RecordEscalationResult:
    """The declaration a workflow calls; the worker runs `activities.register.record_escalation`."""
    raise NotImplementedError("declaration only: the worker registers activities.register")
