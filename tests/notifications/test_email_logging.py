"""Locally, emails are logged at INFO (core.mail) with their headers and body, and what a
Celery task prints is relayed at INFO, not WARNING."""
import logging

from django.core.mail import EmailMultiAlternatives

from cloudroute.celery import app


def test_an_email_is_logged_at_info_with_its_recipients_subject_and_body(caplog, settings, capsys):
    settings.EMAIL_BACKEND = "core.mail.LoggingEmailBackend"
    message = EmailMultiAlternatives(subject="Your CloudRoute status", body="You qualify for Activate.",
                                     to=["ada@acme.example"])
    message.attach_alternative("<p>You qualify</p>", "text/html")

    with caplog.at_level(logging.INFO, logger="core.mail"):
        assert message.send() == 1

    [record] = [r for r in caplog.records if r.name == "core.mail"]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert text.startswith("email to ada@acme.example: Your CloudRoute status")
    assert "Subject: Your CloudRoute status" in text and "You qualify for Activate." in text
    assert capsys.readouterr().out == ""  # not printed to stdout, where a worker would relay it at WARNING


def test_the_worker_relays_printed_lines_at_info():
    assert app.conf.worker_redirect_stdouts_level == "INFO"
