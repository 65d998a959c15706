"""Email backends the outbound email tests plug in: a mail server that fails first, and one (in a
worker process) that writes each message it accepts to a file, and can hang before accepting."""
import os
import smtplib
import time
from pathlib import Path

from django.core.mail.backends import locmem


class FlakyBackend(locmem.EmailBackend):
    """Django's test outbox, after `failures` connection drops (a class attribute the test sets)."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class FileRecordingBackend(locmem.EmailBackend):
    """Appends each accepted message's subject to $TEST_EMAIL_FILE; with $TEST_EMAIL_HANG set, first
    writes $TEST_EMAIL_FILE.sending and hangs that many seconds (a worker to kill mid-send)."""

    def send_messages(self, messages):
        path = Path(os.environ["TEST_EMAIL_FILE"])
        hang = float(os.environ.get("TEST_EMAIL_HANG", "0"))
        if hang:
            path.with_suffix(".sending").write_text("sending")
            time.sleep(hang)
        with path.open("a") as out:
            for message in messages:
                out.write(message.subject + "\n")
        return len(messages)
