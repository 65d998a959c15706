"""Intake: the startup, what it told us, the public form and the founder's status page."""
