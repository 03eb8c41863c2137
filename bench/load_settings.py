"""Settings of the web process the load test starts (bench/load.py): production's,
with the collected static files in a directory of the run's choosing
(``LOAD_STATIC_ROOT``) rather than the installation's ``staticfiles/``."""

import tempfile
from pathlib import Path

from crm_portal.settings.production import *  # noqa: F403
from crm_portal.settings.production import env

STATIC_ROOT = env.path("LOAD_STATIC_ROOT", default=str(Path(tempfile.gettempdir()) / "crm-load-static"))
