"""The one way into Temporal for every interface (the CLI, the console, the dev stack, tools).

    gateway.connection   the client, its encrypting data converter, the task queue
    gateway.refs         case and escalation references, workflow ids, visibility queries
    gateway.errors       Temporal failures as domain errors (NotFound, NotReady, Refused...)
    gateway.cases        CaseClient: start (one start loop), decide, status, referral, list
    gateway.escalations  EscalationClient: raise, decide, status, list

Submodules are imported by name, not re-exported here: `sro --help` pays for none of them.
"""
