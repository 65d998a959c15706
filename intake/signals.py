"""What intake tells the apps above it, which it does not import."""
from django.dispatch import Signal

# Sent by intake.services.intake_receive inside the transaction that stored a new intake (not for a
# repeat), with `intake`. Matching connects the receiver that queues the intake's evaluation once
# the transaction commits (matching.intake_flow).
intake_received = Signal()
