"""The appeals' rule (central/appeals.py), which the rating read model's `set_aside` follows
(schema 19): the first appeal event of a uid to arrive is the appeal; the first decision to arrive
after it is the decision (a later one is stored, both happened, and ignored). Here, not in
central/appeals.py, so that the read models need nothing of the back office's modules. The
appeal read model (schema 28, central/readmodels/appeal.py) stores what it decides."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..storage import Storage, Tx
from ..words import ARRIVAL

KINDS = ("rating.appealed", "appeal.decided")


def events(tx: Tx, storage: Storage, where: str = "", params=()) -> list[tuple]:
    """(kind, payload, pushing device's name, event id, created_at) of the appeal events in force,
    in arrival order."""
    kinds, kind_params = storage.in_list("e.kind", KINDS)
    rows = tx.all(f"SELECT e.kind, {storage.json_text('e.payload')}, d.name, e.id, e.created_at FROM event e "
                  f"LEFT JOIN device d ON d.id = e.device_id WHERE {kinds} AND e.void_id IS NULL {where} "
                  f"ORDER BY {ARRIVAL}", [*kind_params, *params])
    return [(kind, json.loads(p) if isinstance(p, str) else p, name, *place) for kind, p, name, *place in rows]


def fold(rows: list[tuple], places: dict[str, list] | None = None) -> dict[str, dict]:
    """appeal uid -> the appeal and its first decision, of `rows` (events(): kind, payload,
    device's name, then optionally the event's place) in arrival order. `places`: filled with
    appeal uid -> [the filing's place, the decision's place or None] (the appeal read model's
    columns, central/readmodels/appeal.py)."""
    found: dict[str, dict] = {}
    for kind, p, device, *place in rows:
        uid = p.get("appeal")
        if kind == "rating.appealed" and uid not in found:
            clerk = p.get("clerk") or {}
            found[uid] = {"appeal": uid, "feedback": p.get("feedback"), "at": p.get("at"), "reason": p.get("reason"),
                          "by": clerk.get("name") or clerk.get("username"), "device": device, "decision": None}
            if places is not None:
                places[uid] = [tuple(place), None]
        elif kind == "appeal.decided" and uid in found and found[uid]["decision"] is None:
            supervisor = p.get("supervisor") or {}
            found[uid].update(decision=p.get("decision"), decided_at=p.get("at"), decision_reason=p.get("reason"),
                              decided_by=supervisor.get("name") or supervisor.get("username"), via=p.get("via"))
            if places is not None and found[uid]["decision"] is not None:
                places[uid][1] = tuple(place)
    return found


def rating_states(appeals: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """rating (feedback uid) -> its appeals' state, of (feedback, decision or None) in the order the
    appeals were filed: upheld if any was upheld (it is set aside: the figures' rule, rating.mark),
    else its latest appeal's: waiting | rejected. The export's mark (central/ratings_export.py)."""
    found: dict[str, str] = {}
    for feedback, decision in appeals:
        if found.get(feedback) != "upheld":
            found[feedback] = decision or "waiting"
    return found


def upheld(tx: Tx, storage: Storage) -> set[str]:
    """The ratings (feedback uids) an upheld appeal sets aside: an appeal of theirs whose first
    decision to arrive upheld it, whatever their other appeals say (as the desk's F11 figures
    leave out a rating any upheld appeal set aside, kiosk/store/satisfaction.py; since schema 24
    the window report too), of every appeal event in force: a rebuild's, which may run before the
    appeal read model is whole (a push reads that model: rating.mark)."""
    return {a["feedback"] for a in fold(events(tx, storage)).values()
            if a["decision"] == "upheld" and isinstance(a["feedback"], str)}
