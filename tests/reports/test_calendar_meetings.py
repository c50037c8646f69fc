"""The calendar lists the review groups' meetings from the profiles' cadences."""

from __future__ import annotations

from datetime import date, timedelta

from reports import calendar as ics
from safeguarding.calendar import WorkingCalendar
from safeguarding.profiles import load_profiles


def test_liverpools_weekly_triage_is_every_wednesday_moved_off_closed_days() -> None:
    liverpool = load_profiles()["LSCP"]
    calendar = WorkingCalendar(liverpool.closure_days)
    entries = ics.meetings(liverpool, calendar, date(2026, 12, 1), days=62)
    triage = [e.on for e in entries if e.title == "SPRG Triage"]
    assert triage[0] == date(2026, 12, 2)
    # Christmas week: Wednesday 23rd and 30th are working days; then weekly on.
    assert date(2026, 12, 23) in triage and date(2026, 12, 30) in triage
    for day in triage:  # a Wednesday, or the next working day after a closed Wednesday
        wednesday = day - timedelta(days=(day.weekday() - 2) % 7)
        assert day == wednesday or not calendar.is_working_day(wednesday), day
    assert all(calendar.is_working_day(d) for d in triage)
    assert len({e.uid for e in entries}) == len(entries)  # one stable id per meeting
    assert all(e.case_ref == "LSCP" and e.kind == "meeting" for e in entries)


def test_a_virtual_group_has_no_dates_in_the_calendar() -> None:
    for settings in load_profiles().values():
        for cadence in (settings.triage_meeting, settings.review_group_meetings):
            if cadence is not None and cadence.kind == "virtual":
                entries = ics.meetings(settings, WorkingCalendar(), date(2026, 12, 1))
                assert all(e.title != cadence.group for e in entries)
