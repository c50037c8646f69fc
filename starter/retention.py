"""The dev stack's namespace retention, set deliberately (issue 14, README "Namespace retention").

`temporal server start-dev` has no retention flag, and its namespace keeps a closed workflow's
history for one day by default; `make run` sets `SRO_DEV_RETENTION_DAYS` (default 30) on the
namespace through the UpdateNamespace call once the server answers, on every start (so changing the
variable takes effect at the next `make run`). After retention, a closed case's history is deleted
by Temporal; the register keeps the case (README).
"""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client


async def set_retention(client: Client, days: int) -> timedelta:
    """Set the client's namespace's retention to `days`; returns what the server then holds."""
    ttl = Duration()
    ttl.FromTimedelta(timedelta(days=days))
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=client.namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=ttl),
        )
    )
    return await retention(client)


async def retention(client: Client) -> timedelta:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()
