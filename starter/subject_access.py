"""`sro register subject-access` and `sro register find-person` (issue 14, point 4).

    sro register subject-access --case REF [--out DIR]     the case's bundle, JSON and HTML
    sro register find-person --name NAME [--born DATE]      every case naming a person

Both draw on the register and, when Temporal answers, on the cases themselves through the
gateway (the referral, which only Temporal holds, encrypted; and the live status), and say which
sources they could use. Both are recorded in the register's access log (`subject_access`) before
anything is shown or written, and refuse when the record cannot be written (fail-closed, as
`sro status`); the log never holds what was searched for. Files are written 0600 in a 0700
folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from config import settings
from gateway.refs import REFERRAL_WORKFLOW_TYPE, case_ref_of
from register import access_log, db
from register import subject_access as held
from register.access_log import SUBJECT_ACCESS
from reports import subject_access as bundle_
from reports.subject_access import Source
from safeguarding.case_views import CaseStatus
from safeguarding.referral import Referral
from safeguarding.subject_access import PersonQuery, referral_mentions
from security.files import write_private
from starter.access import viewer
from starter.common import CliError, normalise_case_ref, print_json

CONCURRENCY = 8
_T = TypeVar("_T")


class Live(Protocol):
    """The cases in Temporal, as these commands need them."""

    async def referral(self, case_ref: str) -> Referral: ...
    async def status(self, case_ref: str) -> CaseStatus: ...
    def case_refs(self) -> AsyncIterator[tuple[str, bool]]: ...


class GatewayLive:
    """`Live` through the gateway's `CaseClient`."""

    def __init__(self, cases: Any, timeout: float) -> None:
        self.cases = cases
        self.timeout = timedelta(seconds=timeout)

    async def referral(self, case_ref: str) -> Referral:
        found: Referral = await self.cases.referral(case_ref, timeout=self.timeout)
        return found

    async def status(self, case_ref: str) -> CaseStatus:
        found: CaseStatus = await self.cases.status(case_ref, timeout=self.timeout)
        return found

    async def case_refs(self) -> AsyncIterator[tuple[str, bool]]:
        """(case reference, open) for every case Temporal still holds."""
        seen: set[str] = set()
        query = f"WorkflowType = '{REFERRAL_WORKFLOW_TYPE}'"
        async for execution in self.cases.list(query, limit=1_000_000):
            if execution.id not in seen:
                seen.add(execution.id)
                yield case_ref_of(execution.id), execution.close_time is None


@asynccontextmanager
async def live(timeout: float) -> AsyncIterator[Live]:
    """The gateway's cases (tests replace this)."""
    from gateway.cases import CaseClient
    from starter.session import open_client

    yield GatewayLive(CaseClient(await open_client()), timeout)


def _problem(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    return str(text).splitlines()[0][:200]


async def _try(call: Callable[[], Awaitable[_T]]) -> tuple[_T | None, str]:
    try:
        return await call(), ""
    except Exception as err:  # unreachable, no worker, no such workflow: the source is left out
        return None, _problem(err)


# ====================================================================== the bundle


async def cmd_subject_access(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    register = await asyncio.to_thread(held.read_case, case_ref)
    referral: Referral | None = None
    status: CaseStatus | None = None
    why_not = "not asked for (--no-temporal)"
    if not args.no_temporal:
        try:
            async with live(args.timeout) as cases:
                referral, why_referral = await _try(lambda: cases.referral(case_ref))
                status, why_status = await _try(lambda: cases.status(case_ref))
                why_not = why_referral or why_status
        except Exception as err:  # Temporal unreachable, keys missing: the register alone
            why_not = _problem(err)
    if not register["cases"] and referral is None:
        raise CliError(f"{case_ref} is neither in the register nor answering in Temporal")
    who = viewer()
    formats = args.formats or ["json", "html"]
    recorded = await asyncio.to_thread(
        access_log.record,
        who,
        [case_ref],
        via="sro",
        data=(SUBJECT_ACCESS,),
        what=f"subject access export ({', '.join(formats)})",
    )
    if not recorded:
        raise CliError("the access log cannot be written: nothing exported", code=1)
    register["access_log"] = access_log.as_dicts(
        await asyncio.to_thread(access_log.entries, case_ref)
    )
    sources = [
        Source("register", True, f"every table about the case, at {db.describe()}"),
        Source("Temporal: the referral", referral is not None, "" if referral else why_not),
        Source("Temporal: the case's status", status is not None, "" if status else why_not),
    ]
    made = bundle_.build(
        case_ref,
        register=register,
        referral=referral,
        status=status,
        sources=sources,
        exported_by={"username": who.username, "role": who.role, "agency": who.agency},
    )
    out: Path = args.out or settings().data_dir / "subject-access"
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    for kind in formats:
        path = out / f"subject-access-{case_ref}.{kind}"
        text = bundle_.to_json(made) if kind == "json" else bundle_.to_html(made)
        write_private(path, text)
        print(f"wrote {path}")
    for source in sources:
        if not source.included:
            print(f"not included: {source.name} ({source.detail})")
    return 0


# ====================================================================== the search


@dataclass
class Found:
    """Where each case names the person, and what was searched."""

    where: dict[str, list[str]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)

    def add(self, case_ref: str, places: list[str]) -> None:
        self.where.setdefault(case_ref, []).extend(places)


async def _search_referrals(cases: Live, query: PersonQuery, found: Found) -> None:
    refs = [ref async for ref in cases.case_refs()]
    gate = asyncio.Semaphore(CONCURRENCY)
    failed: list[str] = []

    async def one(case_ref: str) -> None:
        async with gate:
            referral, problem = await _try(lambda: cases.referral(case_ref))
        if referral is None:
            failed.append(f"{case_ref}: {problem}")
            return
        places = referral_mentions(referral, query)
        if places:
            found.add(case_ref, [f"referral, {p}" for p in places])

    await asyncio.gather(*(one(ref) for ref, _open in refs))
    opened = sum(1 for _ref, is_open in refs if is_open)
    detail = (
        f"{len(refs) - len(failed)} of {len(refs)} case(s) Temporal holds "
        f"({opened} open, {len(refs) - opened} closed within retention)"
    )
    if failed:
        detail += f"; {len(failed)} did not answer: " + "; ".join(sorted(failed)[:5])
    found.sources.append(Source("Temporal: each case's referral", not failed, detail))


async def find(query: PersonQuery, *, temporal: bool, timeout: float) -> Found:
    found = Found()
    searched = await asyncio.to_thread(held.find_person, query)
    for hit in searched.hits:
        found.add(hit.case_ref, [f"register, {w}" for w in hit.where])
    found.sources.append(
        Source(
            "register: every text column of every table about a case",
            True,
            f"{searched.cases_searched} case(s) at {db.describe()}",
        )
    )
    if not temporal:
        found.sources.append(Source("Temporal: each case's referral", False, "--no-temporal"))
        return found
    try:
        async with live(timeout) as cases:
            await _search_referrals(cases, query, found)
    except Exception as err:
        found.sources.append(Source("Temporal: each case's referral", False, _problem(err)))
    return found


def person_query(args: argparse.Namespace) -> PersonQuery:
    try:
        return PersonQuery(name=args.name, born=args.born)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "--name/--born"
        raise CliError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


async def _record_search(found: Found) -> bool:
    """One row per case found (its data was searched and the match is shown), then one without
    a case for the search itself: how much was searched. Never the name or date searched for."""
    who, searched = viewer(), "; ".join(s.name for s in found.sources if s.included)

    def write(refs: list[str | None], what: str) -> bool:
        return access_log.record(who, refs, via="sro", data=(SUBJECT_ACCESS,), what=what)

    if found.where and not await asyncio.to_thread(
        write, list(sorted(found.where)), "find-person: the case names the person searched for"
    ):
        return False
    summary = f"find-person: {len(found.where)} case(s) found, searched {searched}"
    return await asyncio.to_thread(write, [None], summary)


async def cmd_find_person(args: argparse.Namespace) -> int:
    query = person_query(args)
    found = await find(query, temporal=not args.no_temporal, timeout=args.timeout)
    if not await _record_search(found):
        raise CliError("the access log cannot be written: no results shown", code=1)
    result = {
        "sources": [s.as_dict() for s in found.sources],
        "cases": [{"case_ref": ref, "where": where} for ref, where in sorted(found.where.items())],
    }
    if args.out is not None:
        write_private(args.out, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    elif args.json:
        print_json(result)
        return 0
    for source in found.sources:
        state = "searched" if source.included else "NOT searched"
        print(f"{state}: {source.name} ({source.detail})")
    if not found.where:
        print("No case names this person in what was searched.")
    for ref, where in sorted(found.where.items()):
        print(f"{ref}: " + "; ".join(dict.fromkeys(where)))
    return 0
