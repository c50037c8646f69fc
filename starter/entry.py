"""The `sro` script and `python -m starter`: the command line, started with the cyclic garbage
collector off while its modules load.

Loading Temporal's client, pydantic and the command's models allocates a few hundred thousand
objects that live as long as the process; the collector would walk them again and again as they
arrive (about 25 ms of a 0.35 s `sro status`). They are frozen out of its sight once the command's
module is loaded (`cli.collect_from_here`), and the command itself runs with it on as usual.
"""

from __future__ import annotations

import gc
import os


def main() -> int:
    gc.disable()
    # No pydantic plugins on the command line: looking for them scans every installed package's
    # metadata when the first model is built (~4 ms of a `sro status`; BENCHMARKS.md, 6).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    import config

    # The same settings without pydantic-settings' import (`config.read_directly` says why).
    config.read_directly()
    from starter import cli

    return cli.main()
