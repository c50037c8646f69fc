"""A decision whose planning fails for good is undone from a before-image that leaves out what a
decision only adds to (`workflows.referral_run.before_image`): after every decision of every route,
the image gives back exactly the case as it was before it."""

from __future__ import annotations

from datetime import date

import pytest

from bench.routes import ROUTES, Route, decision_payloads, referral
from safeguarding.decisions import parse_decision
from tests.safeguarding.test_case import Driver
from workflows.referral_run import before_image, restored


@pytest.mark.parametrize("route", ROUTES, ids=[r.name.split(":")[0] for r in ROUTES])
def test_the_before_image_gives_back_the_case_before_each_decision(route: Route) -> None:
    today = date(2026, 12, 1)
    driver = Driver(referral("ENGLAND", today, care_leaver=route.care_leaver))
    for payload in decision_payloads("ENGLAND-2026-00A1B2", route.steps(today)):
        as_it_was = driver.case.model_copy(deep=True)
        image = before_image(driver.case)
        driver.apply(parse_decision(payload))
        assert driver.case != as_it_was
        assert restored(driver.case, image) == as_it_was, payload["kind"]
