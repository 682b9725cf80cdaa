"""`autograd-lite demo`: the default run reaches 100%, saves a loadable model (and a picture),
the options work, and bad options exit with code 2 and a clear message."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys

import pytest

from autograd_lite.cli import main
from autograd_lite.nn import MLP, data
from autograd_lite.training import evaluate


def run_demo(*options):
    """(exit code, stdout, stderr) of ``autograd-lite demo`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["demo", *options])
        except SystemExit as stop:  # argparse exits on bad options
            code = stop.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The README's command with its default options (only the output folder moved)."""
    folder = tmp_path_factory.mktemp("demo") / "out"
    return folder, run_demo("--out", str(folder))


def test_default_demo_reaches_100_percent(default_run):
    _, (code, out, err) = default_run
    assert code == 0, err
    assert "MLP(2, [16, 16, 1], activation='relu'" in out
    assert "100 moons points" in out and "noise 0.1" in out
    assert "hinge + 0.0001 * L2" in out and "100 steps, full batch" in out
    assert "accuracy 100% (100/100 points right)" in out
    assert "100/100" in err and "loss=" in err  # the progress bar


def test_default_demo_saves_a_model_that_really_is_100_percent(default_run):
    folder, (_, out, _) = default_run
    path = folder / "model.json"
    assert f"saved the model:   {path}" in out
    model = MLP.load(path)
    points, targets = data.moons(100, noise=0.1, seed=0)
    assert evaluate(model, points, targets, loss="hinge")[1] == 1.0


def test_default_demo_draws_the_network_when_it_can(default_run):
    folder, (_, out, _) = default_run
    try:
        import autograd_lite.visualize  # noqa: F401
    except ImportError:
        pytest.skip("the visualize package is not importable")
    if shutil.which("dot") is None:
        assert "no picture" in out
    else:
        assert (folder / "network.svg").read_text().lstrip().startswith("<?xml")
        assert "saved the picture:" in out and "hardest point" in out


def test_the_readme_shows_what_the_demo_prints(default_run):
    from test_docs import DEMO_OUTPUT, FENCE, TEXT

    folder, (_, out, _) = default_run
    if "no picture" in out:  # without Graphviz the last line differs
        pytest.skip("Graphviz's dot is missing")
    expected = FENCE.search(TEXT.split(DEMO_OUTPUT)[1]).group(2)
    printed = out.replace(str(folder), "autograd-lite-out")

    def any_time(text: str) -> str:  # timings differ from run to run
        return re.sub(r"a step took [\d.]+ ms", "a step took ... ms", text)

    assert any_time(printed) == any_time(expected)


def test_decision_map_is_printed(default_run):
    _, (_, out, _) = default_run
    assert "What the network learned" in out
    assert out.count("\n") > 20


def test_without_visualize_the_demo_still_saves_the_model(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "autograd_lite.visualize", None)  # the import fails
    code, out, _ = run_demo(
        "--steps", "1", "--samples", "10", "--no-progress", "--out", str(tmp_path)
    )
    assert code == 0
    assert "no picture: the visualize package cannot draw" in out
    assert (tmp_path / "model.json").exists() and not (tmp_path / "network.svg").exists()


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--dataset", "spiral", "--samples", "30", "--hidden", "8"], "MLP(2, [8, 3]"),
        (["--dataset", "sine", "--samples", "10"], "activation='tanh', output_activation='linear'"),
        (
            ["--dataset", "sine", "--samples", "10", "--output-activation", "tanh"],
            "activation='tanh', output_activation='tanh')",
        ),
        (["--dataset", "xor", "--activation", "tanh", "--lr", "0.5"], "lr 0.5 falling to 0.05"),
        (["--dataset", "circles", "--samples", "12", "--batch-size", "5"], "in batches of 5"),
        (["--samples", "10", "--l2", "0", "--seed", "3"], "loss: hinge\n"),
    ],
)
def test_options(tmp_path, options, expected):
    code, out, err = run_demo(*options, "--steps", "2", "--no-progress", "--out", str(tmp_path))
    assert code == 0, err
    assert expected in out
    assert MLP.load(tmp_path / "model.json").nin == (1 if "sine" in options else 2)
    assert ("accuracy" in out) == ("sine" not in options)
    assert err == ""  # --no-progress: no bar


@pytest.mark.parametrize(
    "options, words",
    [
        (["--hidden", "16,x"], "hidden layer sizes like 16,16"),
        (["--hidden", "0"], "hidden layer sizes like 16,16"),
        (["--steps", "0"], "expected a positive integer, got '0'"),
        (["--epochs", "ten"], "expected a positive integer, got 'ten'"),
        (["--lr", "-1"], "expected a finite number > 0"),
        (["--lr", "nan"], "expected a finite number > 0"),
        (["--noise", "-0.1"], "expected a finite number >= 0"),
        (["--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["--activation", "softmax"], "invalid choice: 'softmax'"),
        (["--output-activation", "softmax"], "invalid choice: 'softmax'"),
        (["--dataset", "spiral", "--samples", "5"], "--samples must be at least 6 for spiral"),
        (["--unknown"], "unrecognized arguments"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(tmp_path, options, words):
    code, out, err = run_demo(*options, "--out", str(tmp_path / "out"))
    assert code == 2
    assert words in err
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_folder(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("")
    code, _, err = run_demo("--out", str(a_file))
    assert code == 2 and "is a file, not a folder" in err


def test_the_installed_command_runs(tmp_path):
    command = shutil.which("autograd-lite")
    args = [command] if command else [sys.executable, "-m", "autograd_lite"]
    done = subprocess.run(
        [*args, "demo", "--steps", "2", "--samples", "10", "--out", str(tmp_path)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "final loss" in done.stdout and "2/2" in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "demo", "--lr", "zero"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "--lr: expected a number, got 'zero'" in bad.stderr


def test_an_out_folder_that_cannot_be_made_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = run_demo("--out", str(blocker / "inside"), "--no-progress")
    assert code == 2 and out == ""  # no "Training ...": refused before any work
    inside = blocker / "inside"
    assert f"argument --out: cannot make the folder '{inside}': {blocker} is a file" in err
    assert "Traceback" not in err and not (blocker.parent / "inside").exists()


def test_an_out_folder_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch):
    # root may write anywhere: the answer of os.access stands in for a read-only folder
    monkeypatch.setattr("autograd_lite.cli.options.os.access", lambda path, mode: False)
    code, out, err = run_demo("--out", str(tmp_path / "new" / "out"), "--no-progress")
    assert code == 2 and out == ""
    assert f"argument --out: cannot write into '{tmp_path}': not allowed" in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("noise", ["1e300", "10.5", "inf"])
def test_a_noise_out_of_scale_is_named_as_the_noise(tmp_path, noise):
    code, out, err = run_demo("--noise", noise, "--out", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert f"argument --noise: expected a finite number >= 0 and <= 10, got '{noise}'" in err
    assert "diverged" not in err and "try a smaller --lr" not in err  # what it said before


@pytest.mark.parametrize(
    "options, count, noise",
    [([], 4, 0.0), (["--samples", "8"], 8, 0.0), (["--noise", "0.3"], 100, 0.3),
     (["--samples", "40", "--noise", "0.2"], 40, 0.2)],
)  # fmt: skip
def test_xor_honours_samples_and_noise(tmp_path, options, count, noise):
    code, out, err = run_demo("--dataset", "xor", *options, "--steps", "30", "--no-progress",
                              "--out", str(tmp_path))  # fmt: skip
    assert code == 0, err
    assert f"on {count} xor points (the 4 corners of XOR, noise {noise:g}), seed 0" in out
    # the saved model scores on the very points the demo made as the demo said it did
    points, targets = data.xor(labels=(-1, 1), n=count, noise=noise, seed=0)
    accuracy = evaluate(MLP.load(tmp_path / "model.json"), points, targets, loss="hinge")[1]
    assert f"({round(accuracy * count)}/{count} points right)" in out
