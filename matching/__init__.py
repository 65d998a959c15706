"""Matching: credit pools and their rules, partners, engagements, ACE filing and commission."""
