"""The embedded default: SQLite, Celery eager. Debug pages only when asked for
(DEBUG=true in the environment or .env): without it a user sees the portal's own
error pages, never Django's (which list every URL pattern)."""

import contextlib
import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, PII_ENCRYPTION_KEYS, PII_KEY_FILE, env

DEBUG = env.bool("DEBUG", default=False)

# Serve static files straight from the source folders (no collectstatic needed),
# with or without DEBUG: WhiteNoise looks them up through the finders on each request
# (its defaults follow DEBUG, and runserver itself serves none without DEBUG).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The embedded default keeps its own PII keys in var/pii.keys, made on first start
# (outside the repository and the database).
if not (PII_KEY_FILE or PII_ENCRYPTION_KEYS):
    from customers.crypto import generate_key_file

    PII_KEY_FILE = str(BASE_DIR / "var" / "pii.keys")
    if not os.path.exists(PII_KEY_FILE):
        # another process may make it at the same moment
        with contextlib.suppress(FileExistsError):
            generate_key_file(Path(PII_KEY_FILE))
