"""Every script in examples/ runs to the end (with AUTOGRAD_LITE_FAST=1: fewer steps).

New examples are picked up automatically; files starting with ``_`` are skipped, and so are
those that need an optional extra: tests/test_examples_extras.py runs them and checks what
they print.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEED_EXTRAS = {"digits.py", "graduate_to_pytorch.py"}
SCRIPTS = sorted(
    p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") and p.name not in NEED_EXTRAS
)


def test_there_are_examples():
    names = {p.name for p in SCRIPTS}
    assert {"xor.py", "moons.py", "regression.py", "deep.py", "spiral.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_runs(script, tmp_path):
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # anything an example writes lands in a temporary folder
        env={**os.environ, "AUTOGRAD_LITE_FAST": "1"},
        stdin=subprocess.DEVNULL,  # an example must never wait for input
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"{script.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
    assert done.stdout.strip(), f"{script.name} printed nothing"
