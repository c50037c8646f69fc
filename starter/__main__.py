"""`python -m starter <command>`: the same command line as `sro`."""

from starter.entry import main

raise SystemExit(main())
