"""Every route of the console, gathered in the order they were declared."""

from __future__ import annotations

from fastapi import APIRouter

from console.routes import (
    auth,
    cases,
    decisions,
    escalations,
    health,
    referrals,
    reports,
    sso,
    subject_access,
)

#: One router per resource; their order is the order routes are matched in.
RESOURCES = (
    health,
    auth,
    sso,
    cases,
    subject_access,
    decisions,
    referrals,
    reports,
    escalations,
)

api_router = APIRouter()
for _resource in RESOURCES:
    api_router.include_router(_resource.router)
