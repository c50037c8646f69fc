"""The command line's part in issue #11: it records where a decision came from, and says how
far from today a date may lie."""

from __future__ import annotations

import json

import pytest

from safeguarding import horizon
from starter import cases, cli
from tests.factories import CHAIR


def test_a_decision_sent_by_sro_records_that_it_came_from_sro() -> None:
    body = cases._validate_decision(
        {
            "kind": "triage",
            "decision_id": "t-1",
            "by": CHAIR.model_dump(mode="json"),
            "outcome": "serious_incident",
            "via": "console",  # a file cannot claim another interface
        }
    )
    assert body["via"] == "sro"


def test_via_is_no_flag_and_no_field_to_fill(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kinds", "triage", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "via" not in {f["name"] for f in shown["fields"]}
    assert shown["dates"] == horizon.describe()
    assert cli.main(["decide", "LSCP-2026-0A1B2C", "triage", "--via", "console"]) == 2
    assert "unrecognized arguments: --via console" in capsys.readouterr().err


def test_kinds_names_the_date_horizon(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kinds"]) == 0
    out = capsys.readouterr().out
    assert f"Dates: at most {horizon.YEARS_AHEAD} years from today" in out
    assert cli.main(["kinds", "action_added"]) == 0
    assert horizon.describe() in capsys.readouterr().out
