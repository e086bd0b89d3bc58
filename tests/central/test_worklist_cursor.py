"""The work list's `next` page by keyset (central/worklist.py WorkCursor): followed page after page
it is the list, whatever the page size, with no OFFSET; a cursor not as a page gave it is a 400."""

from __future__ import annotations

import base64
import json
import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from central.api.quotas import Quotas
from central.app import create_app
from central.worklist import work_list, work_page

from .nodes import enrol, push
from .office_users import office
from .test_read_models import NOW, batches, history


def pushed_history(client, storage, seed: int, tickets: int) -> None:
    rng = random.Random(seed)
    kiosks = [enrol(client, storage, name=f"大厅{n}号机") for n in (1, 2)]
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
    for device, batch in batches(rng, history(rng, kiosks, desks, tickets)):
        assert push(client, device, *batch).status_code == 200


@pytest.mark.parametrize("seed", [1, 2])
def test_pages_followed_by_their_next_cursor_are_the_list(storage, seed):
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        pushed_history(client, storage, seed, 40)
    for now in (NOW, NOW + timedelta(days=60)):
        for days in (3, 30):
            whole = work_list(storage, now=now, pickup_days=days).items
            assert whole
            for size in (1, 3, 7, 500):
                pages = [work_page(storage, 1, size, now=now, pickup_days=days)]
                while pages[-1].next is not None:
                    pages.append(work_page(storage, size=size, after=pages[-1].next))
                assert [i for p in pages for i in p.items] == whole, (now, days, size)
                assert len(pages) == pages[0].pages and all(p.items for p in pages)
                assert [p.position for p in pages] == list(range(0, len(whole), size))


def test_the_json_gives_next_and_a_cursor_not_as_given_is_a_400(client, storage):
    pushed_history(client, storage, 3, 30)
    headers = office(storage)
    first = client.get("/api/v1/office/worklist", params={"size": 2}, headers=headers).json()
    assert first["page"] == 1 and first["next"]
    second = client.get("/api/v1/office/worklist", params={"size": 2, "after": first["next"]}, headers=headers)
    assert second.status_code == 200 and second.json()["page"] == 2
    assert {i["ticket"] for i in second.json()["items"]}.isdisjoint(i["ticket"] for i in first["items"])
    page = client.get("/office/worklist", params={"size": 2, "after": first["next"]}, headers=headers)
    assert page.status_code == 200 and "第 2 / " in page.text

    text = first["next"]
    data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    def encoded(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    at, days, position, last = data[1:]
    tampered = [text[:-3], text[:10] + ("A" if text[10] != "A" else "B") + text[11:], text + "=", "x" * 7,
                "not a cursor", "０" * 12, encoded("[1]"), encoded([2, at, days, position, last]),
                encoded([1, "yesterday", days, position, last]), encoded([1, at[:19], days, position, last]),
                encoded([1, at, 0, position, last]), encoded([1, at, True, position, last]),
                encoded([1, at, days, -1, last]), encoded([1, at, days, position, [9, last[1], last[2]]]),
                encoded([1, at, days, position, [last[0], [*last[1], "x"], last[2]]]),
                encoded([1, at, days, position, [last[0], ["x" * 300] * len(last[1]), last[2]]]),
                encoded([1, at, days, position, [last[0], last[1], ""]]), encoded({"at": at}), "A" * 1300]
    for bad in tampered:
        got = client.get("/api/v1/office/worklist", params={"after": bad}, headers=headers)
        # A cursor that still decodes to a place in the list (an edited character may) is just that place.
        if got.status_code == 200:
            continue
        assert got.status_code == 400 and got.json()["error"] == "bad_cursor", (bad, got.text)
        shown = client.get("/office/worklist", params={"after": bad}, headers=headers)
        assert shown.status_code == 400 and "next" in shown.text and "在办清单" in shown.text, bad
    refused = sum(client.get("/api/v1/office/worklist", params={"after": bad}, headers=headers).status_code == 400
                  for bad in tampered)
    assert refused >= len(tampered) - 1


def test_the_csv_streams_the_whole_list_in_keyset_chunks_as_it_was_written_whole(client, storage, monkeypatch):
    """The same bytes as the whole list written at once (kiosk/domain/worklist.py to_csv), a chunk
    of EXPORT_CHUNK tickets at a time, the first sent before the next is read; the export in the
    audit log with every row."""
    import central.api.worklist as route
    from kiosk.domain.worklist import to_csv

    pushed_history(client, storage, 4, 30)
    monkeypatch.setattr(route, "EXPORT_CHUNK", 3)
    headers = office(storage)
    got = client.get("/office/worklist.csv", params={"days": 3}, headers=headers)
    whole = work_list(storage, pickup_days=3).items
    assert len(whole) > 6 and got.status_code == 200 and got.text == to_csv(whole)
    assert got.headers["content-disposition"] == 'attachment; filename="worklist.csv"'
    with storage.read() as tx:
        assert tx.one("SELECT action, row_count FROM office_audit ORDER BY id DESC LIMIT 1") == ("export", len(whole))

    read = []
    real = route.work_page
    monkeypatch.setattr(route, "work_page", lambda *a, **k: read.append(k) or real(*a, **k))
    chunks = route.exported(storage, 3)
    assert next(chunks) == whole[:3] and len(read) == 1  # the first chunk: one page read, not the whole list
    assert [i for c in chunks for i in c] == whole[3:] and len(read) == -(-len(whole) // 3)
