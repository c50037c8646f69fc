"""Partnership profiles: the shipped TOML files, what they say about each partnership (checked
against the seed pages), and how a broken file is refused (file, field, what is wrong)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from safeguarding.profiles import (
    DEFAULT_FOLDER,
    ProfileError,
    load_profile,
    load_profiles,
    parse_profile,
    profile_for,
    profiles_folder,
)
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency, DecisionKind, OtherReviewType, Role, TriageOutcome

SHIPPED = {"ENGLAND", "LSCP", "CSCP", "SSCP"}

#: A small valid profile that tests break one field at a time.
VALID = """\
code = "NSCP"
name = "Newcastle Safeguarding Children Partnership"
review_group = "Newcastle Practice Review Group"
"""


def profile_folder(tmp_path: Path, files: dict[str, str], *, shipped: bool = False) -> Path:
    """A folder of profiles: optionally a copy of the shipped ones, plus `files`."""
    folder = tmp_path / "profiles"
    if shipped:
        shutil.copytree(DEFAULT_FOLDER, folder)
    else:
        folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def refusal(folder: Path) -> str:
    with pytest.raises(ProfileError) as refused:
        load_profiles(folder)
    return str(refused.value)


@pytest.fixture(autouse=True)
def _shipped_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read the shipped folder unless they say otherwise."""
    monkeypatch.delenv("SRO_PROFILES", raising=False)


@pytest.fixture(scope="module")
def liverpool() -> PartnershipSettings:
    return load_profile(DEFAULT_FOLDER / "liverpool.toml")


@pytest.fixture(scope="module")
def croydon() -> PartnershipSettings:
    return load_profile(DEFAULT_FOLDER / "croydon.toml")


@pytest.fixture(scope="module")
def salford() -> PartnershipSettings:
    return load_profile(DEFAULT_FOLDER / "salford.toml")


# ====================================================================== the shipped profiles


def test_every_shipped_profile_loads_by_its_code() -> None:
    profiles = load_profiles()
    assert set(profiles) == SHIPPED
    assert profiles_folder() == DEFAULT_FOLDER
    for path in sorted(DEFAULT_FOLDER.glob("*.toml")):
        settings = load_profile(path)
        assert profiles[settings.code] == settings, path.name


@pytest.mark.parametrize(
    ("file", "code", "name"),
    [
        ("england.toml", "ENGLAND", "Safeguarding Children Partnership (England-wide defaults)"),
        ("liverpool.toml", "LSCP", "Liverpool Safeguarding Children Partnership"),
        ("croydon.toml", "CSCP", "Croydon Safeguarding Children Partnership"),
        ("salford.toml", "SSCP", "Salford Safeguarding Children Partnership"),
    ],
)
def test_each_file_names_its_partnership(file: str, code: str, name: str) -> None:
    settings = load_profile(DEFAULT_FOLDER / file)
    assert (settings.code, settings.name) == (code, name)
    assert profile_for(code) == settings


def test_england_keeps_every_default() -> None:
    england = profile_for("ENGLAND")
    defaults = PartnershipSettings()
    # Every rule is the default one (its name and where notices go are its own).
    own = {"name", "contacts"}
    assert england.model_dump(exclude=own) == defaults.model_dump(exclude=own)
    # The statutory clock, with no local rules.
    assert england.notification_working_days == 5
    assert england.rapid_review_working_days == 15
    # A Rapid Review without a notification is local practice (Liverpool's), not the default.
    assert england.routes == [o for o in TriageOutcome if o is not TriageOutcome.RAPID_REVIEW]
    assert england.meeting_decisions == []
    assert england.quorum == []
    assert england.referral_time_limit_days is None


# ---------------------------------------------------------------------- Liverpool


def test_liverpool_review_group_and_its_former_names(liverpool: PartnershipSettings) -> None:
    assert liverpool.review_group == "Safeguarding Practice Review Group (SPRG)"
    assert liverpool.review_group_formerly == [
        "Serious Incident Review Group (SIRG)",
        "Critical Incident Group (CIG)",
    ]
    assert "Merseyside Police" in liverpool.review_group_chair
    assert liverpool.business_manager == "LSCP Safeguarding Manager"
    assert liverpool.learning_group == "LSCP Learning & Development Group"


def test_liverpool_plans_are_monitored_by_two_groups(liverpool: PartnershipSettings) -> None:
    # "The group has responsibility for monitoring implementation of single agency action
    # plans. Multi agency action plans are monitored by the LSCP Quality Assurance Group."
    assert liverpool.multi_agency_plan_monitor == "LSCP Quality Assurance Group"
    assert liverpool.multi_agency_plan_monitor == liverpool.quality_assurance_group
    assert liverpool.single_agency_plan_monitor == liverpool.review_group


def test_liverpool_weekly_triage_by_four_members(liverpool: PartnershipSettings) -> None:
    assert liverpool.triage_members == [
        "Police",
        "Health",
        "Children's Social Care",
        "LSCP Safeguarding Manager",
    ]
    assert "weekly" in liverpool.triage_method
    meeting = liverpool.triage_meeting
    assert meeting is not None
    assert (meeting.group, meeting.kind) == ("SPRG Triage", "weekly")
    assert meeting.weekday is not None


def test_liverpool_sprg_meets_every_five_weeks(liverpool: PartnershipSettings) -> None:
    meetings = liverpool.review_group_meetings
    assert meetings is not None
    assert (meetings.kind, meetings.interval) == ("every_n_weeks", 5)
    assert meetings.first_meeting == date(2026, 1, 7)
    assert meetings.describe() == "SPRG (every 5 weeks)"
    assert DecisionKind.QUALITY_ASSURED in liverpool.meeting_decisions
    assert DecisionKind.TERMS_OF_REFERENCE_AGREED in liverpool.meeting_decisions


def test_liverpool_rapid_review_panel_core_membership(liverpool: PartnershipSettings) -> None:
    assert liverpool.rapid_review_core_members == [
        "DCI Merseyside Police (Chair)",
        "Designated Nurse Safeguarding Children",
        "Service Manager, Quality Assurance & Safeguarding, Children's Services",
        "Legal Services",
        "LSCP Partnership Education Engagement Officer",
        "LSCP Training & Workforce Development Coordinator",
    ]


def test_liverpool_routes_and_rules(liverpool: PartnershipSettings) -> None:
    assert TriageOutcome.CASE_OF_CONCERN not in liverpool.routes
    assert OtherReviewType.SERIOUSLY_GOOD_OUTCOME_REVIEW not in liverpool.other_review_types
    assert liverpool.quorum == []
    assert liverpool.rapid_review_counted_from == "awareness"
    assert liverpool.referral_time_limit_days is None


# ---------------------------------------------------------------------- Croydon


def test_croydon_who_is_who(croydon: PartnershipSettings) -> None:
    assert croydon.review_group == "Safeguarding Practice Review Group (SPRG)"
    assert croydon.executive == "CSCP Executive Group"
    assert croydon.business_manager == "CSCP Business Manager"
    assert croydon.independent_scrutineer == "CSCP Independent Scrutineer"
    assert "rotating" in croydon.review_group_chair


def test_croydon_offers_the_case_of_concern_route(croydon: PartnershipSettings) -> None:
    assert TriageOutcome.CASE_OF_CONCERN in croydon.routes
    assert DecisionKind.APPROACH_CHOSEN in croydon.meeting_decisions


def test_croydon_sprg_meets_bi_monthly(croydon: PartnershipSettings) -> None:
    meetings = croydon.review_group_meetings
    assert meetings is not None
    assert (meetings.group, meetings.kind, meetings.interval) == ("SPRG", "every_n_months", 2)
    assert meetings.first_meeting == date(2026, 1, 13)  # the 2nd Tuesday of January
    assert meetings.describe() == "SPRG (every 2 months)"


def test_croydon_quorum_is_csc_health_and_police(croydon: PartnershipSettings) -> None:
    assert croydon.quorum == [Agency.CHILDRENS_SOCIAL_CARE, Agency.HEALTH, Agency.POLICE]
    assert croydon.quorum_applies(DecisionKind.RAPID_REVIEW_DECISION)
    assert croydon.quorum_applies(DecisionKind.APPROACH_CHOSEN)
    assert not croydon.quorum_applies(DecisionKind.NOTIFICATION_SUBMITTED)


def test_croydon_triage_is_the_business_managers_alone(croydon: PartnershipSettings) -> None:
    triage = croydon.authorities[DecisionKind.TRIAGE]
    assert any(a.allows(Role.BUSINESS_MANAGER, Agency.PARTNERSHIP) for a in triage)
    for role in (Role.CHAIR, Role.PANEL_MEMBER, Role.COORDINATOR):
        assert not any(a.allows(role, Agency.POLICE) for a in triage), role
    # The other decisions keep the England-wide authorities.
    assert (
        croydon.authorities[DecisionKind.CASE_CLOSED]
        == (PartnershipSettings().authorities[DecisionKind.CASE_CLOSED])
    )
    assert "Business Manager" in croydon.triage_by


def test_croydon_counts_the_rapid_review_from_the_notification(
    croydon: PartnershipSettings,
) -> None:
    assert croydon.rapid_review_counted_from == "notification"


def test_croydon_five_stage_escalation(croydon: PartnershipSettings) -> None:
    policy = croydon.escalation_policy
    assert [s.stage for s in policy.stages] == [1, 2, 3, 4, 5]
    # Stages 1-2 informal, 3-5 formal; the CSCP tracks every escalation reaching stage 3.
    assert [s.formal for s in policy.stages] == [False, False, True, True, True]
    assert policy.partnership_notified_from_stage == 3
    assert all(s.working_days is not None for s in policy.stages[:-1])
    assert policy.stages[-1].working_days is None
    assert "Executive" in policy.stages[-1].name


# ---------------------------------------------------------------------- Salford


def test_salford_practice_review_subgroup_and_virtual_panel(salford: PartnershipSettings) -> None:
    assert salford.review_group == "Practice Review Subgroup (PRSG)"
    assert salford.triage_by == "the Virtual Panel"
    triage = salford.triage_meeting
    meetings = salford.review_group_meetings
    assert triage is not None and meetings is not None
    assert (triage.group, triage.kind) == ("Virtual Panel", "virtual")
    assert meetings.kind == "virtual"
    assert meetings.within_working_days is not None


def test_salford_offers_good_outcome_and_serious_offence_reviews(
    salford: PartnershipSettings,
) -> None:
    assert OtherReviewType.SERIOUSLY_GOOD_OUTCOME_REVIEW in salford.other_review_types
    assert OtherReviewType.SERIOUS_OFFENCE_REVIEW in salford.other_review_types
    assert TriageOutcome.OTHER_REVIEW in salford.routes
    assert TriageOutcome.CASE_OF_CONCERN not in salford.routes


def test_salford_referrals_within_five_days(salford: PartnershipSettings) -> None:
    assert salford.referral_time_limit_days == 5


def test_the_partnerships_differ_where_the_pages_say_so(
    liverpool: PartnershipSettings, croydon: PartnershipSettings, salford: PartnershipSettings
) -> None:
    groups = {s.code: s.review_group for s in (liverpool, croydon, salford)}
    assert groups["SSCP"] != groups["LSCP"]
    kinds = {
        s.code: s.review_group_meetings.kind
        for s in (liverpool, croydon, salford)
        if s.review_group_meetings
    }
    assert kinds == {"LSCP": "every_n_weeks", "CSCP": "every_n_months", "SSCP": "virtual"}


# ====================================================================== broken files


def test_bad_toml_syntax_names_the_file_and_the_line(tmp_path: Path) -> None:
    folder = profile_folder(tmp_path, {"newcastle.toml": VALID + 'executive = "unterminated\n'})
    message = refusal(folder)
    assert str(folder / "newcastle.toml") in message
    assert "not valid TOML" in message
    assert "line 4" in message


BROKEN: list[tuple[str, str, str, str]] = [
    # (what, extra TOML, the field named, what is wrong)
    ("a typo in a field name", 'review_grup = "PRG"\n', "review_grup", "Extra inputs"),
    (
        "a wrong type",
        'rapid_review_working_days = "fifteen"\n',
        "rapid_review_working_days",
        "valid integer",
    ),
    (
        "a number out of range",
        "notification_working_days = -1\n",
        "notification_working_days",
        "greater than or equal to 0",
    ),
    (
        "an unknown route",
        'routes = ["serious_incident", "case_of_concerns"]\n',
        "routes.1",
        "'case_of_concern'",
    ),
    (
        "an unknown review type",
        'other_review_types = ["thematic_review"]\n',
        "other_review_types.0",
        "'seriously_good_outcome_review'",
    ),
    (
        "an unknown agency in the quorum",
        'meeting_decisions = ["case_closed"]\nquorum = ["police", "ambulance"]\n'
        '[review_group_meetings]\ngroup = "PRG"\nkind = "weekly"\nweekday = 1\n',
        "quorum.1",
        "'childrens_social_care'",
    ),
    (
        "an unknown decision at meetings",
        'meeting_decisions = ["approve_everything"]\n'
        '[review_group_meetings]\ngroup = "PRG"\nkind = "weekly"\nweekday = 1\n',
        "meeting_decisions.0",
        "'case_closed'",
    ),
    (
        "meeting decisions without a meeting cadence",
        'meeting_decisions = ["quality_assured"]\n',
        "profile",
        "meeting_decisions need review_group_meetings",
    ),
    (
        "a quorum without meeting decisions",
        'quorum = ["police"]\n',
        "profile",
        "a quorum applies to meeting_decisions; none are listed",
    ),
    (
        "a cadence without its anchor",
        '[review_group_meetings]\ngroup = "PRG"\nkind = "every_n_weeks"\ninterval = 5\n',
        "review_group_meetings",
        "needs first_meeting",
    ),
    (
        "an unknown cadence",
        '[review_group_meetings]\ngroup = "PRG"\nkind = "fortnightly"\n',
        "review_group_meetings.kind",
        "'every_n_weeks'",
    ),
    (
        "escalation stages not numbered 1..n",
        "[escalation_policy]\n"
        '[[escalation_policy.stages]]\nstage = 1\nname = "a"\nwho = "b"\nworking_days = 2\n'
        '[[escalation_policy.stages]]\nstage = 3\nname = "c"\nwho = "d"\n',
        "escalation_policy",
        "numbered 1, 2, 3",
    ),
    (
        "a typo inside an escalation stage",
        "[escalation_policy]\n"
        '[[escalation_policy.stages]]\nstage = 1\nname = "a"\nwho = "b"\nworkingdays = 2\n',
        "escalation_policy.stages.0.workingdays",
        "Extra inputs",
    ),
    (
        "an unknown role in an authority",
        '[authorities]\ntriage = [{ roles = ["director"] }]\n',
        "authorities.triage.0.roles.0",
        "'business_manager'",
    ),
    (
        "an authority for an unknown decision",
        '[authorities]\ntriaj = [{ roles = ["chair"] }]\n',
        "authorities.triaj.[key]",
        "'triage'",
    ),
    ("a bad partnership code", 'code = "newcastle"\n', "code", "pattern"),
]


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [pytest.param(extra, field, problem, id=what) for what, extra, field, problem in BROKEN],
)
def test_a_broken_profile_is_refused_naming_file_and_field(
    tmp_path: Path, extra: str, field: str, problem: str
) -> None:
    text = VALID + extra
    if extra.startswith("code ="):
        text = extra + "\n".join(VALID.splitlines()[1:]) + "\n"
    folder = profile_folder(tmp_path, {"newcastle.toml": text})
    message = refusal(folder)
    path = str(folder / "newcastle.toml")
    assert message.startswith(f"{path}: the profile is refused:"), message
    problems = message.splitlines()[1:]
    assert any(line.startswith(f"  - {field}: ") and problem in line for line in problems), message
    # parse_profile gives the same message for the same text.
    with pytest.raises(ProfileError) as parsed:
        parse_profile(text, path)
    assert str(parsed.value) == message


def test_every_problem_in_a_file_is_listed(tmp_path: Path) -> None:
    text = VALID + 'review_grup = "x"\nnotification_working_days = "five"\nroutes = ["coffee"]\n'
    message = refusal(profile_folder(tmp_path, {"newcastle.toml": text}))
    for field in ("review_grup", "notification_working_days", "routes.0"):
        assert f"  - {field}: " in message


def test_a_whole_profile_rule_is_not_blamed_on_a_decision(tmp_path: Path) -> None:
    text = VALID + 'meeting_decisions = ["quality_assured"]\n'
    message = refusal(profile_folder(tmp_path, {"newcastle.toml": text}))
    assert "decision:" not in message
    assert "meeting_decisions" in message and "review_group_meetings" in message


def test_a_profile_must_name_its_code(tmp_path: Path) -> None:
    # Without a code a profile would quietly become the England-wide one.
    text = "\n".join(VALID.splitlines()[1:]) + "\n"
    message = refusal(profile_folder(tmp_path, {"newcastle.toml": text}))
    assert str(tmp_path / "profiles" / "newcastle.toml") in message
    assert "  - code: " in message


def test_a_last_escalation_stage_with_a_time_limit_is_refused(tmp_path: Path) -> None:
    # The last stage cannot move up, so it cannot time out.
    text = (
        VALID + "[escalation_policy]\n"
        '[[escalation_policy.stages]]\nstage = 1\nname = "a"\nwho = "b"\nworking_days = 2\n'
        '[[escalation_policy.stages]]\nstage = 2\nname = "c"\nwho = "d"\nworking_days = 5\n'
    )
    message = refusal(profile_folder(tmp_path, {"newcastle.toml": text}))
    assert "  - escalation_policy: " in message
    assert "last stage" in message


def test_a_partnership_threshold_beyond_the_last_stage_is_refused(tmp_path: Path) -> None:
    # The partnership would never hear of any escalation.
    text = VALID + "[escalation_policy]\npartnership_notified_from_stage = 5\n"
    message = refusal(profile_folder(tmp_path, {"newcastle.toml": text}))
    assert "  - escalation_policy: " in message
    assert "partnership_notified_from_stage" in message


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    folder = profile_folder(tmp_path, {})
    (folder / "newcastle.toml").write_bytes(b'code = "NSCP"\nname = "\xff\xfe"\n')
    message = refusal(folder)
    assert str(folder / "newcastle.toml") in message
    assert "cannot be read" in message


def test_one_bad_file_refuses_the_whole_folder(tmp_path: Path) -> None:
    folder = profile_folder(
        tmp_path, {"newcastle.toml": VALID + "triage_working_days = [5]\n"}, shipped=True
    )
    message = refusal(folder)
    assert "newcastle.toml" in message and "triage_working_days" in message
    # The good files are not named: only the bad one is to blame.
    assert "croydon.toml" not in message
    with pytest.raises(ProfileError):
        profile_for("CSCP", folder)


def test_two_bad_files_are_both_reported(tmp_path: Path) -> None:
    folder = profile_folder(
        tmp_path,
        {
            "a.toml": 'code = "AA"\nreview_grup = "x"\n',
            "b.toml": 'code = "BB"\nroutes = []\n',
        },
    )
    message = refusal(folder)
    assert str(folder / "a.toml") in message and "review_grup" in message
    assert str(folder / "b.toml") in message and "  - routes: " in message


def test_a_code_used_twice_names_both_files(tmp_path: Path) -> None:
    folder = profile_folder(
        tmp_path, {"salford-copy.toml": 'code = "SSCP"\nname = "Salford again"\n'}, shipped=True
    )
    message = refusal(folder)
    assert str(folder / "salford.toml") in message
    assert str(folder / "salford-copy.toml") in message
    assert "'SSCP' is already used" in message


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    folder = profile_folder(tmp_path, {"README.md": "not a profile"})
    message = refusal(folder)
    assert message == f"{folder}: no *.toml profiles"


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message
    assert "no profiles folder" in message and "SRO_PROFILES" in message


def test_sro_profiles_points_at_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = profile_folder(tmp_path, {"newcastle.toml": VALID})
    monkeypatch.setenv("SRO_PROFILES", str(folder))
    assert profiles_folder() == folder
    assert set(load_profiles()) == {"NSCP"}
    assert profile_for("NSCP").review_group == "Newcastle Practice Review Group"


def test_an_unknown_partnership_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError) as refused:
        profile_for("NSCP")
    assert str(refused.value) == (
        "no profile for partnership 'NSCP'; known partnerships: CSCP, ENGLAND, LSCP, SSCP"
    )


# ====================================================================== adding a partnership


NEWCASTLE = """\
code = "NSCP"
name = "Newcastle Safeguarding Children Partnership"
review_group = "Newcastle Practice Review Group"
business_manager = "NSCP Business Manager"
routes = ["serious_incident", "case_of_concern", "no_further_action"]
rapid_review_counted_from = "notification"
referral_time_limit_days = 10
meeting_decisions = ["approach_chosen"]
quorum = ["childrens_social_care", "police"]
closure_days = [2026-12-29, 2026-12-30, 2026-12-31]

[review_group_meetings]
group = "NPRG"
kind = "every_n_months"
interval = 1
first_meeting = 2026-01-20
scheduled = [2026-12-15]

[authorities]
case_closed = [{ roles = ["chair"], agencies = ["police"] }]

[escalation_policy]
partnership_notified_from_stage = 2

[[escalation_policy.stages]]
stage = 1
name = "Practitioners"
who = "the practitioners"
working_days = 3

[[escalation_policy.stages]]
stage = 2
name = "Partnership"
who = "the NSCP Executive"
formal = true
"""


def test_adding_a_partnership_is_a_new_file(tmp_path: Path) -> None:
    folder = profile_folder(tmp_path, {"newcastle.toml": NEWCASTLE}, shipped=True)
    profiles = load_profiles(folder)
    assert set(profiles) == SHIPPED | {"NSCP"}
    # The shipped partnerships are unchanged by the new file.
    shipped = load_profiles()
    assert all(profiles[code] == shipped[code] for code in SHIPPED)

    newcastle = profile_for("NSCP", folder)
    assert newcastle.name == "Newcastle Safeguarding Children Partnership"
    assert newcastle.routes == [
        TriageOutcome.SERIOUS_INCIDENT,
        TriageOutcome.CASE_OF_CONCERN,
        TriageOutcome.NO_FURTHER_ACTION,
    ]
    assert newcastle.quorum == [Agency.CHILDRENS_SOCIAL_CARE, Agency.POLICE]
    assert newcastle.referral_time_limit_days == 10
    assert newcastle.closure_days == [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    meetings = newcastle.review_group_meetings
    assert meetings is not None and meetings.scheduled == [date(2026, 12, 15)]
    # Named authorities replace the default; the rest keep it.
    assert not any(
        a.allows(Role.CHAIR, Agency.HEALTH) for a in newcastle.authorities[DecisionKind.CASE_CLOSED]
    )
    assert any(
        a.allows(Role.CHAIR, Agency.POLICE) for a in newcastle.authorities[DecisionKind.CASE_CLOSED]
    )
    assert (
        newcastle.authorities[DecisionKind.TRIAGE]
        == (PartnershipSettings().authorities[DecisionKind.TRIAGE])
    )
    # Fields it does not name keep the England-wide defaults.
    assert newcastle.notification_working_days == 5
    assert newcastle.learning_group == PartnershipSettings().learning_group
    assert [s.stage for s in newcastle.escalation_policy.stages] == [1, 2]


def test_a_profile_is_parsed_once_until_its_file_changes(tmp_path: Path) -> None:
    """Every notice reads the profiles: unchanged files are not parsed again, an edit is seen
    by the next read."""
    folder = profile_folder(tmp_path, {"nscp.toml": VALID})
    first = load_profiles(folder)["NSCP"]
    assert load_profiles(folder)["NSCP"] is first
    path = folder / "nscp.toml"
    path.write_text(VALID.replace("Newcastle Practice", "Tyneside Practice"), encoding="utf-8")
    edited = load_profiles(folder)["NSCP"]
    assert edited.review_group == "Tyneside Practice Review Group"
    path.write_text("code = ", encoding="utf-8")
    assert "not valid TOML" in refusal(folder)
