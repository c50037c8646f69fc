"""Spreadsheet-safe CSV cells, for every CSV the project writes (the reports, the console's
caseload export): no imports beyond the standard library, so the console can use it without
loading the register's database stack."""

from __future__ import annotations

#: What makes a spreadsheet read a text cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula gets a leading
    single quote (OWASP's advice), so a name like `=HYPERLINK(...)` is never run."""
    return "'" + text if text.startswith(FORMULA_START) else text
