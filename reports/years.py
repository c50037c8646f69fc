"""A partnership's reporting year: small and import-light, for the command line's flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

YEAR_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class ReportingYear:
    """A partnership's reporting year, 1 April to 31 March."""

    first: int

    @classmethod
    def parse(cls, text: str) -> ReportingYear:
        found = YEAR_PATTERN.match(text.strip())
        if not found or (int(found.group(1)) + 1) % 100 != int(found.group(2)):
            raise ValueError(f"a reporting year is written like 2026-27, not {text!r}")
        return cls(int(found.group(1)))

    @property
    def label(self) -> str:
        return f"{self.first}-{(self.first + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.first, 4, 1)

    @property
    def end(self) -> date:
        return date(self.first + 1, 3, 31)

    def __contains__(self, day: object) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        return isinstance(day, date) and self.start <= day <= self.end
