"""Every script in examples/ runs to the end (with AUTOGRAD_LITE_FAST=1: fewer steps) and
keeps the word of its docstring: ``CLAIMS`` parses what each one prints and checks it.

New examples are picked up automatically (and must get a claim); files starting with ``_``
are skipped, and so are those that need an optional extra: tests/test_examples_extras.py
runs them and checks what they print.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEED_EXTRAS = {"digits.py", "graduate_to_pytorch.py"}
SCRIPTS = sorted(
    p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") and p.name not in NEED_EXTRAS
)


def numbers(pattern: str, text: str) -> list[float]:
    """The numbers of the first match of ``pattern`` (each group one number)."""
    match = re.search(pattern, text)
    assert match, f"no line matches {pattern!r} in:\n{text[-3000:]}"
    return [float(group) for group in match.groups()]


def xor_learns(out: str) -> None:
    """'learned by a tiny network': every output on its target's side of 0.5, E going down."""
    rows = re.findall(r"^\s+([01])\s+([01])\s+([01])\s+(-?[\d.]+)$", out, re.MULTILINE)
    assert len(rows) == 4
    assert all(round(float(output)) == int(target) for _, _, target, output in rows)
    errors = [float(e) for e in re.findall(r"step\s+\d+: E = ([\d.]+)", out)]
    assert errors[-1] < errors[0] / 2


def moons_learns_and_reloads(out: str) -> None:
    accuracies = [float(a) for a in re.findall(r"accuracy (\d+)%", out)]
    assert accuracies[-1] >= 80 and accuracies[-1] > accuracies[0]
    assert "the loaded model gives the same scores: True" in out


def regression_learns(out: str) -> None:
    first, last = numbers(r"mean squared error: first step ([\d.]+), last step ([\d.]+)", out)
    assert last < first / 3


def spiral_learns(out: str) -> None:
    (accuracy,) = numbers(r"all 120 points: loss [\d.]+, accuracy (\d+)%", out)
    assert accuracy >= 70  # chance is 33%


def deep_tanh_learns_and_sigmoid_vanishes(out: str) -> None:
    sigmoid = numbers(r"sigmoid\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)\n", out)
    tanh = numbers(r"tanh\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)\n", out)
    assert sigmoid[0] < 1e-6 * tanh[0]  # the first layer's blame all but vanishes
    assert numbers(r"tanh\s+after \d+ steps: loss [\d.]+, accuracy (\d+)%", out) == [100.0]
    assert numbers(r"sigmoid\s+after \d+ steps: loss [\d.]+, accuracy (\d+)%", out) == [50.0]


def by_hand_matches_the_walk_through(out: str) -> None:
    # the classic worked example's error before learning, computed by hand there
    assert numbers(r"E before = ([\d.]+)", out) == [pytest.approx(0.298371109, abs=1e-9)]
    (after,) = numbers(r"E after\s+= ([\d.]+)\s+\(weights and biases", out)
    assert after < 0.298371109


def debugging_finds_the_dead_neuron(out: str) -> None:
    assert "the dead neuron's weights: ['L0.n1.w0.grad = 0.0', 'L0.n1.w1.grad = 0.0']" in out
    assert "with detect_anomaly(): backward through sqrt gave a gradient of inf" in out
    leaky = numbers(r"with leaky_relu: \['L0.n1.w0.grad = (\S+)', 'L0.n1.w1.grad = (\S+)'\]", out)
    assert all(g != 0.0 for g in leaky)


CLAIMS = {
    "xor.py": xor_learns,
    "moons.py": moons_learns_and_reloads,
    "regression.py": regression_learns,
    "spiral.py": spiral_learns,
    "deep.py": deep_tanh_learns_and_sigmoid_vanishes,
    "backprop_by_hand.py": by_hand_matches_the_walk_through,
    "debug_backprop.py": debugging_finds_the_dead_neuron,
}


def test_every_example_has_a_claim():
    assert {p.name for p in SCRIPTS} == set(CLAIMS)


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_keeps_its_word(script, tmp_path):
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
    CLAIMS[script.name](done.stdout)
