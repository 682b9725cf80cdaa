"""Trace once, replay fast: a loss's graph as a flat program, replayed by several backends.

* ``trace(loss, params=..., inputs=...)`` records the graph as a ``Program``;
* ``replay(program, backend="python" | "numpy" | "c")`` compiles it for a backend; its
  ``run(inputs)`` returns the loss and every parameter's gradient, equal to the engine's;
* the math of each op is its own forward and rule, read off the engine as expressions
  (``autograd_lite.expressions``) and written per language by ``render.render``;
* a program is validated before a backend runs it (``validate``), and the decisions its
  code took on numbers (``record_decisions()``) are checked at every replay: one that goes
  the other way is a ``DecisionError``, a ``ReplayError``.

Only the standard library is imported here; the NumPy backend imports NumPy when chosen.

>>> from autograd_lite import Value
>>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
>>> program = trace((w * x).tanh(), params=[w], inputs=[x])
>>> result = replay(program, "python").run(inputs=[3.0])
>>> round(result.loss, 6), [round(g, 6) for g in result.gradients]
(0.905148, [0.54212])
"""

from autograd_lite.program.backends import BackendUnavailableError, Replay, ReplayError, Result
from autograd_lite.program.decisions import Decision, GuardNode, record_decisions
from autograd_lite.program.dispatch import BACKENDS, replay
from autograd_lite.program.guards import DecisionError
from autograd_lite.program.trace import Program, trace
from autograd_lite.program.validate import validate

__all__ = ["BACKENDS", "BackendUnavailableError", "Decision", "DecisionError", "GuardNode",
           "Program", "Replay", "ReplayError", "Result", "record_decisions", "replay", "trace",
           "validate"]  # fmt: skip
