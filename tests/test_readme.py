"""The README's generated blocks (state machine diagram, decision authorities) are current."""

from __future__ import annotations

from pathlib import Path

from safeguarding import machine
from safeguarding.docs import update_readme

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_diagram_and_authorities_are_current() -> None:
    text = README.read_text()
    assert update_readme(text) == text, "README is stale: run python -m safeguarding.docs README.md"


def test_readme_diagram_shows_every_transition() -> None:
    text = README.read_text()
    for transition in machine.TRANSITIONS:
        if transition.decision in machine.LEARNING_DECISIONS:
            continue  # drawn as one note (issue 13, item 11)
        assert (
            f"{transition.source.value} --> {transition.target.value} : {transition.label()}"
            in (text)
        )


def test_a_stale_readme_is_detected() -> None:
    text = README.read_text().replace("triage --> case_of_concern", "triage --> nowhere")
    assert update_readme(text) != text
