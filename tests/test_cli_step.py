"""`autograd-lite step`, driven as a user drives it: through a pseudo-terminal (Enter, a, q)
and through a pipe (--no-pause), plus its options and their errors."""

from __future__ import annotations

import io
import json
import math
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


@pytest.mark.parametrize("output", [None, "tanh"])  # None: the default, linear as in MLP
def test_a_model_chosen_by_options(capsys, monkeypatch, output):
    args = ["--no-pause", "--inputs", "0.5", "-1", "--layers", "3", "1", "--targets", "0.25",
            "--activation", "tanh", "--seed", "7"]  # fmt: skip
    args += ["--output-activation", output] if output else []
    code, out = run_in_process(args, capsys, monkeypatch)
    assert code == 0
    shown = output or "linear"
    assert f"2 inputs → 3 tanh → 1 {shown}, with weights drawn at random (seed 7)" in out.out
    model = MLP(2, [3, 1], "tanh", shown, seed=7)  # the same network, by the same recipe

    def error():
        return labelled_error(model([0.5, -1.0]), [0.25])

    # 3 neurons × 5 inputs (w0, w1, x0, x1, b) + 3 tanh + output z (7) + its tanh if any +
    # error (7, of which 3 go into the constants ½ and 2 and the target t0: hidden)
    steps = re.findall(r"^Step \d+ of (\d+):", out.out, re.MULTILINE)
    assert len(steps) == int(steps[0]) == 15 + 3 + 7 + (shown == "tanh") + 7 - 3
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
    "options, shape",
    [
        ([], "2 sigmoid → 2 sigmoid"),  # the worked example itself
        (["--output-activation", "sigmoid", "--op-by-op"], "2 sigmoid → 2 sigmoid"),
        (["--activation", "tanh"], "2 tanh → 2 linear"),  # the output's default: linear
        (["--output-activation", "relu"], "2 sigmoid → 2 relu"),
    ],
)
def test_the_worked_example_s_shape_keeps_its_weights_whatever_the_activations(
    options, shape, capsys, monkeypatch
):
    code, out = run_in_process(["--no-pause", *options], capsys, monkeypatch)
    assert code == 0
    assert (
        f"Network: 2 inputs → {shape}, with the weights and biases of Matt Mazur's worked "
        "example (https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/)."
    ) in out.out
    assert "L1.n0   w0=0.4  w1=0.45  b=0.6" in out.out  # w5, w6, b2
    assert "L0.n1   w0=0.25  w1=0.3  b=0.35" in out.out  # w3, w4, b1
    if shape == "2 tanh → 2 linear":  # ∂E/∂w5 = (a_o1 − t0) × a_h1, by hand
        h1, h2 = (
            math.tanh(0.15 * 0.05 + 0.2 * 0.1 + 0.35),
            math.tanh(0.25 * 0.05 + 0.3 * 0.1 + 0.35),
        )
        by_hand = (0.4 * h1 + 0.45 * h2 + 0.6 - 0.01) * h1
        assert final_gradients(out.out)["L1.n0.w0"] == pytest.approx(by_hand, rel=1e-3)
    elif shape == "2 sigmoid → 2 sigmoid":
        assert final_gradients(out.out)["L1.n0.w0"] == pytest.approx(HAND["L1.n0.w0"], rel=1e-3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--targets", "1", "2", "3"], "got 3 numbers but the output layer has 2 neurons"),
        (["--inputs", "1", "nan"], "expected a finite number, got 'nan'"),
        (["--inputs", "one"], "expected a number, got 'one'"),
        (["--layers", "0"], "expected a positive integer, got '0'"),
        (["--activation", "softsign"], "invalid choice: 'softsign'"),
        (["--output-activation", "softmax"], "invalid choice: 'softmax'"),
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
    with_export.export_html = lambda root, path, **options: (
        calls.append((root.label, path, options)) or path
    )
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", with_export)
    code, out = run_in_process(["--html", str(tmp_path / "s.html")], capsys, monkeypatch)
    options = {"show_constants": False, "number_format": ".4g", "max_steps": 20_000,
               "explanation": None, "add_suffix": False}  # fmt: skip
    assert code == 0 and calls == [("E", tmp_path / "s.html", options)]
    assert f"wrote {tmp_path / 's.html'}" in out.out


def test_the_gradient_descent_line_puts_a_negative_gradient_in_parentheses(capsys, monkeypatch):
    # L1.n0.w0's gradient in the worked example is 0.08217 > 0; with targets swapped it is < 0.
    _, output = run_in_process(["--no-pause", "--targets", "0.99", "0.01"], capsys, monkeypatch)
    line = next(line for line in output.out.splitlines() if line.startswith("  w_new"))
    assert re.search(r"L1\.n0\.w0 = 0\.4 − 0\.5 × \(-0\.\d+\) = 0\.4\d*$", line), line


# --- limits, --html paths, --explain and --digits ------------------------------------------


def page_record(path):
    """The data a page written by --html replays (its JSON)."""
    text = path.read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


def refused(args, capsys, monkeypatch):
    """(stderr) of a run that must stop in one line, with exit code 2, before any output."""
    code, out = run_in_process(args, capsys, monkeypatch)
    assert code == 2 and out.out == "" and "Traceback" not in out.err
    assert len(out.err.splitlines()) == 1, out.err
    return out.err


# 2 inputs, 100 sigmoid, 100 sigmoid: by hand, 100 × (2 w + 2 x + b) + 100 σ + 100 × (100 w +
# 100 a + b) + 100 σ + per output e = t − a, e², ½e², E's sum: 4 steps (3 into 2, ½, t hidden)
STEPS_100_100 = 100 * 5 + 100 + 100 * 201 + 100 + 100 * 4
SIGMOID = ["--activation", "sigmoid", "--output-activation", "sigmoid"]


def test_a_page_too_large_is_refused_before_anything_is_built(tmp_path, capsys, monkeypatch):
    page = tmp_path / "p.html"
    err = refused(["--layers", "100", "100", *SIGMOID, "--html", str(page)], capsys, monkeypatch)
    assert f"has {STEPS_100_100:,} chain-rule steps" in err and "limit of 20,000 for --html" in err
    assert f"--max-steps {STEPS_100_100} allows it" in err
    assert not page.exists()


def test_a_terminal_run_too_long_is_refused(capsys, monkeypatch):
    # 30-30: 30 × 5 + 30 + 30 × 61 + 30 + 30 × 4 = 2,160 steps, more than 2,000
    err = refused(["--layers", "30", "30", *SIGMOID, "--no-pause"], capsys, monkeypatch)
    assert "has 2,160 chain-rule steps" in err and "limit of 2,000 in the terminal" in err


def test_a_huge_network_is_refused_from_its_shape_without_building_it(capsys, monkeypatch):
    def never(args):
        raise AssertionError("the network was built")

    monkeypatch.setattr("autograd_lite.cli.step.build_example", never)
    err = refused(["--layers", "1000", "1000"], capsys, monkeypatch)
    # at least one step into each weight and bias: 1000 × (1 + 1) + 1000 × 1001
    assert "has at least 1,003,000 chain-rule steps" in err and "a larger --max-steps" in err


def test_max_steps_is_the_exact_limit(capsys, monkeypatch):
    # 2-3-1 tanh: 3 × 5 + 3 + 7 + 1 + 4 = 30 steps shown (+3 into constants and the target)
    args = ["--no-pause", "--layers", "3", "1", "--activation", "tanh",
            "--output-activation", "tanh"]  # fmt: skip
    assert "has 30 chain-rule steps" in refused([*args, "--max-steps", "29"], capsys, monkeypatch)
    code, out = run_in_process([*args, "--max-steps", "30"], capsys, monkeypatch)
    assert code == 0 and "Backward pass: 30 chain-rule steps" in out.out
    with_constants = [*args, "--max-steps", "30", "--show-constants"]
    assert "has 33 chain-rule steps" in refused(with_constants, capsys, monkeypatch)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--html", ""], "argument --html: expected a file or folder to write, got ''"),
        (["--html", " "], "argument --html: expected a file or folder to write, got ' '"),
        (["--digits", "0"], "argument --digits: expected a whole number from 1 to 17, got '0'"),
        (["--digits", "18"], "expected a whole number from 1 to 17, got '18'"),
        (["--digits", "2.5"], "expected a whole number from 1 to 17, got '2.5'"),
        (["--max-steps", "0"], "argument --max-steps: expected a positive integer, got '0'"),
    ],
)
def test_bad_html_digits_and_max_steps_exit_2_before_stepping(args, message, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(args, capsys, monkeypatch, stdin="a\n")
    captured = capsys.readouterr()
    assert exit_.value.code == 2 and captured.out == ""  # the stepper never started
    assert message in captured.err


def test_html_writes_exactly_the_path_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = run_in_process(["--html", "afile"], capsys, monkeypatch)
    assert code == 0 and out.out == "wrote afile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]
    assert (tmp_path / "afile").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # a folder (one that exists, or a path ending in a slash) gets backprop.html inside
    code, out = run_in_process(["--html", "pages/"], capsys, monkeypatch)
    assert code == 0 and (tmp_path / "pages" / "backprop.html").is_file()


def test_html_honours_explain_and_digits(tmp_path, capsys, monkeypatch):
    page = tmp_path / "page.html"
    args = ["--html", str(page), "--explain", "--digits", "6"]
    code, _ = run_in_process(args, capsys, monkeypatch)
    assert code == 0
    record = page_record(page)
    # the walk-through's out_o1 = 0.75136507 and ∂E/∂w5 = 0.082167041, to 6 digits
    data = {node["name"]: node["data"] for node in record["nodes"]}
    assert data["L1.n0.a"] == "0.751365"
    assert any(step["text"].endswith("(L1.n0.w0.grad = 0.082167)") for step in record["backward"])
    explanation = record["explanation"]
    assert "∂E/∂L1.n0.w0 = ∂E/∂L1.n0.a × ∂L1.n0.a/∂L1.n0.z × ∂L1.n0.z/∂L1.n0.w0" in explanation
    assert "= 0.741365 × 0.186816 × 0.59327 = 0.082167" in explanation  # ∂E/∂out × σ′ × out_h1
    code, _ = run_in_process(["--html", str(page)], capsys, monkeypatch)
    assert code == 0 and "explanation" not in page_record(page)
    assert page_record(page)["nodes"][-1]["data"] == "0.2984"  # E = 0.298371109, 4 digits


@pytest.mark.parametrize("digits", [2, 5])  # the walk-through gives 6 digits at least
def test_digits_sets_the_significant_digits_of_the_stepper(digits, capsys, monkeypatch):
    args = ["--no-pause", "--explain", "--digits", str(digits)]
    code, out = run_in_process(args, capsys, monkeypatch)
    assert code == 0
    printed = final_gradients(out.out)
    for label, by_hand in HAND.items():  # the walk-through's values, rounded
        assert printed[label] == float(f"{by_hand:.{digits}g}")
    assert f"σ({1.105905967:.{digits}g}) = {0.75136507:.{digits}g}" in out.out  # net_o1, out_o1
    assert f"\nE = {0.298371109:.{digits}g}\n" in out.out  # the explanation's first line


def test_more_digits_than_the_default_show_more_of_each_gradient(capsys, monkeypatch):
    code, out = run_in_process(["--no-pause", "--digits", "12"], capsys, monkeypatch)
    assert code == 0
    printed = final_gradients(out.out)
    for label, by_hand in HAND.items():  # the walk-through's 9 decimals, matched to them
        assert printed[label] == pytest.approx(by_hand, abs=5e-10)
        assert printed[label] != round(printed[label], 9)  # more digits than the hand's


def test_html_into_a_folder_that_cannot_be_made_is_refused_before_stepping(
    tmp_path, capsys, monkeypatch
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_:
        run_in_process(["--html", str(blocker / "page.html")], capsys, monkeypatch)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == "" and blocker.read_text() == ""
    assert f"argument --html: cannot make the folder '{blocker}': {blocker} is a file" in err
