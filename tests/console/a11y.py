"""Checks on rendered HTML: every form control has a label, every error is linked to its field."""

from __future__ import annotations

from html.parser import HTMLParser


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") not in ("hidden", "submit"):
            self.controls.append({"tag": tag, **found})


def unlabelled_controls(html: str) -> list[str]:
    """Controls without an id or without a <label for> that names it."""
    parser = _Controls()
    parser.feed(html)
    problems = []
    for control in parser.controls:
        ident = control.get("id")
        if not ident or ident not in parser.label_for:
            problems.append(f"{control.get('tag')} name={control.get('name')!r} id={ident!r}")
    return problems


def broken_descriptions(html: str) -> list[str]:
    """aria-describedby references to ids that are not in the page."""
    parser = _Controls()
    parser.feed(html)
    problems = []
    for control in parser.controls:
        for ref in str(control.get("aria-describedby") or "").split():
            if ref not in parser.ids:
                problems.append(f"{control.get('name')}: {ref}")
    return problems


def duplicate_ids(html: str) -> list[str]:
    seen: dict[str, int] = {}

    class Ids(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            ident = dict(attrs).get("id")
            if ident:
                seen[ident] = seen.get(ident, 0) + 1

    Ids().feed(html)
    return [i for i, n in seen.items() if n > 1]
