"""`sro` answers at once: the command line loads the database stack and the charts only for
the commands that use them (checked in a fresh interpreter, by `sys.modules`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "matplotlib", "worker")


def loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\n{report}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_command_line_loads_nothing_heavy() -> None:
    assert loaded_after("import starter.cli") & set(HEAVY) == set()


def test_sro_help_loads_nothing_heavy() -> None:
    code = (
        "import contextlib, io\nfrom starter import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    assert cli.run(['--help']) == 0"
    )
    assert loaded_after(code) & set(HEAVY) == set()


def test_a_usage_error_loads_nothing_heavy() -> None:
    code = (
        "import contextlib, io\nfrom starter import cli\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n    assert cli.run(['status']) == 2"
    )
    assert loaded_after(code) & set(HEAVY) == set()


def test_the_case_commands_add_nothing_heavy_to_the_workflow_they_call() -> None:
    # `sro refer` and `sro decide` import the gateway's case client, which names the workflow's
    # methods: they may load only what importing the workflow module itself loads.
    own = loaded_after("import starter.cases") - loaded_after("import workflows.referral")
    assert own & set(HEAVY) == set()


def test_sro_status_loads_neither_the_workflow_nor_the_domain_rules() -> None:
    # Typed dozens of times a day: it reads the case's status by the query's declared name.
    report = "import json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", f"import starter.case_status\n{report}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    unwanted = {"workflows.referral", "safeguarding.case", "safeguarding.handlers", "activities"}
    assert loaded & unwanted == set()
    assert "tomllib" not in loaded and "smtplib" not in loaded


def test_the_command_line_reads_its_settings_without_pydantic_settings() -> None:
    # `sro` validates the settings directly (`config.read_directly`): the keys
    # for its client and who it is for the access log, without pydantic-settings' import.
    code = (
        "import config\nconfig.read_directly()\n"
        "from gateway.connection import data_converter\ndata_converter()\n"
        "from starter.access import viewer\nviewer()"
    )
    assert "pydantic_settings" not in loaded_after(code)
    assert "pydantic_settings" in loaded_after("import config\nconfig.settings()")


def test_sro_help_runs_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "starter", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0
    assert "refer" in done.stdout and "escalation" in done.stdout and "report" in done.stdout


def test_the_console_backend_uses_the_gateway_not_the_command_line() -> None:
    loaded = loaded_after("import console.backend")
    assert "starter" not in loaded and "worker" not in loaded
    assert "gateway" in loaded


def test_the_collector_is_off_while_loading_and_on_while_a_command_runs() -> None:
    code = (
        "import contextlib, gc, io, json\n"
        "from starter import entry\n"
        "gc.disable()\n"
        "from starter import cli\n"
        "loading = gc.isenabled()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.run(['kinds']) == 0\n"
        "print(json.dumps([loading, gc.isenabled(), gc.get_freeze_count() > 0]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [False, True, True]


def test_sro_reads_its_settings_directly_and_loads_no_pydantic_plugins() -> None:
    code = (
        "import contextlib, io, json, os, sys\n"
        "import config\n"
        "from starter import entry\n"
        "sys.argv = ['sro', 'kinds']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert entry.main() == 0\n"
        "print(json.dumps([os.environ.get('PYDANTIC_DISABLE_PLUGINS'), config.direct_reading,"
        " 'pydantic_settings' in sys.modules]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == ["__all__", True, False]
