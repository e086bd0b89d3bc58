"""Offline-first sync with the central system: push the outbox, pull the change feed.

No Textual, no threads of its own; the contract is central/README-API.md.

* client.py   the central system's HTTP API (stdlib http.client), SyncError, backoff
* settings.py where the enrolment and the feed's cursor are kept (the `setting` table)
* enrolment.py `kiosk enroll`: a one-time code traded for this device's token
* outbox.py   push: the outbox's pending events in batches; acknowledged or parked
* feed.py     pull: central's changes applied here, with the cursor, one transaction a page
* loop.py     one pass (`sync_pass`): push until empty, then pull until empty

Why it cannot lose or double anything: every local fact is an outbox event written in the
fact's own transaction and marked acknowledged only after central answered that it holds it
(central applies each event uid at most once); pulled changes are applied in one transaction
with the cursor that follows them.
"""
