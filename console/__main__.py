"""Serve the web console: `python -m console` (started by `make run` too).

Environment:
    SRO_CONSOLE_HOST      address to listen on (default 127.0.0.1)
    SRO_CONSOLE_PORT      port (default 8000)
    SRO_CONSOLE_USERS     users file (required; without it the demo users run only in the dev
                          stack, which sets SRO_CONSOLE_DEMO_USERS=1, and only on loopback)
    SRO_CONSOLE_SECRET    keys the session table (default: a random one kept in the data folder)
    SRO_CONSOLE_HTTPS_ONLY  set to 1 behind HTTPS: the session cookie is then Secure
    SRO_CONSOLE_SESSION_MINUTES  a session's absolute lifetime (default 720: 12 hours)
    SRO_CONSOLE_IDLE_MINUTES     sign out after this long without a request (default 30)
    SRO_CONSOLE_TRUSTED_PROXIES  reverse proxies (addresses or networks, comma-separated) whose
                          X-Forwarded-For is believed (default: none)
    DATABASE_URL          the register database, which holds the sessions (register/db.py)
    SRO_TEMPORAL_UI       the Temporal Web UI, for links to each case (default http://127.0.0.1:8233)
    TEMPORAL_ADDRESS etc. the Temporal connection (gateway/connection.py); SRO_TASK_QUEUE
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from config import SettingsError, settings
from console.app import build_app
from console.users import UsersError
from safeguarding.profiles import ProfileError
from security.files import private_data_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m console",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    try:
        configured = settings()
    except SettingsError as err:
        print(f"console not started: {err}", file=sys.stderr)
        return 2
    parser.add_argument("--host", default=configured.console_host or DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=configured.console_port or DEFAULT_PORT)
    args = parser.parse_args(argv)
    private_data_dir()  # before the session secret and the register are created in it
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        app = build_app(args.host)
    except (UsersError, ProfileError, ValueError, OSError) as err:
        print(f"console not started: {err}", file=sys.stderr)
        return 2
    logging.getLogger("console").info("console on http://%s:%d", args.host, args.port)
    # proxy_headers off: only the console decides whose X-Forwarded-For to believe
    # (SRO_CONSOLE_TRUSTED_PROXIES); uvicorn's default would believe 127.0.0.1.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        server_header=False,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
