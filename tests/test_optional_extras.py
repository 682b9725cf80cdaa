"""PyTorch, scikit-learn and NumPy are optional: nothing imports them but the code that needs them,
and without them that code says in one line what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

EVERY_MODULE = """
import pkgutil, importlib, sys
import autograd_lite
for module in pkgutil.walk_packages(autograd_lite.__path__, "autograd_lite."):
    if not module.name.endswith("__main__"):  # that one runs the command
        importlib.import_module(module.name)
from autograd_lite.cli import main
try:
    main(["demo", "--help"])
except SystemExit:
    pass
print(sorted(name for name in ("torch", "sklearn") if name in sys.modules))
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_no_module_imports_torch_or_scikit_learn():
    done = _run(EVERY_MODULE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# sys.modules[name] = None makes "import name" fail, as on a machine without the package
WITHOUT = "import sys; sys.modules['{name}'] = None\n"


@pytest.mark.parametrize(
    "name, call, install",
    [
        ("torch", "from autograd_lite.nn import MLP\n"
                  "from autograd_lite.torch_bridge import to_torch\nto_torch(MLP(1, [1]))",
         'pip install ".[torch]"'),
        ("sklearn", "from autograd_lite.nn import data\ndata.digits()",
         'pip install ".[datasets]"'),
        ("numpy", "from autograd_lite import Value\n"
                  "from autograd_lite.program import replay, trace\n"
                  "w = Value(0.5, 'w')\nreplay(trace(w * w, params=[w]), 'numpy')",
         'pip install ".[numpy]"'),
    ],
)  # fmt: skip
def test_missing_extra_says_what_to_install(name, call, install):
    # ImportError from the bridges, BackendUnavailableError (a RuntimeError) from replay
    done = _run(WITHOUT.format(name=name) + f"try:\n    {call.replace(chr(10), chr(10) + '    ')}\n"
                "except (ImportError, RuntimeError) as error:\n    print(error)")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    assert install in line


# What a learner without NumPy runs: the engine, nn, training (engine and python replay),
# the layer view, export and the command. None of it may import NumPy (only the numpy
# replay backend does, when chosen).
WITHOUT_NUMPY_PATH = """
import sys
from autograd_lite import Value
from autograd_lite.nn import MLP, data
from autograd_lite.training import fit
from autograd_lite.layers import layer_view
from autograd_lite.stepping import backprop_example
from autograd_lite.export import export_model
from autograd_lite.cli import main
points, targets = data.moons(20, 0.1, 0)
for backend in ("engine", "python"):
    fit(MLP(2, [4, 1], seed=0), points, targets, epochs=2, progress=False, backend=backend)
layer_view(backprop_example().error)
for args in (["demo", "--help"], ["export", "--lang", "c", "-o", sys.argv[1]]):
    try:
        main(args)
    except SystemExit:
        pass
print(sorted(name for name in ("numpy", "torch", "sklearn") if name in sys.modules))
"""


def test_the_engine_nn_training_and_the_command_never_import_numpy(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_NUMPY_PATH, str(tmp_path / "step.c")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "step.c").read_text().startswith("/* One step of gradient descent")
