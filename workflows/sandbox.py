"""The workflow sandbox every worker runs: the SDK's, with one shortcut.

The worker asks a workflow instance for a serialization context for every payload sequence it
decodes or encodes around a workflow task (the codec picks the case's key by it), and for a
store context for each it encodes: 300 to 350 calls a case. The SDK's sandboxed instance answers
each by compiling and `exec`ing a statement inside the sandbox with its importer applied: 76 µs
of the worker's CPU, against 3 µs for the same call made directly, so 20 to 25 ms a case
(BENCHMARKS.md, issue 16 round 8). The call only reads the instance's own bookkeeping (its
pending activities and child workflows) and builds a context from `temporalio` classes, which
are passed through the sandbox: it imports nothing and uses no restricted builtin, the two
things the importer guards. So `DirectContextSandbox` makes that call directly. The workflows'
own code runs in the sandbox exactly as before.

No public hook does this, so it reaches into the SDK's private `_Instance`. If a release
changes what it relies on, the instance falls back to the SDK's own path, and
`tests/workflows/test_sandbox.py` fails (the shortcut checked against the SDK's answers, call
by call), so an upgrade cannot lose it or change it silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import _runner as sdk_runner

#: The name the SDK's instance gives its in-sandbox half in `globals_and_locals`.
IN_SANDBOX = "__temporal_in_sandbox"


class DirectContextInstance(sdk_runner._Instance):
    """The SDK's sandboxed instance, asking its in-sandbox half for contexts directly."""

    def in_sandbox(self) -> Any | None:
        """The in-sandbox half, or None where this SDK does not keep it as expected."""
        found = getattr(self, "globals_and_locals", {}).get(IN_SANDBOX)
        if found is None or not hasattr(found, "get_external_store_context"):
            return None
        return found

    def get_serialization_context(self, command_info: Any) -> Any:
        inner = self.in_sandbox()
        if inner is None:
            return super().get_serialization_context(command_info)
        return inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        inner = self.in_sandbox()
        if inner is None:
            return super().get_external_store_context(command_info)
        return inner.get_external_store_context(command_info)


@dataclass(frozen=True)
class DirectContextSandbox(SandboxedWorkflowRunner):
    """`SandboxedWorkflowRunner` with the same restrictions, making `DirectContextInstance`s."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return DirectContextInstance(det, self.runner_class, self.restrictions)


__all__ = ["IN_SANDBOX", "DirectContextInstance", "DirectContextSandbox"]
