"""Matching: credit pools and their rules, eligibility, partners, engagements and the staff queue."""
