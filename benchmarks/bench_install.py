"""The README's first command on a fresh machine: how long `pip install .` takes, and how big
the virtual environment grows.

    python benchmarks/bench_install.py            # one fresh venv for each install measured
    python benchmarks/bench_install.py --dev      # also `pip install ".[dev]"` (the tests)

Each row starts from a new, empty virtual environment (``python -m venv``), so the numbers
include every download and build a new user pays. The empty venv is measured in the same run,
as the reference. Targets (issue 19): `pip install .` under 30 s and the venv under 60 MB.
Network and disk speed decide most of the time: read it as an order of magnitude.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0
TARGET_MB = 60.0


def folder_mb(folder: Path) -> float:
    """Bytes of every file under ``folder`` (symlinks not followed), in MB."""
    total = 0
    for path, _, names in os.walk(folder):
        for name in names:
            file = Path(path) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total / 1e6


def fresh_install(requirement: str, workdir: Path) -> tuple[float, float, float]:
    """(seconds of pip install, MB of the empty venv, MB after) in a new venv."""
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    empty = folder_mb(venv)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", requirement]
    start = time.perf_counter()
    subprocess.run(pip, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    return seconds, empty, folder_mb(venv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help='also measure pip install ".[dev]"')
    args = parser.parse_args()
    rows = [("pip install .", ".")] + ([('pip install ".[dev]"', ".[dev]")] if args.dev else [])
    print("| install (fresh venv) | time | venv size | empty venv (reference) | target |")
    print("|---|---|---|---|---|")
    for name, requirement in rows:
        with tempfile.TemporaryDirectory() as workdir:
            seconds, empty, size = fresh_install(requirement, Path(workdir))
        if requirement == ".":
            met = seconds < TARGET_SECONDS and size < TARGET_MB
            target = f"< {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB: {'met' if met else 'missed'}"
        else:
            target = "none"
        print(f"| `{name}` | {seconds:.1f} s | {size:.0f} MB | {empty:.0f} MB | {target} |")


if __name__ == "__main__":
    main()
