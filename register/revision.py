"""Write a new migration from the models (for developers changing the register's schema):

    DATABASE_URL=sqlite:////tmp/scratch.db python -m register.revision "add a column"

It upgrades the scratch database to the newest revision first, then autogenerates the difference
between it and `register.models` into `register/migrations/versions/`. Read and tidy the result
(types as plain `sa.*`), then run the register tests: they check that the migrations produce
exactly the models' schema on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys

from alembic import command

from register import db


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    db.upgrade()
    command.revision(db.alembic_config(), message=argv[0], autogenerate=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
