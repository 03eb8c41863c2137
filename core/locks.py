"""Every PostgreSQL advisory-lock key of the portal, in one registry, so that two jobs
never pick the same number by accident."""

from __future__ import annotations

# "a batch load, or the jobs that follow one, is running" (session lock)
INGEST = 7_310_101
# "a data-quality scan is running" (transaction lock)
QUALITY_SCAN = 7_310_001
# "a tier evaluation is running" (exclusive) / "a manual tier change" (shared)
TIER_EVALUATION = 0x71E2_E7A1
# "a period's performance figures are being computed" (transaction lock)
PERFORMANCE_RUN = 0x7E2F_0A11
# "the demo seeding is running"
DEMO_SEED = 0x5EED_C057

KEYS = {
    "ingest": INGEST,
    "quality_scan": QUALITY_SCAN,
    "tier_evaluation": TIER_EVALUATION,
    "demo_seed": DEMO_SEED,
    "performance_run": PERFORMANCE_RUN,
}
assert len(set(KEYS.values())) == len(KEYS), "advisory-lock keys must differ"
