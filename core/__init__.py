"""The bottom layer: helpers every app may use and that use no app.

Input limits and parsers, CSV exports, rate limits, the email backend, the admin's input limits.
Nothing here imports `intake`, `matching`, `bakeoff_jobs` or the project package.
"""
