"""The subject-access bundle for one case (issue 14, point 4): JSON (complete, machine-readable)
and HTML (readable, one self-contained page: no scripts, no external assets, every value
escaped, control and bidirectional characters shown as escapes).

The interfaces gather the parts (the register's rows, and, when Temporal answers, the referral
and the live status through the gateway) and say which sources they could include; this module
puts them together and renders them. It reads nothing itself.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from safeguarding.text import printable

FORMAT = "sro-subject-access/1"

#: What the bundle does not hold, and why (said in both forms).
NOT_INCLUDED = (
    "Email notices (reminders, escalations, information requests): they name the case and the "
    "deadline only, never the child (README, Email).",
    "Logs of the worker, the console and the codec server: they hold case references, counts "
    "and account names, never the child's data.",
    "Temporal's raw event history beyond the referral and the case's status (decision payloads "
    "are the same decisions as the history below).",
    "Published reports: published and held by the partnership, not here.",
)


@dataclass(frozen=True)
class Source:
    """One place the bundle draws from, and whether it could."""

    name: str
    included: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.name, "included": self.included, "detail": self.detail}


def build(
    case_ref: str,
    *,
    register: dict[str, list[dict[str, Any]]] | None,
    referral: BaseModel | None,
    status: BaseModel | None,
    sources: list[Source],
    exported_by: dict[str, str | None],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The bundle as one JSON-ready dict."""
    return {
        "format": FORMAT,
        "case_ref": case_ref,
        "exported_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "exported_by": exported_by,
        "sources": [s.as_dict() for s in sources],
        "referral": referral.model_dump(mode="json") if referral is not None else None,
        "status": status.model_dump(mode="json") if status is not None else None,
        "register": register,
        "not_included": list(NOT_INCLUDED),
    }


def to_json(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- HTML

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#111}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #999;padding:.25em .5em;vertical-align:top;text-align:left}"
    "td{white-space:pre-wrap}th{background:#eee}.no{color:#a00}.yes{color:#060}"
    "@media print{body{margin:0}}"
)


def _text(value: Any) -> str:
    """A value as safe HTML text: printable (controls escaped), then HTML-escaped."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    lines = str(value).replace("\r\n", "\n").split("\n")
    return "\n".join(html.escape(printable(line)) for line in lines)


def _fields(data: dict[str, Any]) -> list[str]:
    rows = [f"<tr><th scope='row'>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in data.items()]
    return ["<table>", *rows, "</table>"]


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["<p>None held.</p>"]
    if len(rows) == 1:  # one row (the case's own): a column of fields reads better than a line
        return _fields(rows[0])
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = ["<table>", "<tr>" + "".join(f"<th scope='col'>{_text(c)}</th>" for c in columns)]
    out[-1] += "</tr>"
    out += [
        "<tr>" + "".join(f"<td>{_text(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    ]
    return [*out, "</table>"]


def _section(title: str, value: Any) -> list[str]:
    out = [f"<h2>{_text(title)}</h2>"]
    if value is None:
        return [*out, "<p>Not included (see Sources).</p>"]
    scalars = {k: v for k, v in value.items() if not isinstance(v, list)}
    out += _fields(scalars)
    for key, items in value.items():
        if isinstance(items, list):
            out.append(f"<h3>{_text(key.replace('_', ' '))}</h3>")
            if items and all(isinstance(i, dict) for i in items):
                out += _rows(items)
            else:
                out.append(f"<p>{_text(items) if items else 'None.'}</p>")
    return out


def to_html(bundle: dict[str, Any]) -> str:
    ref = bundle["case_ref"]
    by = bundle["exported_by"]
    who = ", ".join(str(v) for v in by.values() if v)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="referrer" content="no-referrer">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>Subject access: case {_text(ref)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>Subject access: everything held about case {_text(ref)}</h1>",
        f"<p>Exported {_text(bundle['exported_at'])} (UTC) by {_text(who)}. "
        "The JSON file beside this one holds the same, complete and machine-readable.</p>",
        "<h2>Sources</h2>",
        "<table><tr><th scope='col'>Source</th><th scope='col'>Included</th>"
        "<th scope='col'>Detail</th></tr>",
    ]
    for s in bundle["sources"]:
        mark = '<td class="yes">yes</td>' if s["included"] else '<td class="no">no</td>'
        out.append(f"<tr><td>{_text(s['source'])}</td>{mark}<td>{_text(s['detail'])}</td></tr>")
    out.append("</table>")
    out += _section("The referral (from Temporal)", bundle["referral"])
    out += _section("The case as it stands (from Temporal)", bundle["status"])
    out.append("<h2>The register</h2>")
    register = bundle["register"]
    if register is None:
        out.append("<p>Not included (see Sources).</p>")
    else:
        for table, rows in register.items():
            out.append(f"<h3>{_text(table.replace('_', ' '))}</h3>")
            out += _rows(rows)
    out.append("<h2>Not in this bundle</h2><ul>")
    out += [f"<li>{_text(line)}</li>" for line in bundle["not_included"]]
    out += ["</ul>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


__all__ = ["FORMAT", "NOT_INCLUDED", "Source", "build", "to_html", "to_json"]
