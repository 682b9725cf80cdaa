"""What a new user meets in the first hour of the command line: no tracebacks. Training that
diverges says so and exits 1, a closed pipe ends quietly, options follow the network."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import types
from pathlib import Path

import pytest

from autograd_lite.cli import BROKEN_PIPE, main


def run(*argv):
    """(exit code, stdout, stderr) of ``autograd-lite ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "options, step",
    [
        (["--dataset", "sine", "--lr", "10"], "step 2"),  # used to end in an OverflowError
        (["--lr", "1e300", "--steps", "5"], "step 1"),  # the optimizer's NaN ValueError
        (["--lr", "100"], "step 2"),  # used to exit 0 with a loss of 6.9e27
    ],
)
def test_a_diverging_demo_says_so_in_two_lines_and_exits_1(tmp_path, options, step):
    code, out, err = run("demo", *options, "--no-progress", "--out", str(tmp_path))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert f"training diverged at {step}" in lines[0] and "loss" in lines[0]
    assert "try a smaller --lr" in lines[1] and "nothing was saved" in lines[1]
    assert "final loss" not in out and not (tmp_path / "model.json").exists()
    if options == ["--lr", "100"]:  # docs/networks.md shows this run's two lines
        readme = (Path(__file__).resolve().parent.parent / "docs" / "networks.md").read_text()
        assert all(line in readme for line in lines)


def test_step_with_inputs_too_large_for_floats_says_so(capsys):
    code = main(["step", "--inputs", "1e200", "1e200", "--activation", "linear", "--no-pause"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "overflowed" in err and "try smaller --inputs" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["step", "--no-pause"],
        ["step", "--no-pause", "--layers", "8", "8", "2", "--explain"],
        ["demo", "--samples", "20", "--steps", "3", "--no-progress"],
        ["graph"],
        ["export", "--lang", "c"],
    ],
)
def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path, argv):
    """Every subcommand: the pipe is handled once, in ``cli.main``."""
    if argv[0] in ("demo", "graph"):
        argv = [*argv, "--out", str(tmp_path)]
    process = subprocess.Popen(
        [sys.executable, "-m", "autograd_lite", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    first = process.stdout.readline()  # as `| head -1` does, then it leaves
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    code = process.wait(timeout=60)
    assert first and "Traceback" not in err and "BrokenPipe" not in err, err
    # 0 when everything fit in the pipe before it closed; 120 kB of steps cannot
    big = "--explain" in argv
    assert code == BROKEN_PIPE if big else code in (0, BROKEN_PIPE)


def test_version_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == "autograd-lite 0.1.0"


def test_default_targets_follow_the_output_layer():
    code, out, err = run("step", "--layers", "3", "1", "--activation", "tanh", "--seed", "7",
                         "--no-pause")  # fmt: skip
    assert code == 0, err
    assert "targets t0 = 0.01;" in out and "Done:" in out
    code, out, _ = run("step", "--layers", "3", "3", "--no-pause")
    assert code == 0 and "targets t0 = 0.01, t1 = 0.99, t2 = 0.01;" in out


def test_html_into_an_existing_folder_writes_inside_it(tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("autograd_lite.visualize")
    fake.export_html = lambda root, path, **options: calls.append(path) or path
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", fake)
    code, out, _ = run("step", "--html", str(tmp_path))
    assert code == 0 and calls == [tmp_path / "backprop.html"]
    assert f"wrote {tmp_path / 'backprop.html'}" in out


def test_printed_numbers_never_show_minus_zero():
    code, out, _ = run("step", "--inputs", "-0.0", "0", "--no-pause")
    assert code == 0 and "x0 = 0, x1 = 0;" in out
    for line in out.splitlines():
        if not line.startswith("  ") or "=" not in line:
            continue
        # the stepper's own tables: name=value cells
        for cell in line.split():
            assert not cell.endswith("=-0"), line


def test_a_folder_that_cannot_be_made_is_one_line_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run("graph", "--out", str(blocker / "inside"))
    assert code == 1 and "Traceback" not in err
    assert err.startswith("autograd-lite graph: cannot write:") and len(err.splitlines()) == 1


def test_a_penalty_that_blows_up_is_named_as_a_cure(tmp_path):
    code, _, err = run("demo", "--l2", "1e300", "--steps", "3", "--no-progress",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 1 and "training diverged at step" in err and "or a smaller --l2" in err


def test_the_demo_prints_the_hardest_point_without_minus_zero(tmp_path, monkeypatch):
    from autograd_lite.cli.demo import _draw_network
    from autograd_lite.nn import MLP

    fake = types.ModuleType("autograd_lite.visualize")
    fake.graphviz_available = lambda: True
    fake.draw_network = lambda model: "picture"
    fake.render = lambda picture, path, format: path.with_suffix(".svg")
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", fake)
    line = _draw_network(MLP(2, [1]), tmp_path, [-0.0, -1e-4])
    assert line.endswith("at the hardest point, (0, -0.0001))")


def test_one_output_activation_default_for_the_api_and_every_command(tmp_path):
    """MLP, step (a network built from options) and demo: linear unless told otherwise; the
    worked example (step's and export's default network) keeps its sigmoid output."""
    from autograd_lite.nn import DEFAULT_OUTPUT_ACTIVATION, MLP

    assert DEFAULT_OUTPUT_ACTIVATION == "linear" == MLP(2, [3, 1]).output_activation
    code, out, _ = run("step", "--no-pause", "--layers", "3", "1")  # in ASCII: not a terminal
    assert code == 0 and "2 inputs -> 3 sigmoid -> 1 linear, with weights drawn" in out
    code, out, _ = run("step", "--no-pause")
    assert code == 0 and "2 inputs -> 2 sigmoid -> 2 sigmoid, with the weights and biases" in out
    code, out, _ = run("demo", "--samples", "8", "--steps", "1", "--no-progress",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 0 and "output_activation='linear')" in out.splitlines()[0]
    assert MLP.load(tmp_path / "model.json").output_activation == "linear"
    code, out, _ = run("export", "--lang", "python")
    assert code == 0 and "sigmoid" in out and "0.15" in out  # the worked example's w1


@pytest.mark.parametrize("option", ["--layer-view", "--ascii", "--no-pause"])
def test_terminal_options_with_html_are_refused_not_ignored(tmp_path, option):
    page = tmp_path / "page.html"
    code, out, err = run("step", "--html", str(page), option)
    assert code == 2 and f"{option} is for the terminal; leave it out with --html" in err
    assert "Traceback" not in err and not page.exists()
