"""Issue 17's OpenAPI paragraph, input by input: schemathesis found inputs the description
allowed and the server refused (an empty event uid, `within=0`, `from=0000-00-00`, an empty
closer's name). Each is now refused by the description too, and by the server with a 4xx that
names the rule, never a 5xx (tests/central/test_schemathesis.py checks the two agree at large)."""

from __future__ import annotations

import re
import uuid

from .nodes import enrol, push
from .office_users import office


def parameter(spec: dict, path: str, name: str) -> dict:
    return next(p["schema"] for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_the_inputs_schemathesis_found_are_refused_by_the_description_and_by_name(client, storage):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    headers = office(storage)

    # An empty event uid: the description's pattern refuses it; the server names the event's uid.
    kiosk = enrol(client, storage)
    assert not re.search(schemas["EventIn"]["properties"]["uid"]["pattern"], "")
    event = kiosk.registered()
    event["uid"] = ""
    got = push(client, kiosk, event)
    assert got.status_code == 422 and got.json()["rejected"][0]["error"].startswith("invalid: uid")

    # within=0: 1 to 3660 days.
    assert not re.search(parameter(spec, "/api/v1/office/due", "within")["pattern"], "0")
    got = client.get("/api/v1/office/due", params={"within": "0"}, headers=headers)
    assert got.status_code == 422 and "within" in got.text and "3660" in got.text, got.text

    # from=0000-00-00: a real day of the years 2000 to 2999.
    assert not re.search(parameter(spec, "/api/v1/office/satisfaction", "from")["pattern"], "0000-00-00")
    got = client.get("/api/v1/office/satisfaction", params={"from": "0000-00-00"}, headers=headers)
    assert got.status_code == 422 and "from: a date like 2026-11-24" in got.text, got.text

    # An empty closer's name: the closer is the signed-in user now; the body has no name, and a
    # body with one is refused, by the description (no other property) and by the server.
    close = schemas["CloseIn"]
    assert set(close["properties"]) == {"note"} and close.get("additionalProperties") is False
    got = client.post(f"/api/v1/office/followups/{uuid.uuid4()}/close", json={"note": "已回电", "name": ""},
                      headers=headers)
    assert got.status_code == 422, got.text
    assert [(p["type"], p["loc"]) for p in got.json()["detail"]] == [("extra_forbidden", ["body", "name"])]
