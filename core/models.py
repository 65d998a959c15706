"""The outbound email: every message CloudRoute sends is first a row here, written in the
transaction of the change it announces, then delivered by core.tasks.email_deliver (core.mail)."""
from django.db import models


class EmailStatus(models.TextChoices):
    PENDING = "pending", "waiting to be sent"
    SENT = "sent", "sent"
    SKIPPED = "skipped", "nobody to send it to"
    FAILED = "failed", "given up"


class OutboundEmail(models.Model):
    # One email per event: queueing the same key again stores and sends nothing more.
    key = models.CharField(max_length=255, unique=True)
    # Composed when first delivered, from the committed data (core.mail.email_queue_composed), until
    # then empty; emails rendered when queued (core.mail.email_queue) have no composer.
    composer = models.CharField(max_length=100, blank=True)
    params = models.JSONField(default=dict, blank=True)
    to = models.JSONField(default=list, blank=True)
    subject = models.TextField(blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's question: which emails still wait, oldest first.
            models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="outbound_email_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
