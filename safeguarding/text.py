"""Text as it goes back to people."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped (`\\x1b`, `\\u202e`): a
    hostile field name goes back to people (terminals, the case history) as harmless text."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
