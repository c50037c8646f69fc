"""Text as the console shows it: control and bidirectional-override characters made visible.

Names, summaries, notes and evidence come from people and other systems. A right-to-left
override (U+202E) can make "gpj.exe" read "exe.jpg", an isolate can reorder a sentence, a NUL
or an escape sequence hides text from whoever copies it into a terminal. The console shows each
such character as its escape (`\\u202e`, `\\x1b`) instead, everywhere: `finalize` runs on
every `{{ value }}` the templates print (before HTML escaping). Tabs and newlines stay (notes
have lines); a CR LF pair, as browsers send textareas, becomes a newline.

The CLI has its own `printable()`; the console must not import the CLI, so this mirrors it.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

#: Bidirectional controls: embeddings, overrides, isolates and marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Line and paragraph separators, and the byte-order mark inside text.
OTHER_INVISIBLES = frozenset("\u2028\u2029\ufeff")
KEPT = frozenset("\t\n")


def _unsafe(char: str) -> bool:
    code = ord(char)
    if char in KEPT:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS or char in OTHER_INVISIBLES


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """`text` with every unsafe character replaced by its visible escape."""
    text = text.replace("\r\n", "\n")
    if not any(_unsafe(c) for c in text):
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def finalize(value: Any) -> Any:
    """Jinja's finalize: every printed value passes here. Markup (a macro's output, already
    made of neutralised values) and plain numbers are left alone."""
    if value is None or isinstance(value, (Markup, bool, int, float)) or hasattr(value, "__html__"):
        return value
    return neutralise(value if isinstance(value, str) else str(value))
