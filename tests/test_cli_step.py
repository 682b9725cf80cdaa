"""`autograd-lite step`, driven as a user drives it: through a pseudo-terminal (Enter, a, q)
and through a pipe (--no-pause), plus its options and their errors."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import types

import pexpect
import pytest

from autograd_lite import no_grad
from autograd_lite.cli import main
from autograd_lite.nn import MLP
from autograd_lite.stepping import labelled_error

COMMAND = [sys.executable, "-m", "autograd_lite", "step"]
# the classic walk-through's gradients (by hand, there), at our labels
HAND = {"L1.n0.w0": 0.082167041, "L1.n1.w1": -0.022740242, "L0.n0.w0": 0.000438568,
        "L0.n1.w1": 0.000995425, "L1.n0.b": 0.138498562}  # fmt: skip


def final_gradients(output):
    """{label: gradient} from the closing '∂E/∂ L1.n0   w0=0.08217  w1=...' rows."""
    grads = {}
    for neuron, cells in re.findall(r"∂E/∂ (L\d+\.n\d+) +(.+)", output.split("Done:")[1]):
        for name, value in re.findall(r"(\w+)=(\S+)", cells):
            grads[f"{neuron}.{name}"] = float(value)
    return grads


def run_in_process(args, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["step", *args])
    return code, capsys.readouterr()


# --- the real program ----------------------------------------------------------------------


def spawn():
    return pexpect.spawn(COMMAND[0], COMMAND[1:], encoding="utf-8", timeout=30,
                         dimensions=(40, 140))  # fmt: skip


def test_terminal_one_step_per_enter_then_q_quits():
    child = spawn()
    try:
        child.expect(r"\[step 1/32\] Enter: next, a: all, q: quit > ")
        forward = child.before
        assert "L1.n0.a = σ(L1.n0.z) = σ(1.106) = 0.7514" in forward
        assert "E = E0 + E1 = 0.2748 + 0.02356 = 0.2984" in forward
        assert "Step 1 of" not in forward  # nothing before the first Enter
        child.sendline("")
        child.expect(r"\[step 2/32\]")
        assert "Step 1 of 32: from E back to E0" in child.before
        assert "∂E/∂E0 += ∂E/∂E × ∂E/∂E0 = 1 × 1 = 1  (E0.grad = 1)" in child.before
        assert "E=1  E0=1←  e0^2=·" in child.before  # the gradients so far
        assert "Step 2 of" not in child.before
        child.sendline("")
        child.expect(r"\[step 3/32\]")
        assert "Step 2 of 32: from E back to E1" in child.before
        child.sendline("q")
        child.expect(pexpect.EOF)
        assert "Stopped: the gradients above are partial" in child.before
        assert "Step 3 of" not in child.before
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_terminal_a_runs_the_rest_to_the_end():
    child = spawn()
    try:
        child.expect(r"\[step 1/32\]")
        child.sendline("a")
        child.expect(pexpect.EOF)
        rest = child.before.replace("\r\n", "\n")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert rest.count("Step ") == 32 and "[step 2/32]" not in rest
    grads = final_gradients(rest)
    for label, value in HAND.items():
        assert grads[label] == pytest.approx(value, rel=1e-3), label


def test_pipe_with_no_pause_prints_every_step():
    result = subprocess.run(
        [*COMMAND, "--no-pause"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        encoding="utf-8", timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Enter: next" not in out and "Press Enter" not in out
    numbers = [int(n) for n in re.findall(r"^Step (\d+) of 32:", out, re.MULTILINE)]
    assert numbers == list(range(1, 33))
    for upstream, local, contribution in re.findall(
        r"= (\S+) × (\S+) = (\S+)  \(", out
    ):  # each step: contribution = upstream × local
        value = float(upstream.strip("()")) * float(local.strip("()"))
        assert float(contribution) == pytest.approx(value, rel=2e-3, abs=1e-12)
    grads = final_gradients(out)
    assert len(grads) == 12
    for label, value in HAND.items():
        assert grads[label] == pytest.approx(value, rel=1e-3), label


# --- in process: input ending, options, errors ----------------------------------------------


def test_stdin_that_ends_stops_politely(capsys, monkeypatch):
    code, out = run_in_process([], capsys, monkeypatch, stdin="")
    assert code == 0
    assert "input ended: use --no-pause" in out.out and "Step 1 of" not in out.out


def test_lines_from_a_pipe_are_enter_keys(capsys, monkeypatch):
    code, out = run_in_process([], capsys, monkeypatch, stdin="\n\nwhat\nq\n")
    assert code == 0
    assert "Step 2 of 32" in out.out and "Step 3 of 32" not in out.out
    assert "Press Enter for the next step, a for all the rest, q to quit." in out.out
    assert "Stopped" in out.out


def test_ascii_and_explain(capsys, monkeypatch):
    code, out = run_in_process(["--no-pause", "--ascii", "--explain"], capsys, monkeypatch)
    assert code == 0 and out.out.isascii()
    assert "dE/dL1.n0.w0 = dE/dL1.n0.a * dL1.n0.a/dL1.n0.z * dL1.n0.z/dL1.n0.w0" in out.out
    assert "= 0.4 - 0.5 * 0.08217 = 0.3589" in out.out  # the gradient-descent line


def test_show_constants_shows_the_steps_into_constants_and_targets(capsys, monkeypatch):
    code, out = run_in_process(["--no-pause", "--show-constants"], capsys, monkeypatch)
    assert code == 0 and "hidden" not in out.out
    numbers = [int(n) for n in re.findall(r"^Step (\d+) of 38:", out.out, re.MULTILINE)]
    assert numbers == list(range(1, 39))
    assert "from e0^2 back to 2 (a constant" in out.out and "back to t1 (a target" in out.out
    assert "  t0=-0.7414" in out.out  # ∂E/∂t0 = −∂E/∂a0, in its cell
    code, out = run_in_process(["--no-pause"], capsys, monkeypatch)
    assert "back to t1" not in out.out and "back to 2 " not in out.out
    assert "t0=" not in out.out.split("Backward pass")[1]  # no table cell that never fills
    assert "(6 steps into constants and targets are hidden: --show-constants" in out.out


def test_a_model_chosen_by_options(capsys, monkeypatch):
    args = ["--no-pause", "--inputs", "0.5", "-1", "--layers", "3", "1", "--targets", "0.25",
            "--activation", "tanh", "--seed", "7"]  # fmt: skip
    code, out = run_in_process(args, capsys, monkeypatch)
    assert code == 0
    assert "2 inputs → 3 tanh → 1 tanh, with weights drawn at random (seed 7)" in out.out
    model = MLP(2, [3, 1], "tanh", "tanh", seed=7)  # the same network, by the same recipe

    def error():
        return labelled_error(model([0.5, -1.0]), [0.25])

    # 3 neurons × 5 inputs (w0, w1, x0, x1, b) + 3 tanh + output z (7) + its tanh + error
    # (7, of which 3 go into the constants ½ and 2 and the target t0: hidden)
    steps = re.findall(r"^Step \d+ of (\d+):", out.out, re.MULTILINE)
    assert len(steps) == int(steps[0]) == 15 + 3 + 7 + 1 + 7 - 3
    assert "3 steps into constants and targets are hidden" in out.out
    printed = final_gradients(out.out)
    for p in model.parameters():  # against central finite differences
        original = p.data
        with no_grad():
            p.data = original + 1e-6
            up = error().data
            p.data = original - 1e-6
            down = error().data
        p.data = original
        assert printed[p.label] == pytest.approx((up - down) / 2e-6, rel=1e-3, abs=1e-7)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--targets", "1", "2", "3"], "got 3 numbers but the output layer has 2 neurons"),
        (["--inputs", "1", "nan"], "expected a finite number, got 'nan'"),
        (["--inputs", "one"], "expected a number, got 'one'"),
        (["--layers", "0"], "expected a positive integer, got '0'"),
        (["--activation", "softsign"], "invalid choice: 'softsign'"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(args, message, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(args, capsys, monkeypatch)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_html_hands_the_error_to_visualize_or_says_what_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", None)  # as if not installed
    with pytest.raises(SystemExit) as exit_:
        run_in_process(["--html", str(tmp_path / "s.html")], capsys, monkeypatch)
    assert exit_.value.code == 2
    assert "--html needs the visualize package" in capsys.readouterr().err
    assert not (tmp_path / "s.html").exists()

    calls = []
    with_export = types.ModuleType("autograd_lite.visualize")
    with_export.export_html = lambda root, path, show_constants: (
        calls.append((root.label, path, show_constants)) or path
    )
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", with_export)
    code, out = run_in_process(["--html", str(tmp_path / "s.html")], capsys, monkeypatch)
    assert code == 0 and calls == [("E", tmp_path / "s.html", False)]
    assert f"wrote {tmp_path / 's.html'}" in out.out


def test_the_gradient_descent_line_puts_a_negative_gradient_in_parentheses(capsys, monkeypatch):
    # L1.n0.w0's gradient in the worked example is 0.08217 > 0; with targets swapped it is < 0.
    _, output = run_in_process(["--no-pause", "--targets", "0.99", "0.01"], capsys, monkeypatch)
    line = next(line for line in output.out.splitlines() if line.startswith("  w_new"))
    assert re.search(r"L1\.n0\.w0 = 0\.4 − 0\.5 × \(-0\.\d+\) = 0\.4\d*$", line), line
