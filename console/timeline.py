"""The case timeline as a server-rendered inline SVG: the route's stages (passed, current, next)
and every deadline on a date axis, each marker with its state in words (not colour alone).
Accessible: role="img" with a <title> and a <desc> that says the same in text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup, escape

from console import dates
from safeguarding.case import CaseStatus, DeadlineView
from safeguarding.clock import uk_today
from safeguarding.deadlines import DeadlineState
from safeguarding.vocabulary import Route, Stage

S = Stage
_START = [S.REFERRAL_RECEIVED, S.TRIAGE]
_SIN = [*_START, S.SERIOUS_INCIDENT_NOTIFICATION, S.RAPID_REVIEW, S.NATIONAL_PANEL_RESPONSE]
_CSPR = [
    S.CSPR_LEAD_REVIEWER,
    S.CSPR_TERMS_OF_REFERENCE,
    S.CSPR_AGENCY_INFORMATION,
    S.CSPR_INVOLVEMENT,
    S.CSPR_DRAFT_REPORT,
    S.CSPR_QUALITY_ASSURANCE,
    S.CSPR_FINAL_REPORT,
    S.CSPR_PUBLICATION,
]
_END = [S.ACTION_PLAN_MONITORING, S.CLOSED]

#: A step is a stage, or a text placeholder for a part of the route not decided yet.
Step = Stage | str

ROUTE_STEPS: dict[Route, list[Step]] = {
    Route.UNDECIDED: [*_START, "Route decided at triage"],
    Route.SERIOUS_INCIDENT: [*_SIN, "Local CSPR or not", *_END],
    Route.CARE_LEAVER_NOTIFICATION: [
        *_START,
        S.SERIOUS_INCIDENT_NOTIFICATION,
        S.CARE_LEAVER_NEXT_STEP,  # issue #13 item 4 (statutory edition)
        S.CLOSED,
    ],
    Route.LOCAL_CSPR: [*_SIN, *_CSPR, *_END],
    Route.LEARNING_ONLY: [*_SIN, *_END],
    Route.CASE_OF_CONCERN: [*_START, S.CASE_OF_CONCERN, S.CASE_OF_CONCERN_REVIEW, *_END],
    Route.OTHER_REVIEW: [*_START, S.OTHER_REVIEW, *_END],
    Route.NO_FURTHER_ACTION: [*_START, S.CLOSED],
}

SHORT_LABELS: dict[Stage, str] = {
    S.REFERRAL_RECEIVED: "Referral",
    S.TRIAGE: "Triage",
    S.SERIOUS_INCIDENT_NOTIFICATION: "Notification",
    S.RAPID_REVIEW: "Rapid Review",
    S.NATIONAL_PANEL_RESPONSE: "National Panel",
    S.CSPR_LEAD_REVIEWER: "Lead reviewer",
    S.CSPR_TERMS_OF_REFERENCE: "Terms of reference",
    S.CSPR_AGENCY_INFORMATION: "Agency information",
    S.CSPR_INVOLVEMENT: "Involvement",
    S.CSPR_DRAFT_REPORT: "Draft report",
    S.CSPR_QUALITY_ASSURANCE: "Quality assurance",
    S.CSPR_FINAL_REPORT: "Final report",
    S.CSPR_PUBLICATION: "Publication",
    S.CASE_OF_CONCERN: "Choose approach",
    S.CASE_OF_CONCERN_REVIEW: "Concern review",
    S.OTHER_REVIEW: "Other review",
    S.ACTION_PLAN_MONITORING: "Action plan",
    S.CLOSED: "Closed",
    S.CARE_LEAVER_NEXT_STEP: "Next step",
}

STATE_WORDS: dict[DeadlineState, str] = {
    DeadlineState.ON_TRACK: "upcoming, on track",
    DeadlineState.DUE_SOON: "upcoming, due soon",
    DeadlineState.OVERDUE: "overdue",
    DeadlineState.MET: "met",
    DeadlineState.MISSED: "missed (done late)",
    DeadlineState.WITHDRAWN: "withdrawn",
}

WIDTH = 960
LABEL_COLUMN = 300
MARGIN = 40
ROW = 26
MAX_ROWS = 14


@dataclass(frozen=True)
class StepView:
    label: str
    state: str  # passed, current, next


def steps(status: CaseStatus) -> list[StepView]:
    path = list(ROUTE_STEPS.get(status.route, [*_START]))
    if status.stage not in path:
        path.insert(max(len(path) - 2, 0), status.stage)
    current = path.index(status.stage)
    views = []
    for i, step in enumerate(path):
        label = SHORT_LABELS[step] if isinstance(step, Stage) else step
        if status.stage is Stage.CLOSED:
            state = "passed"
        else:
            state = "passed" if i < current else "current" if i == current else "next"
        views.append(StepView(label, state))
    return views


def day_label(day: date) -> str:
    return dates.words(day)


def deadline_words(d: DeadlineView) -> str:
    words = f"{d.title}: due {day_label(d.due_on)}, {STATE_WORDS[d.state]}"
    if d.met_on:
        words += f" (done {day_label(d.met_on)})"
    return words


def render(status: CaseStatus, now: datetime) -> Markup:
    today = uk_today(now)
    step_views = steps(status)
    deadlines = sorted(status.deadlines, key=lambda d: (d.due_on, d.deadline_id))
    shown = deadlines[:MAX_ROWS]
    stage_band = 118
    axis_y = stage_band + 22
    height = axis_y + 16 + max(len(shown), 1) * ROW + (24 if len(deadlines) > MAX_ROWS else 8)
    ident = f"timeline-{status.case_ref}"
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">Timeline of case {escape(status.case_ref)}</title>',
        f'<desc id="{ident}-desc">{escape(_description(status, step_views, deadlines, today))}'
        "</desc>",
    ]
    parts += _stage_band(step_views)
    parts += _deadline_band(shown, status, today, axis_y)
    if len(deadlines) > MAX_ROWS:
        parts.append(
            f'<text x="{MARGIN}" y="{height - 8}" class="tl-note">'
            f"{len(deadlines) - MAX_ROWS} more deadlines in the table below</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _description(
    status: CaseStatus, step_views: list[StepView], deadlines: list[DeadlineView], today: date
) -> str:
    stages = "; ".join(f"{s.label} ({s.state})" for s in step_views)
    text = f"Stages: {stages}. Today is {day_label(today)}."
    if deadlines:
        text += " Deadlines: " + "; ".join(deadline_words(d) for d in deadlines) + "."
    else:
        text += " No deadlines yet."
    return text


def _stage_band(step_views: list[StepView]) -> list[str]:
    parts = ['<g class="tl-stages">']
    count = len(step_views)
    span = WIDTH - 2 * MARGIN
    xs = [MARGIN + (span * i / (count - 1) if count > 1 else span / 2) for i in range(count)]
    y = 58
    parts.append(f'<line x1="{xs[0]:.0f}" y1="{y}" x2="{xs[-1]:.0f}" y2="{y}" class="tl-track"/>')
    for i, (x, view) in enumerate(zip(xs, step_views, strict=True)):
        if view.state == "passed":
            parts.append(f'<circle cx="{x:.0f}" cy="{y}" r="9" class="tl-passed"/>')
            parts.append(
                f'<path d="M{x - 4:.0f} {y} l3 3 l6 -6" class="tl-tick" aria-hidden="true"/>'
            )
        elif view.state == "current":
            parts.append(f'<circle cx="{x:.0f}" cy="{y}" r="13" class="tl-current"/>')
            parts.append(f'<circle cx="{x:.0f}" cy="{y}" r="5" class="tl-current-dot"/>')
        else:
            parts.append(f'<circle cx="{x:.0f}" cy="{y}" r="8" class="tl-next"/>')
        above = i % 2 == 0
        label_y = y - 22 if above else y + 30
        anchor = "start" if i == 0 else "end" if i == count - 1 else "middle"
        css = f"tl-label tl-label-{view.state}"
        parts.append(
            f'<text x="{x:.0f}" y="{label_y}" text-anchor="{anchor}" class="{css}">'
            f"{escape(view.label)}</text>"
        )
        if view.state == "current":
            now_y = label_y - 14 if above else label_y + 14
            parts.append(
                f'<text x="{x:.0f}" y="{now_y}" text-anchor="{anchor}" class="tl-now">now</text>'
            )
    parts.append("</g>")
    return parts


def _deadline_band(
    deadlines: list[DeadlineView], status: CaseStatus, today: date, axis_y: int
) -> list[str]:
    parts = ['<g class="tl-deadlines">']
    start = min([uk_today(status.opened_at), today, *(d.due_on for d in deadlines)])
    end = max([today, *(d.due_on for d in deadlines), *(d.met_on for d in deadlines if d.met_on)])
    if (end - start).days < 14:
        end = date.fromordinal(start.toordinal() + 14)
    left, right = LABEL_COLUMN, WIDTH - MARGIN - 120

    def x_of(day: date) -> float:
        return left + (right - left) * (day - start).days / max((end - start).days, 1)

    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" class="tl-axis"/>'
        f'<text x="{left}" y="{axis_y - 6}" class="tl-axis-label">{day_label(start)}</text>'
        f'<text x="{right}" y="{axis_y - 6}" text-anchor="end" class="tl-axis-label">'
        f"{day_label(end)}</text>"
        f'<text x="{MARGIN}" y="{axis_y - 6}" class="tl-heading">Deadlines</text>'
    )
    bottom = axis_y + 10 + max(len(deadlines), 1) * ROW
    tx = x_of(today)
    parts.append(
        f'<line x1="{tx:.0f}" y1="{axis_y - 2}" x2="{tx:.0f}" y2="{bottom}" class="tl-today"/>'
        f'<text x="{tx:.0f}" y="{bottom + 12}" text-anchor="middle" class="tl-axis-label">'
        "today</text>"
    )
    if not deadlines:
        parts.append(
            f'<text x="{MARGIN}" y="{axis_y + 24}" class="tl-row-label">No deadlines yet</text>'
        )
    for i, d in enumerate(deadlines):
        y = axis_y + 10 + i * ROW + ROW / 2
        x = x_of(d.due_on)
        parts.append(_row_label(d.title, y))
        parts.append(
            f'<line x1="{left}" y1="{y:.0f}" x2="{right}" y2="{y:.0f}" class="tl-row-line"/>'
        )
        words = f"{day_label(d.due_on)} · {STATE_WORDS[d.state].replace('upcoming, ', '')}"
        if d.met_on:
            # Drawn on the day it was met (issue 15), the due day marked on the same row.
            x = x_of(d.met_on)
            due_x = x_of(d.due_on)
            parts.append(
                f'<line x1="{due_x:.0f}" y1="{y - 6:.0f}" x2="{due_x:.0f}" y2="{y + 6:.0f}" '
                'class="tl-due-tick"/>'
            )
            words = f"due {day_label(d.due_on)} · {d.state.value} {day_label(d.met_on)}"
        parts.append(_marker(d.state, x, y))
        parts.append(_state_text(words, d.state, x, y))
    parts.append("</g>")
    return parts


#: Characters of a deadline's title on one line of the label column.
_TITLE_LINE = 44


def _row_label(title: str, y: float) -> str:
    """A deadline's title in the label column: one line, or two when it is long (issue 15:
    titles were cut at the column's edge); only beyond two lines does it end in "…", the
    whole title being in the description and the table below."""
    if len(title) <= _TITLE_LINE:
        return (
            f'<text x="{MARGIN - 30}" y="{y + 4:.0f}" class="tl-row-label">{escape(title)}</text>'
        )
    cut = title.rfind(" ", 0, _TITLE_LINE + 1)
    cut = cut if cut > 0 else _TITLE_LINE
    first, rest = title[:cut], title[cut:].strip()
    if len(rest) > _TITLE_LINE:
        rest = rest[: _TITLE_LINE - 1] + "…"
    return (
        f'<text x="{MARGIN - 30}" y="{y - 2:.0f}" class="tl-row-label tl-row-label--two">'
        f"<tspan>{escape(first)}</tspan>"
        f'<tspan x="{MARGIN - 30}" dy="11">{escape(rest)}</tspan></text>'
    )


#: About how wide a character of the state words is (11.5px text), to keep them inside.
_CHAR_WIDTH = 6.6


def _state_text(words: str, state: DeadlineState, x: float, y: float) -> str:
    """The words beside a marker: on its right, or on its left when they would run past the
    picture's edge and be cut (issue 15)."""
    anchor, tx = "start", x + 11
    if tx + len(words) * _CHAR_WIDTH > WIDTH - 4:
        anchor, tx = "end", x - 11
    return (
        f'<text x="{tx:.0f}" y="{y + 4:.0f}" text-anchor="{anchor}" '
        f'class="tl-state tl-state-{state.value}">{escape(words)}</text>'
    )


def _marker(state: DeadlineState, x: float, y: float) -> str:
    css = f"tl-marker tl-{state.value}"
    if state is DeadlineState.MET:
        return (
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="7" class="{css}"/>'
            f'<path d="M{x - 3:.0f} {y:.0f} l2.5 2.5 l4.5 -5" class="tl-tick"/>'
        )
    if state is DeadlineState.MISSED:
        return (
            f'<rect x="{x - 7:.0f}" y="{y - 7:.0f}" width="14" height="14" class="{css}"/>'
            f'<path d="M{x - 3.5:.1f} {y - 3.5:.1f} l7 7 m0 -7 l-7 7" class="tl-cross"/>'
        )
    if state is DeadlineState.OVERDUE:
        return f'<path d="M{x:.0f} {y - 8:.0f} l8 14 h-16 z" class="{css}"/>'
    if state is DeadlineState.WITHDRAWN:
        return f'<circle cx="{x:.0f}" cy="{y:.0f}" r="6" class="{css}"/>'
    return f'<path d="M{x:.0f} {y - 8:.0f} l8 8 l-8 8 l-8 -8 z" class="{css}"/>'
