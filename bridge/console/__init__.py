"""The operator console served by the bridge at /console (see the README, "Operator console").

Modules: `recorder` (the delivery ring the webhook endpoint records into), `hints`, `views`,
`sse` (the live stream), `auth` (token login, CSRF), `core_reader`, `quarantined`, `parked`,
`pages` (the routes) and `mount` (ties them into the bridge app).
"""
