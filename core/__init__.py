"""The bottom layer: what every app uses and that uses no app.

The domain error base and the API's error handler, the 404/500 pages, input limits and parsers, CSV
exports, rate limits and token lockout, CSP, the Redis client factory, and every outbound email (a
Django app for its one table, core.models.OutboundEmail). Nothing here imports `intake`, `matching`,
`filing`, `bakeoff_jobs`, `portal` or the project package (lint-imports checks it).
"""
