"""The command line's connection to Temporal: settings and keys checked first, one line if not."""

from __future__ import annotations

from temporalio.client import Client

from gateway.config import connect_config
from gateway.connection import connect, data_converter
from security.keys import KeyError_
from starter.common import CliError, mark_client_used, unreachable

__all__ = ["connect", "open_client"]  # tests replace `connect` with a fake


async def open_client() -> Client:
    try:
        connect_config()
    except Exception as err:
        raise CliError(f"cannot read the Temporal connection settings: {err}", code=1) from None
    try:
        data_converter()
    except KeyError_ as err:
        raise CliError(f"cannot encrypt case data: {err}", code=1) from None
    mark_client_used()
    try:
        return await connect()
    except Exception as err:
        raise unreachable(err) from None
