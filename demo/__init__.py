"""The demo bank and the core-banking batches, generated: above the apps, which never
import it (it imports them).

- `org`: the demo organisation and one login per role.
- `identities`, `reference`, `people`, `accounts`: the generator of demo customers.
- `tables`, `seeding`, `history`: writing them at bank scale (`seed_customers`), with
  13 months of history (the history backfill).
- `vip`, `catalogue`, `marketing`: VIP and marketing records, through the services.
- `loaded_days`: the business days of last month and of this month so far as loaded
  days (balances, income, load records), set-based; mid-month transfers and split
  credit; last month published and this month computed, through the services.
- `business_day`, `seed`: `manage.py seed_demo` -- the demo's business date as a
  core-banking batch, loaded by the nightly job's loader, then the jobs after a load.
- `extract`: `manage.py make_extract` -- batches of other customers, for tests and
  benchmarks, with broken rows on request.
"""
