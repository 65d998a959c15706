"""The largest workload and funding figures an intake accepts: the one definition the model's
validators (and so the public form, the API and preview_eligibility) use.

Realistic ceilings, not the database's: a billion model requests a month is about 380 a second
around the clock, a 2M-token average prompt fills the largest context windows, 200k output tokens
is beyond any model's longest answer. At these maxima every figure derived from a workload fits its
column: the ACE expected monthly spend (1e9 × (2e6 × $3 + 2e5 × $15) / 1e6 = $9e9, column up to
$1e12), the bake-off projections and the runway."""
from decimal import Decimal

MAX_MONTHLY_REQUESTS = 1_000_000_000
MAX_AVG_INPUT_TOKENS = 2_000_000
MAX_AVG_OUTPUT_TOKENS = 200_000
MAX_TOTAL_RAISED_USD = Decimal("100000000000")  # $100 billion
MAX_PRIOR_ACTIVATE_CREDITS_USD = Decimal("10000000")  # $10 million
