"""The machine a run happens on: CPU, cores, load, versions, GPU."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ..backends import SPECS
from ..threads import usable_cores
from .config import OTHER_DISTS


# --- machine --------------------------------------------------------------------------------
def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dists: Sequence[str]) -> str | None:

    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict[str, str | None]:
    """Every registered framework's version, then the other libraries' (nothing imported)."""
    found = {spec.name: spec.version() for spec in SPECS}
    return {**found, **{name: _version(dists) for name, dists in OTHER_DISTS.items()}}


def machine_info() -> dict[str, Any]:
    """CPU, cores, OS, Python and framework versions, date (no framework is imported)."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "load_average_before": loadavg(),
        "gpu": _gpu_name(),
    }


def _gpu_name() -> str | None:
    """The first NVIDIA GPU's name from ``nvidia-smi``, if there is one."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None


