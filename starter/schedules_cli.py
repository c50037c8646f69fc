"""`sro schedules list|trigger|pause|unpause`: the scheduled reports, through the gateway."""

from __future__ import annotations

import argparse

from gateway import schedules
from starter.common import moment, table
from starter.session import open_client


async def dispatch(args: argparse.Namespace) -> int:
    client = await open_client()
    if args.schedules_command == "list":
        found = await schedules.listed(client)
        if not found:
            print("No schedules on the server yet (make run creates them).")
            return 0
        rows = [["SCHEDULE", "STATE", "NEXT RUNS (UK)", "WHAT"]]
        for s in found:
            state = "paused" + (f": {s.note}" if s.note else "") if s.paused else "active"
            rows.append([s.schedule_id, state, ", ".join(moment(t) for t in s.next_runs), s.what])
        print("\n".join(table(rows)))
        return 0
    await schedules.act(
        client, args.schedule_id, args.schedules_command, getattr(args, "note", None)
    )
    done = {"trigger": "triggered: it runs now", "pause": "paused", "unpause": "unpaused"}
    print(f"{args.schedule_id} {done[args.schedules_command]}")
    return 0
