"""The pure-Python replay: flat lists of floats, no object per node, standard library only.

The interpreter below is generated once from ``formulas.FORMULAS`` (one branch per op,
rendered to Python), so it cannot drift from the table the other backends use. It runs the
nodes in the engine's order and applies the chain rule in the engine's order, with the
same float operations, so its results equal ``backward()``'s bit for bit (a zero gradient
may differ in its sign: a node whose gradient is 0 passes no blame and is skipped).

>>> from autograd_lite import Value
>>> from autograd_lite.program import trace
>>> a = Value(0.5, label="a")
>>> PythonReplay(trace(a.sigmoid() * a, params=[a])).run(params=[0.0])
Result(loss=0.0, gradients=[0.5], outputs=[])
"""

from __future__ import annotations

from math import isfinite

from autograd_lite.program.backends import LEAF, Replay, Result, layout, refused
from autograd_lite.program.formulas import FORMULAS, OPS, exact_sum, finite_slopes, render
from autograd_lite.program.trace import Program

__all__ = ["PythonReplay"]

# ops by how often a model uses them: the interpreter tests them in this order
_FREQUENT = ("weighted_sum", "relu", "tanh", "*", "+", "sigmoid", "-", "sum")


def _interpreter_source() -> str:
    """Source of ``forward(V, L, codes, starts, flat, computed)``, one branch per op."""
    lines = [
        "def forward(V, L, codes, starts, flat, computed):",
        "    i = -1",
        "    try:",
        "        for i in computed:",
        "            c = codes[i]",
        "            s = starts[i]",
    ]
    order = [op for op in _FREQUENT if op in OPS] + [op for op in OPS if op not in _FREQUENT]
    for position, op in enumerate(order):
        keyword = "if" if position == 0 else "elif"
        lines.append(f"            {keyword} c == {OPS.index(op)}:  # {op}")
        lines.extend("                " + line for line in _branch(op))
    lines += [
        "    except (ArithmeticError, ValueError):",
        "        return i",
        "    return -1",
    ]
    return "\n".join(lines)


def _branch(op: str) -> list[str]:
    if op == "weighted_sum":  # b + w1*a1 + ... left to right, as the engine's sum(map(mul))
        return [
            "e = starts[i + 1] - 1",
            "n = (e - s) >> 1",
            "w = [V[j] for j in flat[s:s + n]]",
            "a = [V[j] for j in flat[s + n:e]]",
            "V[i] = sum(map(mul, w, a), V[flat[e]])",
            "L[s:s + n] = a",
            "L[s + n:e] = w",
        ]
    if op == "sum":  # rounded once, as the engine's math.fsum (see exact_sum)
        return ["V[i] = exact_sum([V[j] for j in flat[s:starts[i + 1]]])"]
    formula = FORMULAS[op]
    body = [f"{name} = V[flat[s + {k}]]" for k, name in enumerate(formula.inputs)]
    body.append(f"out = V[i] = {render(formula.forward, 'python')}")
    for k, derivative in enumerate(formula.derivatives):
        if not isinstance(derivative, float):  # constants are written once, at build
            body.append(f"L[s + {k}] = {render(derivative, 'python')}")
    return body


def _compile_interpreter():
    namespace: dict = {}
    exec(
        compile(_interpreter_source(), "<autograd_lite replay interpreter>", "exec"),
        {"math": __import__("math"), "mul": __import__("operator").mul,
         "exact_sum": exact_sum},
        namespace,
    )  # fmt: skip
    return namespace["forward"]


_forward = _compile_interpreter()


class PythonReplay(Replay):
    """Replay in pure Python over flat lists (see the module docstring)."""

    name = "python"

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        shape = layout(program)
        self._codes, self._starts, self._flat = shape.codes, shape.starts, shape.flat
        self._computed = [i for i, code in enumerate(shape.codes) if code != LEAF]
        self._values = list(program.values)
        # local derivatives that never change (1 for +, -1 for neg, ...) are written once
        self._locals = [0.0] * len(self._flat)
        for i in self._computed:
            op, start = program.ops[i], shape.starts[i]
            if op == "sum":
                self._locals[start : shape.starts[i + 1]] = [1.0] * len(program.args[i])
            elif op == "weighted_sum":
                self._locals[shape.starts[i + 1] - 1] = 1.0  # d/db
            else:
                for k, derivative in enumerate(FORMULAS[op].derivatives):
                    if isinstance(derivative, float):
                        self._locals[start + k] = derivative
        # the backward pass visits the computed nodes from the loss back
        self._reversed = self._computed[::-1]
        slopes = {op: finite_slopes(op) for op in set(program.ops) if op}
        self._skippable = [bool(op) and slopes[op] for op in program.ops]

    def _run(self, inputs: list[float], params: list[float]) -> Result:
        program, values = self.program, self._values
        for i, v in zip(program.inputs, inputs):
            values[i] = v
        for i, v in zip(program.parameters, params):
            values[i] = v
        failed = _forward(values, self._locals, self._codes, self._starts, self._flat,
                          self._computed)  # fmt: skip
        if failed >= 0:
            raise refused(program, failed, values)
        grads = [0.0] * len(values)
        grads[program.loss] = 1.0
        flat, local, starts, skippable = self._flat, self._locals, self._starts, self._skippable
        # A node whose gradient is 0 would add 0 * (finite slope) = 0 to each input: skip it
        # (often half the graph: dead relus, samples beyond the margin). Only with finite
        # values and ops of finite slopes, where the engine's sums are unchanged by it (but
        # for the sign of a zero gradient).
        may_skip = all(map(isfinite, values))
        for node in self._reversed:
            upstream = grads[node]
            if upstream == 0.0 and may_skip and skippable[node]:
                continue
            for k in range(starts[node], starts[node + 1]):
                grads[flat[k]] += local[k] * upstream
        return Result(
            values[program.loss],
            [grads[i] for i in program.parameters],
            [values[i] for i in program.outputs],
        )
