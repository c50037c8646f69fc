"""Recorded workflow histories of every route, replayed by tests/workflows/test_replay.py.

Each `<name>.json.gz` (or `.json`) is written by `python -m tests.histories.record`: a little about
the workflow (its type, which run of how many, what it covered) and its history as Temporal
recorded it (`WorkflowHistory.to_json()`), payloads encrypted with the tests' key. Histories of an
earlier release whose cases may still be running are kept in a subfolder (e.g. `2026-11/`) and
replayed too.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Recorded:
    path: Path
    name: str
    workflow_type: str
    run: int
    runs: int
    #: What the whole workflow covered (on its last run's file; empty on the others).
    covers: dict[str, Any]
    history: WorkflowHistory


def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode()


def load(path: Path) -> Recorded:
    body = json.loads(read_text(path))
    return Recorded(
        path=path,
        name=body["name"],
        workflow_type=body["workflow_type"],
        run=body["run"],
        runs=body["runs"],
        covers=body["covers"],
        history=WorkflowHistory.from_json(body["workflow_id"], body["history"]),
    )


def files(folder: Path = HERE) -> list[Path]:
    """Every recorded history, including those kept from earlier releases in subfolders."""
    return sorted([*folder.rglob("*.json"), *folder.rglob("*.json.gz")])
