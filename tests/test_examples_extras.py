"""The examples that need an optional extra, run once each, checking what they print.

(tests/test_examples.py runs every other example; these two are left to this file.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import needs_extra

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: str, folder: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=folder,
        env={**os.environ, "AUTOGRAD_LITE_FAST": "1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_digits_learns(tmp_path):
    """One epoch (the full example runs 10 and reaches 95%): at least 85% held out."""
    needs_extra("sklearn")
    out = _run("digits.py", tmp_path)
    right, total = map(
        int, re.search(r"held-out accuracy: [\d.]+% \((\d+)/(\d+) digits\)", out).groups()
    )
    assert total == 450
    assert right / total >= 0.85, out
    rows = re.findall(r"^  (\d)  ((?: +(?:\d+|\.))+)$", out, re.MULTILINE)
    assert [int(t) for t, _ in rows] == list(range(10))
    counts = [[0 if c == "." else int(c) for c in cells.split()] for _, cells in rows]
    assert sum(map(sum, counts)) == total
    assert sum(counts[k][k] for k in range(10)) == right  # the diagonal is the right answers
    written = re.search(r"wrote (\S+) and (\S+)", out).groups()
    for name in written:
        path = tmp_path / name
        assert path.exists() and path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graduate_to_pytorch_claims(tmp_path):
    needs_extra("torch")
    out = _run("graduate_to_pytorch.py", tmp_path)
    engine, there = map(float, re.search(r"engine ([\d.]+), PyTorch ([\d.]+)", out).groups())
    assert abs(engine - there) < 1e-12
    largest = float(re.search(r"largest difference over all 337 weights and biases: (\S+)", out)[1])
    assert largest < 1e-12
    for engine_grad, torch_grad in re.findall(
        r"^  L\d\.n\d+\.\w+\s+(\S+)\s+(\S+)$", out, re.MULTILINE
    ):
        assert engine_grad == torch_grad
    before = float(re.search(r"here, after \d+ steps: loss ([\d.]+)", out)[1])
    after, accuracy = re.search(r"more steps: loss ([\d.]+), accuracy (\d+)%", out).groups()
    assert float(after) < before  # training went on there
    back = re.search(r"accuracy (\d+)% in the engine too \(scores differ by at most (\S+)\)", out)
    assert back[1] == accuracy and float(back[2]) < 1e-12
