"""``replay(program, backend)``: the backend chosen by name, imported only when chosen.

Each backend module imports ``backends.py`` (the shared interface); this module imports the
backends, so no module imports itself through another.

>>> from autograd_lite import Value
>>> from autograd_lite.program import trace
>>> w = Value(3.0, label="w")
>>> program = trace(w * w, params=[w])
>>> replay(program, "python").run()
Result(loss=9.0, gradients=[6.0], outputs=[])
>>> replay(program, "fortran")
Traceback (most recent call last):
...
ValueError: replay: unknown backend 'fortran'; choose one of python, numpy, c
"""

from __future__ import annotations

from autograd_lite.program.backends import Replay
from autograd_lite.program.trace import Program

__all__ = ["BACKENDS", "replay"]


def _python(program: Program) -> Replay:
    from autograd_lite.program.python_backend import PythonReplay

    return PythonReplay(program)


def _numpy(program: Program) -> Replay:
    from autograd_lite.program.numpy_backend import NumpyReplay

    return NumpyReplay(program)


def _c(program: Program) -> Replay:
    from autograd_lite.program.c_backend import CReplay

    return CReplay(program)


BACKENDS = {"python": _python, "numpy": _numpy, "c": _c}


def replay(program: Program, backend: str = "python") -> Replay:
    """Compile ``program`` for ``backend`` ("python", "numpy" or "c")."""
    if backend not in BACKENDS:
        raise ValueError(
            f"replay: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        )
    return BACKENDS[backend](program)
