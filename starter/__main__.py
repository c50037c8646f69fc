"""`python -m starter <command>`: the same command line as `sro`."""

from starter.cli import main

raise SystemExit(main())
