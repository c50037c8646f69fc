"""Generated parts of the README: the state machine diagram and who may make each decision.

    python -m safeguarding.docs README.md     # rewrite the generated blocks in place

A test fails when the README's copy is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from safeguarding import machine
from safeguarding.settings import default_authorities
from safeguarding.vocabulary import DecisionKind


def authority_table() -> str:
    rows = ["| Decision | Allowed at | Who may make it (England-wide default) |", "|---|---|---|"]
    authorities = default_authorities()
    cspr = {stage.label for stage in machine.CSPR_STAGES}
    for kind in DecisionKind:
        stages = {t.source.label for t in machine.TRANSITIONS if t.decision is kind}
        if kind in machine.IN_ANY_OPEN_STAGE:
            where = "every stage but Closed"
        elif stages == cspr:
            where = "any Local CSPR stage"
        else:
            where = ", ".join(sorted(stages))
        who = "; or ".join(a.describe() for a in authorities.get(kind, []))
        rows.append(f"| `{kind.value}` | {where} | {who} |")
    return "\n".join(rows) + "\n"


def machine_diagram() -> str:
    return "```mermaid\n" + machine.mermaid() + "```\n"


BLOCKS: dict[str, Callable[[], str]] = {
    "machine": machine_diagram,
    "authorities": authority_table,
}


def update_readme(text: str) -> str:
    for name, render in BLOCKS.items():
        start, end = f"<!-- generated:{name} -->\n", f"<!-- /generated:{name} -->"
        if start not in text or end not in text:
            raise ValueError(f"README has no {start.strip()} ... {end} block")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + start + render() + end + tail
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(update_readme(path.read_text()))
    print(f"updated the generated blocks in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
