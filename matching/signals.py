"""What matching tells the apps above it (filing drafts the ACE opportunity and the credit
applications when an engagement is accepted). Sent inside the transaction that made the change, so
a receiver's work commits or rolls back with it; matching never imports its receivers."""
from django.dispatch import Signal

# Sent with engagement= (locked, just moved to accepted) and by= (the user, or None for the system).
engagement_accepted = Signal()
