"""PyTorch and scikit-learn are optional: nothing imports them but the code that needs them,
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
    ],
)  # fmt: skip
def test_missing_extra_says_what_to_install(name, call, install):
    done = _run(WITHOUT.format(name=name) + f"try:\n    {call.replace(chr(10), chr(10) + '    ')}\n"
                "except ImportError as error:\n    print(error)")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    assert install in line
