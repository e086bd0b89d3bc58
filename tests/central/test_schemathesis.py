"""schemathesis against the app's own OpenAPI description, in process (ASGI), on SQLite and
PostgreSQL: valid and invalid requests, with a real device token and a real office token.
No response may be a 5xx; every malformed request must get a 4xx; responses match the
description."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from central.app import create_app
from central.auth import rotate_office_token
from central.devices import add_device, enroll

from .nodes import public_key

EXAMPLES = 150  # per operation and mode; the whole file stays well under a minute
# Thousands of generated requests, valid and malformed: the API under torture, not the fast lane.
pytestmark = pytest.mark.reliability


@pytest.fixture
def tokens(storage):
    device = enroll(storage, add_device(storage, "clerk"), str(uuid.uuid4()), "S1", public_key())
    return {"device": device.token, "office": rotate_office_token(storage)}


@pytest.fixture
def api(storage):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(storage))
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=EXAMPLES, with_security_parameters=False,
                                    allow_extra_parameters=False)
    return schema


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_malformed_is_4xx(case, tokens):
    token = tokens["office"] if "office" in case.path else tokens["device"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[not_a_server_error, negative_data_rejection, status_code_conformance,
                                   content_type_conformance, response_schema_conformance])
