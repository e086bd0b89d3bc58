"""The HTTP API's routes, one module per resource; central/app.py assembles them.

    devices       GET /api/v1/health, POST /api/v1/enroll
    events        POST /api/v1/events (a device pushes its outbox)
    changes       GET /api/v1/changes (the feed a device pulls)
    office        the overview: GET /api/v1/office/summary, /office
    followups     回访: list and close, as JSON and as pages with a form
    satisfaction  满意度: JSON, page, CSV
    due           周检到期: JSON, page, CSV
    worklist      在办清单: JSON, page, CSV
    notices       通知: the notices to customers, counts and the latest (central/notices/)

Shared: deps (the storage, who is asking), responses (compact JSON, CSV, the documented
errors), params (office parameters read by hand), errors (exception handlers), limits (the
body size limit). Routes are thin: the reading and the rules live in central/*.py.
"""
