"""schemathesis against the app's own OpenAPI description, in process (ASGI), on SQLite and
PostgreSQL: valid and invalid requests, with a real device token and a real office token.
No response may be a 5xx; every malformed request must get a 4xx; every request the
description allows is accepted; responses match the description."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from central.api.followups import PRINTABLE_TEXT
from central.api.quotas import Quotas
from central.app import create_app
from central.devices import add_device, enroll
from kiosk.domain.validation import required_text_pattern

from .nodes import signed_enrolment
from .office_users import office

EXAMPLES = 150  # per operation and mode: about 10,000 requests a store, 3 minutes each, the suite's longest tests
# Thousands of generated requests, valid and malformed: the API under torture, not the fast lane.
pytestmark = pytest.mark.reliability

# A valid request may still meet a code, a follow-up or a token that does not exist (401, 403
# for an enrolment code, 404), or a state that refuses it (409); nothing else.
# 429: a sign-in (POST /api/v1/office/session) after 20 wrong ones from this address.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
PUSH = "/api/v1/events"
# A pushed event the description allows may still be refused by uid for its payload (each
# kind's shape is kiosk/domain/events.py's, not the description's) or by the trust rules; never
# for what the description says of its uid, kind or time.
SHAPE_REFUSALS = ("invalid: uid", "unknown_kind", "invalid: created_at")


@pytest.fixture
def tokens(storage):
    device = enroll(storage, **signed_enrolment(add_device(storage, "clerk"), str(uuid.uuid4()), "S1"))
    # A director's session for each case: one case's DELETE /api/v1/office/session ends only its own.
    return {"device": lambda: device.token,
            "office": lambda: office(storage)["Authorization"].removeprefix("Bearer ")}


@pytest.fixture
def api(storage):
    # Quotas off: thousands of requests from one token in seconds would be a 429 (test_limits.py).
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(storage, Quotas.parse("off")))
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=EXAMPLES, with_security_parameters=False,
                                    allow_extra_parameters=False)
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(expected_statuses=ACCEPTED)
    return schema


schema = schemathesis.pytest.from_fixture("api")
# The pattern of such text is ~400 ranges of characters: built once here, not for every draw
# (hypothesis lists a class's characters one by one: ~2 s each time).
schemathesis.openapi.format(PRINTABLE_TEXT, st.from_regex(required_text_pattern(), fullmatch=True))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_server_accepts_what_the_description_allows_and_no_more(case, tokens):
    token = tokens["office" if "office" in case.path else "device"]()
    valid = case.meta is not None and case.meta.generation.mode.is_positive
    refusal = _cross_parameter_refusal(case) if valid else None
    # The work list's `after` is a cursor a page gave (central/worklist.py WorkCursor): text of its
    # pattern it did not give is a 400 `bad_cursor`, which the description says.
    cursor = valid and case.path.endswith("/worklist") and bool((case.query or {}).get("after", "").strip())
    special = valid and (case.path == PUSH or refusal is not None or cursor)
    checks = [not_a_server_error, negative_data_rejection, status_code_conformance, content_type_conformance,
              response_schema_conformance, *([] if special else [positive_data_acceptance])]
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
    if refusal is not None:
        assert response.status_code == 422 and refusal in response.text, response.text[:300]
    elif cursor:
        assert response.status_code in (200, 400), response.text[:300]
    elif special:  # a push the description allows: taken whole, or its events refused by uid
        assert response.status_code in (200, 413, 422), response.text[:300]
        if response.status_code == 422:
            errors = [r["error"] for r in response.json()["rejected"]]
            assert not [e for e in errors if e.startswith(SHAPE_REFUSALS)], errors


def _cross_parameter_refusal(case) -> str | None:
    """What a request valid per the description is refused with, by a rule JSON Schema cannot
    state (it spans two parameters)."""
    if case.path.endswith(("/satisfaction", "/satisfaction.csv", "/office/tickets", "/figures", "/figures.csv",
                           "/ratings", "/ratings/export.csv", "/ratings/export.json", "/certificate-checks",
                           "/certificate-checks.csv")):
        first, last = ((case.query or {}).get(name, "").strip() for name in ("from", "to"))
        if first and last and first > last:
            return "from: after to"
        if case.path.endswith(("/figures", "/figures.csv")) and first:  # central/figures.py MAX_DAYS
            from datetime import date

            from central.figures import MAX_DAYS
            from kiosk.domain.clock import today

            if (date.fromisoformat(last or today().isoformat()) - date.fromisoformat(first)).days + 1 > MAX_DAYS:
                return f"at most {MAX_DAYS} days"
    return None
