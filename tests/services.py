"""Where the tests find the real services on this machine: one setting each, so parallel runs can be kept apart.

`TEST_REDIS_URL` (default `redis://127.0.0.1:6379/0`) lets two checkouts run their suites side by side on
different Redis databases; every test still uses its own key prefix and deletes its keys.
"""

from __future__ import annotations

import os

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
