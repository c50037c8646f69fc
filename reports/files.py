"""The report files: the bi-monthly summary and the annual report written to a folder, for the
command line (`sro report ...`) and the scheduled runs (workflows/scheduled.py) alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from reports import documents, figures

FORMATS = ("md", "html", "csv")


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


def write_summary(
    data: figures.RegisterData,
    since: date,
    as_of: date,
    partnership: str | None,
    out: Path,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    fig = figures.summary(data, since, as_of, partnership)
    stem = f"summary-{since.isoformat()}" + (f"-{partnership}" if partnership else "")
    doc = documents.summary_document(fig)
    paths = []
    if "md" in formats:
        paths.append(write_text(out / f"{stem}.md", documents.to_markdown(doc)))
    if "html" in formats:
        paths.append(write_text(out / f"{stem}.html", documents.to_html(doc)))
    if "csv" in formats:
        paths.append(write_text(out / f"{stem}.csv", documents.summary_csv(fig)))
    return paths


def write_annual(
    data: figures.RegisterData,
    year: figures.ReportingYear,
    as_of: date,
    partnership: str | None,
    out: Path,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    fig = figures.annual(data, year, as_of, partnership)
    stem = f"annual-{year.label}" + (f"-{partnership}" if partnership else "")
    from reports import chart  # matplotlib: only the annual report draws

    png = chart.timeliness_chart(
        documents.timeliness_for_chart(fig),
        f"Timeliness against statute, {year.label}" + (f" ({partnership})" if partnership else ""),
        out / f"{stem}-timeliness.png",
    )
    doc = documents.annual_document(fig, chart=png.name)
    paths = []
    if "md" in formats:
        paths.append(write_text(out / f"{stem}.md", documents.to_markdown(doc)))
    if "html" in formats:
        paths.append(write_text(out / f"{stem}.html", documents.to_html(doc)))
    if "csv" in formats:
        paths.append(write_text(out / f"{stem}.csv", documents.annual_csv(fig)))
    return [*paths, png]
