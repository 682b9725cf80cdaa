"""The stepping examples (backprop by hand, debugging a backward pass) run to the end with
stdin closed and print the right numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_backprop_by_hand_matches_the_walk_through():
    out = run_example("backprop_by_hand.py")
    assert "E = 0.298371109" in out  # before learning, as in the walk-through
    assert "∂E/∂L1.n0.w0 = ∂E/∂L1.n0.a × ∂L1.n0.a/∂L1.n0.z × ∂L1.n0.z/∂L1.n0.w0" in out
    steps = re.findall(r"^ +\d+\. (∂E/∂\S+)", out, re.MULTILINE)
    assert len(steps) == 32  # every backward step but the 6 into constants and targets
    assert not {"∂E/∂t0", "∂E/∂t1", "∂E/∂0.5", "∂E/∂2"} & set(steps)
    # the update of w5 and w1, and the walk-through's new values for them
    w5 = re.search(r"L1\.n0\.w0 +0\.400000000 − 0\.5 × (\S+) = (\S+)", out)
    assert float(w5.group(1)) == pytest.approx(0.082167041, abs=1e-9)
    assert float(w5.group(2)) == pytest.approx(0.35891648, abs=1e-8)
    w1 = re.search(r"L0\.n0\.w0 +0\.150000000 − 0\.5 × (\S+) = (\S+)", out)
    assert float(w1.group(2)) == pytest.approx(0.149780716, abs=1e-9)
    before = float(re.search(r"E before = (\S+)", out).group(1))
    after_all, after_weights = map(float, re.findall(r"E after  = (\S+)", out))
    assert after_all < before and after_weights < before
    # weights only: the walk-through's 0.291027924 up to its rounding along the way
    assert after_weights == pytest.approx(0.291027924, abs=1e-6)


def test_backprop_by_hand_ascii():
    out = run_example("backprop_by_hand.py", "--ascii")
    assert out.isascii() and "dE/dL1.n0.w0 = dE/dL1.n0.a * dL1.n0.a/dL1.n0.z" in out


def test_debug_backprop_runs_without_a_terminal():
    out = run_example("debug_backprop.py")
    assert "Value(label='L0.n1.z', op='weighted_sum', data=-1.3, grad=0)" in out
    assert "hook: L0.n1.a.grad = -0.6165" in out and "hook: L0.n1.z.grad = 0" in out
    assert "['L0.n1.w0.grad = 0.0', 'L0.n1.w1.grad = 0.0']" in out  # the dead neuron
    assert "stopped before step 12: ∂E/∂L0.n1.z += " in out  # break_on with a function
    assert "without detect_anomaly: w.grad = nan" in out
    assert "backward through sqrt gave a gradient of inf for input w*w=0.0" in out
    assert "debug_backprop.py:" in out  # the line that made the node
    grads = re.search(r"with leaky_relu: \['L0\.n1\.w0\.grad = (\S+)'", out)
    assert float(grads.group(1)) != 0.0  # leaky_relu lets blame through
