"""`autograd-lite export`, run as a user runs it: to stdout, into a file, for a saved model,
piped into `head`, and with nonsense arguments (one clear line, exit code 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_export import parse, run_c

from autograd_lite.cli import main
from autograd_lite.export import export_example, export_model
from autograd_lite.nn import MLP, mean_squared_error

COMMAND = [sys.executable, "-m", "autograd_lite", "export"]


def test_default_is_the_worked_example_on_stdout(capsys):
    assert main(["export", "--lang", "c"]) == 0
    assert capsys.readouterr().out == export_example("c")


def test_a_saved_model_to_a_file_runs(tmp_path, capsys):
    model = MLP(3, [4, 1], activation="relu", seed=1)
    path = model.save(tmp_path / "model.json")
    out = tmp_path / "step.c"
    args = ["export", str(path), "--lang", "c", "-o", str(out), "--loss", "mse"]
    assert main([*args, "--inputs", "1", "2", "3", "--targets", "0.5", "--lr", "0.1"]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    source = out.read_text(encoding="utf-8")
    assert source == export_model(model, [1, 2, 3], [0.5], "c", mean_squared_error, 0.1)
    printed = parse(run_c(source, tmp_path))
    assert printed["E"] == mean_squared_error(model([1.0, 2.0, 3.0]), [0.5]).data


def test_piped_into_head_is_quiet():
    shell = subprocess.run(
        f"{sys.executable} -m autograd_lite export --lang python | head -3",
        shell=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shell.stdout.count("\n") == 3
    assert shell.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lang", "rust"], "invalid choice: 'rust'"),
        ([], "the following arguments are required: --lang"),
        (["--lang", "c", "missing.json"], "cannot read missing.json"),
        (["--lang", "c", "--inputs", "1", "2", "3"], "--inputs: got 3 numbers but the model has 2"),
        (["--lang", "c", "--targets", "1"], "--targets: got 1 numbers but the model has 2 outputs"),
        (["--lang", "c", "--lr", "0"], "expected a finite number > 0, got '0'"),
        (["--lang", "c", "--inputs", "nan", "1"], "expected a finite number, got 'nan'"),
        (["--lang", "c", "--loss", "softmax-ce", "--targets", "0.5"], "give the class number"),
        (["--lang", "c", "--loss", "hinge", "--targets", "1", "0.5"], "targets must be -1 or +1"),
        (["--lang", "c", "-o", "/no/such/folder/x.c"], "the folder of '/no/such/folder/x.c'"),
        (["--lang", "c", "--targets", "1", "2", "m.json"], "write MODEL.json before --inputs"),
    ],
)
def test_nonsense_gets_one_clear_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["export", *args])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_bad_model_file_is_named(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "autograd_lite.MLP", "version": 1}', encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["export", str(path), "--lang", "javascript"])
    assert f"{path}: missing key(s)" in capsys.readouterr().err


def test_the_command_runs_as_a_program():
    done = subprocess.run([*COMMAND, "--lang", "javascript"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == export_example("javascript")
