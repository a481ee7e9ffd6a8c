"""What every benchmark states beside its figures: the machine it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import numpy as np


def machine(ffmpeg: str = "ffmpeg") -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, numpy {np.__version__}, "
            f"{version.split(' Copyright')[0]}")  # fmt: skip
