"""The local email backend: every message, headers and body as the console backend would print it,
logged at INFO on the `core.mail` logger instead of written to stdout (which a Celery worker
relays at WARNING). Production sets EMAIL_BACKEND to a real one."""
import logging

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend

log = logging.getLogger("core.mail")


class LoggingEmailBackend(ConsoleEmailBackend):
    def write_message(self, message):
        msg = message.message()
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        log.info(
            "email to %s: %s\n%s\n%s",
            ", ".join(message.recipients()),
            message.subject,
            msg.as_bytes().decode(charset),
            "-" * 79,
        )
