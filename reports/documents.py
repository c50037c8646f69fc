"""The reports as documents: Markdown, HTML (one self-contained page) and CSV.

A report is built once as a `Document` (sections of paragraphs and tables) and rendered to
Markdown or HTML, so both say the same. The CSV files carry the same figures for spreadsheets.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from datetime import date

from reports import national
from reports.cells import csv_text
from reports.figures import (
    TIMESCALES,
    AnnualFigures,
    ReviewLine,
    SummaryFigures,
    Timeliness,
)
from reports.oversight import OversightFigures, stage_times


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    #: Columns to right-align (numbers).
    numeric: frozenset[int] = frozenset()


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    #: An image beside the report: (file name, alternative text).
    image: tuple[str, str] | None = None


@dataclass
class Document:
    title: str
    intro: list[str]
    sections: list[Section]


# --------------------------------------------------------------------------- rendering


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for line in doc.intro:
        out += [line, ""]
    for section in doc.sections:
        out += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            out += [paragraph, ""]
        if section.image:
            name, alt = section.image
            out += [f"![{alt}]({name})", ""]
        for table in section.tables:
            out.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
            out.append(
                "|"
                + "|".join(
                    "---:" if i in table.numeric else "---" for i in range(len(table.header))
                )
                + "|"
            )
            for row in table.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            out.append("")
        for bullet in section.bullets:
            out.append(f"- {bullet}")
        if section.bullets:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 2rem auto;
       max-width: 70rem; padding: 0 1rem; color: #1d1d1d; line-height: 1.45; }
h1 { font-size: 1.7rem; border-bottom: 3px solid #1d4f91; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; color: #1d4f91; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .95rem; }
th, td { border: 1px solid #c8ccd2; padding: .35rem .6rem; vertical-align: top; text-align: left; }
th { background: #eef2f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #c8ccd2; }
p.note { color: #555; font-size: .9rem; }
"""


def to_html(doc: Document) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(doc.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    out += [f'<p class="note">{e(line)}</p>' for line in doc.intro]
    for section in doc.sections:
        out.append(f"<h2>{e(section.heading)}</h2>")
        out += [f"<p>{e(p)}</p>" for p in section.paragraphs]
        if section.image:
            name, alt = section.image
            out.append(f'<p><img src="{e(name)}" alt="{e(alt)}"></p>')
        for table in section.tables:
            out.append("<table>")
            out.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in table.header) + "</tr>")
            for row in table.rows:
                cells = "".join(
                    f'<td class="n">{e(c)}</td>' if i in table.numeric else f"<td>{e(c)}</td>"
                    for i, c in enumerate(row)
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</table>")
        if section.bullets:
            out.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in section.bullets) + "</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


#: A CSV cell: text, or a number (which is never escaped, so it stays numeric in a spreadsheet).
Cell = str | int | float


def _number(value: float) -> int | float:
    """A figure as a number cell; 75.0 is written as 75, as the reports show it."""
    return int(value) if float(value).is_integer() else value


def _csv(rows: list[list[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([csv_text(c) if isinstance(c, str) else c for c in row] for row in rows)
    return buffer.getvalue()


#: Shown for "no value".
NONE = "\u2013"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value:g}%"


def _indent(label: str) -> str:
    """A sub-row's leading spaces as em spaces, which Markdown and HTML both keep."""
    stripped = label.lstrip(" ")
    return "\u2003" * (len(label) - len(stripped)) + stripped


def learning_line(day: date, kind: str, title: str) -> str:
    kinds = {"briefing": "7-minute briefing", "newsletter": "newsletter item"}
    return f"{day.isoformat()}: {title} ({kinds.get(kind, kind)})"


def _scope(partnership: str | None) -> str:
    return f"Partnership: {partnership}." if partnership else "All partnerships in the register."


# --------------------------------------------------------------------------- annual report


def annual_document(fig: AnnualFigures, chart: str | None = None) -> Document:
    year = fig.year
    sections = [
        Section(
            "Referrals by route",
            paragraphs=[
                f"{fig.referrals} referral{'s' if fig.referrals != 1 else ''} received between "
                f"{year.start:%-d %B %Y} and {year.end:%-d %B %Y}, by the route each took."
            ],
            tables=[
                Table(
                    ["Route", "Referrals"],
                    [[c.label, str(c.count)] for c in fig.by_route]
                    + [["Total", str(fig.referrals)]],
                    numeric=frozenset({1}),
                )
            ],
        ),
        Section(
            "Reviews and outcomes in the year",
            tables=[
                Table(
                    ["Outcome", "Number"],
                    [[_indent(c.label), str(c.count)] for c in fig.outcomes],
                    numeric=frozenset({1}),
                )
            ],
        ),
        _notifications_section(fig),
        *([_national_section(fig.national)] if fig.national is not None else []),
        _timeliness_section(fig, chart),
        _actions_section(fig),
        _learning_section(fig),
    ]
    return Document(
        title=f"Annual report figures {year.label}",
        intro=[
            f"Reporting year 1 April {year.first} to 31 March {year.first + 1}. "
            f"{_scope(fig.partnership)} Figures from the case register as at "
            f"{fig.as_of:%-d %B %Y}."
        ],
        sections=sections,
    )


def _national_section(fig: national.NationalFigures) -> Section:
    """Issue 13, item 13."""
    return Section(
        "For the National Panel and the Department for Education",
        paragraphs=[
            "The year's figures the Child Safeguarding Practice Review Panel and the Department "
            "ask of a partnership. On time means by the statutory due date before any agreed "
            "extension; a Local CSPR's time to publication counts from the decision that "
            "commissioned it."
        ],
        tables=[
            Table(
                ["Measure", "Figure"],
                [[_indent(label), value] for label, value in national.rows(fig)],
            )
        ],
    )


def _notifications_section(fig: AnnualFigures) -> Section:
    return Section(
        "Notifications: harm and age",
        paragraphs=[
            "Serious Incident Notifications made in the year by the harm notified, and the "
            "children they concerned by age band (national statistics; no personal details)."
        ],
        tables=[
            Table(
                ["Harm", "Notifications"],
                [[c.label, str(c.count)] for c in fig.notifications_by_harm],
                numeric=frozenset({1}),
            ),
            Table(
                ["Age band", "Children"],
                [[c.label, str(c.count)] for c in fig.children_by_age_band],
                numeric=frozenset({1}),
            ),
        ],
    )


def _timeliness_section(fig: AnnualFigures, chart: str | None) -> Section:
    table = Table(
        header=[
            "Statutory timescale",
            "Done in the year",
            "In time",
            "Late",
            "In time (%)",
            "Overdue, not yet done",
        ],
        rows=[
            [
                t.measure,
                str(t.done),
                str(t.in_time),
                str(t.late),
                percent(t.percent),
                str(t.overdue_outstanding),
            ]
            for t in fig.timeliness
        ],
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    return Section(
        "Timeliness against statute",
        paragraphs=[
            "Statutory deadlines done in the year, measured against the statutory due date "
            "(before any agreed extension). Working days exclude weekends, bank holidays in "
            "England and the partnership's closure days.",
        ],
        tables=[table],
        image=(chart, f"Timeliness against statute, {fig.year.label}") if chart else None,
    )


def _actions_section(fig: AnnualFigures) -> Section:
    agencies = fig.actions_by_agency
    return Section(
        f"Actions by lead agency (as at {fig.as_of:%-d %B %Y})",
        paragraphs=[
            "Open: not complete nor closed by the review group. Overdue: open and past its "
            "due date."
        ],
        tables=[
            Table(
                ["Lead agency", "Open actions", "Overdue"],
                [[a.agency, str(a.open), str(a.overdue)] for a in agencies]
                + [
                    [
                        "Total",
                        str(sum(a.open for a in agencies)),
                        str(sum(a.overdue for a in agencies)),
                    ]
                ],
                numeric=frozenset({1, 2}),
            )
        ],
    )


def _learning_section(fig: AnnualFigures) -> Section:
    return Section(
        "Learning outputs produced",
        paragraphs=[
            "Outputs recorded by the business team and those planned from each case's review, "
            "counted when disseminated. Re-audits of their impact on practice recorded in the "
            f"year: {fig.learning_reaudits}."
        ],
        tables=[
            Table(
                ["Output", "Number"],
                [[c.label, str(c.count)] for c in fig.learning]
                + [["Total", str(sum(c.count for c in fig.learning))]],
                numeric=frozenset({1}),
            )
        ],
        bullets=[learning_line(day, kind, title) for day, kind, title in fig.learning_titles],
    )


def annual_csv(fig: AnnualFigures) -> str:
    rows: list[list[Cell]] = [["section", "measure", "number", "of", "percent"]]
    rows += [["referrals by route", c.label, c.count, "", ""] for c in fig.by_route]
    rows.append(["referrals by route", "Total", fig.referrals, "", ""])
    rows += [["outcomes", c.label.strip(), c.count, "", ""] for c in fig.outcomes]
    rows += [["notifications by harm", c.label, c.count, "", ""] for c in fig.notifications_by_harm]
    rows += [["children by age band", c.label, c.count, "", ""] for c in fig.children_by_age_band]
    for t in fig.timeliness:
        rows.append(
            [
                "timeliness",
                t.measure,
                t.in_time,
                t.done,
                "" if t.percent is None else _number(t.percent),
            ]
        )
        rows.append(["timeliness overdue, not yet done", t.measure, t.overdue_outstanding, "", ""])
    for a in fig.actions_by_agency:
        rows.append(["open actions by agency", a.agency, a.open, "", ""])
        rows.append(["overdue actions by agency", a.agency, a.overdue, "", ""])
    rows += [["learning outputs", c.label, c.count, "", ""] for c in fig.learning]
    if fig.national is not None:
        rows += _national_csv(fig.national)
    return _csv(rows)


def _national_csv(fig: national.NationalFigures) -> list[list[Cell]]:
    """Issue 13, item 13, as numbers (a count, and of how many where it is a proportion)."""
    section = "national panel and department"
    found: list[list[Cell]] = [
        [section, "Serious Incident Notifications made", fig.notifications, "", ""],
        [section, "care leaver deaths notified", fig.care_leaver_notifications, "", ""],
        [
            section,
            "notifications within 5 working days",
            fig.notifications_in_time,
            fig.notifications,
            "",
        ],
        [
            section,
            "Rapid Reviews within 15 working days",
            fig.rapid_reviews_in_time,
            fig.rapid_reviews,
            "",
        ],
    ]
    if fig.sent_to_panel is not None and fig.sent_to_panel_in_time is not None:
        found.append(
            [
                section,
                "Rapid Reviews sent to the Panel within 15 working days",
                fig.sent_to_panel_in_time,
                fig.sent_to_panel,
                "",
            ]
        )
    found += [
        [section, "Local CSPRs commissioned", fig.lcsprs_commissioned, "", ""],
        [
            section,
            "Local CSPRs published within 6 months",
            fig.lcsprs_published_in_time,
            fig.lcsprs_published,
            "",
        ],
        [section, "Local CSPRs not published", fig.lcsprs_not_published, "", ""],
    ]
    if fig.median_days_to_publication is not None:
        found.append(
            [
                section,
                "median days from commissioning to publication",
                _number(fig.median_days_to_publication),
                len(fig.days_to_publication),
                "",
            ]
        )
    return found


def timeliness_for_chart(fig: AnnualFigures) -> list[Timeliness]:
    """In the order of the statutory process."""
    order = {measure: i for i, (_, measure, _) in enumerate(TIMESCALES)}
    return sorted(fig.timeliness, key=lambda t: order.get(t.measure, 99))


# --------------------------------------------------------------------------- bi-monthly summary


def _review_row(r: ReviewLine) -> list[str]:
    return [
        r.case_ref,
        r.route,
        r.stage if r.closed_on is None else f"Closed {r.closed_on.isoformat()}",
        f"{r.deadlines_met} met, {r.deadlines_missed} late, {r.deadlines_due} open"
        + (f" ({r.overdue} overdue)" if r.overdue else ""),
        f"{r.next_deadline} ({r.next_due_on.isoformat()})"
        if r.next_deadline and r.next_due_on
        else NONE,
        f"{r.actions_done} of {r.actions} done"
        + (f", {r.actions_overdue} overdue" if r.actions_overdue else "")
        if r.actions
        else NONE,
        str(r.decisions_since),
    ]


def summary_document(fig: SummaryFigures) -> Document:
    review_rows = [_review_row(r) for r in fig.reviews]
    sections = [
        Section(
            "Reviews",
            paragraphs=[
                f"{len(fig.reviews)} review{'s' if len(fig.reviews) != 1 else ''} "
                f"({fig.open_reviews} open); {fig.decisions_since} decision"
                f"{'s' if fig.decisions_since != 1 else ''} recorded since "
                f"{fig.since:%-d %B %Y}."
            ],
            tables=[
                Table(
                    [
                        "Case",
                        "Route",
                        "Stage",
                        "Deadlines",
                        "Next deadline",
                        "Actions",
                        "Decisions since",
                    ],
                    review_rows,
                    numeric=frozenset({6}),
                )
            ],
        ),
        Section(
            "Themes",
            paragraphs=[
                "The recommendations of the reviews' action plans, and how many reviews share each."
                if fig.themes
                else "No recommendations recorded yet."
            ],
            tables=[
                Table(
                    ["Theme", "Reviews"],
                    [[t.theme, str(t.reviews)] for t in fig.themes],
                    numeric=frozenset({1}),
                )
            ]
            if fig.themes
            else [],
        ),
        Section(
            "Escalations since the last report",
            paragraphs=[] if fig.escalations_since else ["None."],
            bullets=[f"{at:%Y-%m-%d}: {text}" for _, at, text in fig.escalations_since],
        ),
        *([_oversight_section(fig.oversight)] if fig.oversight is not None else []),
        Section(
            "Learning outputs since the last report",
            paragraphs=[] if fig.learning_since else ["None recorded."],
            bullets=[learning_line(day, kind, title) for day, kind, title in fig.learning_since],
        ),
        Section(
            "Learning outputs not yet disseminated",
            paragraphs=[] if fig.learning_outstanding else ["None."],
            bullets=[
                f"{ref}: {what}, due {due.isoformat()}" + (" (overdue)" if overdue else "")
                for ref, what, due, overdue in fig.learning_outstanding
            ],
        ),
    ]
    return Document(
        title=f"Review summary since {fig.since:%-d %B %Y}",
        intro=[
            f"Every review open on or after {fig.since:%-d %B %Y}, its stage and progress, and "
            f"the themes of its recommendations. {_scope(fig.partnership)} From the case "
            f"register as at {fig.as_of:%-d %B %Y}."
        ],
        sections=sections,
    )


def _oversight_section(fig: OversightFigures) -> Section:
    """Issue 13, item 12: professional disagreements, by stage, time at each stage, resolved."""
    threshold = " or ".join(str(t) for t in fig.thresholds)
    count = len(fig.escalations)
    paragraphs = [
        f"{count} professional disagreement{'s' if count != 1 else ''} open in the period "
        f"({sum(not e.resolved for e in fig.escalations)} still open); {fig.overseen} reached "
        f"the review group's oversight (stage {threshold} and above)."
        if count
        else "No professional disagreements open in the period."
    ]
    tables = []
    if count:
        tables = [
            Table(
                ["Stage", "Open", "Resolved"],
                [[str(n), str(o), str(r)] for n, o, r in fig.by_stage],
                numeric=frozenset({0, 1, 2}),
            ),
            Table(
                [
                    "Escalation",
                    "Case",
                    "With",
                    "Raised",
                    "Stage",
                    "Overseen",
                    "Resolved",
                    "Time at each stage",
                ],
                [
                    [
                        e.escalation_ref,
                        e.linked_case_ref or NONE,
                        e.raised_with.replace("_", " "),
                        e.raised_on.isoformat(),
                        f"{e.stage}: {e.stage_name} ({'formal' if e.formal else 'informal'})",
                        "yes" if e.overseen else "no",
                        e.resolved_on.isoformat() if e.resolved_on else "no",
                        stage_times(e),
                    ]
                    for e in fig.escalations
                ],
            ),
        ]
    return Section("Professional disagreements", paragraphs=paragraphs, tables=tables)


def review_status(line: ReviewLine) -> str:
    """A review's state in words, so that nobody has to read it from a colour (issue 15):
    closed, overdue (a statutory deadline past due), late actions, on track."""
    if line.closed_on:
        return "closed"
    if line.overdue:
        return "overdue"
    if line.actions_overdue:
        return "actions overdue"
    return "on track"


def summary_csv(fig: SummaryFigures) -> str:
    rows: list[list[Cell]] = [
        [
            "case_ref",
            "partnership",
            "route",
            "stage",
            "status",
            "received_on",
            "closed_on",
            "deadlines_met",
            "deadlines_late",
            "deadlines_open",
            "deadlines_overdue",
            "next_deadline",
            "next_due_on",
            "actions",
            "actions_done",
            "actions_overdue",
            "decisions_since",
            "last_decision",
            "themes",
        ]
    ]
    for r in fig.reviews:
        rows.append(
            [
                r.case_ref,
                r.partnership,
                r.route,
                r.stage,
                review_status(r),
                r.received_on.isoformat(),
                r.closed_on.isoformat() if r.closed_on else "",
                r.deadlines_met,
                r.deadlines_missed,
                r.deadlines_due,
                r.overdue,
                r.next_deadline or "",
                r.next_due_on.isoformat() if r.next_due_on else "",
                r.actions,
                r.actions_done,
                r.actions_overdue,
                r.decisions_since,
                r.last_decision or "",
                "; ".join(r.themes),
            ]
        )
    return _csv(rows)


__all__ = [
    "Document",
    "Section",
    "Table",
    "annual_csv",
    "annual_document",
    "csv_text",
    "summary_csv",
    "summary_document",
    "to_html",
    "to_markdown",
]
