"""Filing the paperwork of a match: the ACE co-sell opportunity in AWS Partner Central, the credit applications, and the commission the partner owes on funded work."""
