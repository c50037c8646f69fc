"""The base of the domain's pydantic models.

`defer_build`: a model's validator is built when it is first used, not when its module is
imported. A command that reads one case's status (`sro status`) imports the whole domain
through the workflow it calls, but uses a handful of its models: building them all up front
cost about 0.1 s of every such command (BENCHMARKS.md, phase 6). A worker builds each once, on
first use.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


def build_all() -> None:
    """Build every domain model's validator now. A worker calls this before it runs a
    workflow (`worker.build_worker`): built inside the workflow sandbox, a model's deferred
    forward references do not resolve (pydantic reads them from its module, which the sandbox
    does not show it), so each is built here, outside, once."""
    pending: list[type[DomainModel]] = [DomainModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model is not DomainModel:
            model.model_rebuild(force=True)
