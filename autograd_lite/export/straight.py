"""A traced program written out line by line: one line per node forward, one line per
chain-rule step backward (the straight-line form, for small graphs).

Every computed node becomes a variable named from its label (``L0.n3.w1`` -> ``L0_n3_w1``;
unlabelled nodes are ``v12`` after their index) and its gradient ``dE_d<name>``. The
backward pass is the engine's own loop unrolled: the nodes in reverse order, and for each
input ``dE_d<input> += <local derivative> * dE_d<node>``, the local derivative read off
the op's own rule (``autograd_lite.expressions``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from autograd_lite.export.languages import RESERVED, Writer, number, printed
from autograd_lite.export.ops import OpWriter, helper_names, is_constant
from autograd_lite.names import is_target
from autograd_lite.narrate import formula  # the notes' way to write an op: σ(z)
from autograd_lite.notation import partial
from autograd_lite.program import Program

ROOT = "E"  # the notes' name for the error, whatever the loss's label

# what a file says of each kind of leaf it declares
_LEAF_KINDS = {
    "parameter": "a parameter: learning changes it",
    "input": "an input: data of the sample",
    "target": "a target: what the output should be",
    "constant": "a constant",
}


def identifier(label: str) -> str:
    """A node's label as a name every language accepts: the one place labels become names.

    >>> identifier("L0.n3.w1"), identifier("e0^2"), identifier("x0")
    ('L0_n3_w1', 'e0_2', 'x0')
    """
    name = re.sub(r"\W+", "_", label, flags=re.ASCII).strip("_")
    if not name or name[0].isdigit():
        name = "v_" + name
    return name


def literal(x: float) -> str:
    """A number to be written inside an expression: negative ones in parentheses, so that
    ``-x`` never reads ``--0.5``.

    >>> literal(0.5), literal(-0.5)
    ('0.5', '(-0.5)')
    """
    text = number(x)
    return f"({text})" if text.startswith("-") else text


def symbol(x: float) -> str:
    """A number as a comment writes it: every digit, as the file prints it, without a
    whole number's ``.0`` (``e0^2 × 0.5``, ``leaky_relu(z, 0.01)``, ``x^2``).

    >>> symbol(0.5), symbol(2.0), symbol(0.1 + 0.2), symbol(1e-07)
    ('0.5', '2', '0.30000000000000004', '1e-07')
    """
    text = printed(x)
    return text[:-2] if text.endswith(".0") else text


def gradient_name(name: str) -> str:
    """The variable that holds ∂E/∂(name).

    >>> gradient_name("L0_n3_w1")
    'dE_dL0_n3_w1'
    """
    return f"d{ROOT}_d{name}"


class StraightLine:
    """Forward and backward statements of ``program``, one per node and per edge.

    ``names`` fixes the expression of some nodes (the loop form passes ``L1_a[0]`` for a
    model output the loss reads), ``gradients`` the expression of their gradient;
    ``wanted`` are the leaves whose gradient is computed (by default the parameters);
    ``reserved`` are names the rest of the file uses.
    """

    def __init__(
        self,
        program: Program,
        ops: OpWriter,
        names: Mapping[int, str] | None = None,
        gradients: Mapping[int, str] | None = None,
        wanted: Iterable[int] | None = None,
        reserved: Iterable[str] = (),
    ) -> None:
        self.program = program
        self.ops = ops
        self.names = self._names(dict(names or {}), reserved)
        wanted = set(program.parameters if wanted is None else wanted)
        needs = [False] * len(program)
        for i, (op, args) in enumerate(zip(program.ops, program.args)):
            needs[i] = i in wanted or (bool(op) and any(needs[a] for a in args))
        needs[program.loss] = True  # ∂E/∂E = 1, even when E reaches none of the wanted
        self.needs = needs
        self.gradients = {
            i: (gradients or {}).get(i) or gradient_name(self.names[i])
            for i in range(len(program))
            if needs[i]
        }
        labels = program.labels
        self.symbols = [
            labels[i] or (self.names[i] if program.ops[i] else symbol(program.values[i]))
            for i in range(len(program))
        ]
        self.symbols[program.loss] = ROOT

    def _names(self, fixed: dict[int, str], reserved: Iterable[str]) -> list[str]:
        program, names = self.program, []
        # E is the loss's, whatever it is labelled; the file's own names are not for nodes
        taken = {*RESERVED, *helper_names(), *reserved, ROOT, gradient_name(ROOT)}
        constants = set(program.constants)
        for i, label in enumerate(program.labels):
            if i in fixed:
                names.append(fixed[i])
                continue
            if i in constants and not label:  # a number written in the code
                names.append(literal(program.values[i]))
                continue
            if i == program.loss:
                names.append(ROOT)
                continue
            name = identifier(label) if label else f"v{i}"
            while name in taken or gradient_name(name) in taken:
                name = f"{name}_{i}"
            taken.update((name, gradient_name(name)))
            names.append(name)
        return names

    # --- what the file declares ----------------------------------------------------------

    def leaves(self) -> list[tuple[str, float, str, str]]:
        """(name, value, kind, what) of each leaf that is a variable: ``kind`` is "parameter",
        "input", "target" or "constant", and ``what`` says it in words."""
        program, rows = self.program, []
        parameters, inputs = set(program.parameters), set(program.inputs)
        for i, op in enumerate(program.ops):
            if op or not _is_variable(self.names[i]):
                continue
            if i in parameters:
                kind = "parameter"
            elif i in inputs:
                kind = "input"
            elif is_target(program.labels[i]):
                kind = "target"
            else:
                kind = "constant"
            rows.append((self.names[i], program.values[i], kind, _LEAF_KINDS[kind]))
        return rows

    def computed(self) -> list[str]:
        """Variables of computed nodes and of gradients, for declarations."""
        program = self.program
        values = [self.names[i] for i, op in enumerate(program.ops) if op]
        grads = [g for g in self.gradients.values() if _is_variable(g)]
        return values + grads

    def parameter_names(self) -> list[tuple[str, str]]:
        """(value variable, gradient variable) of each parameter, in trace order."""
        return [(self.names[i], self.gradients[i]) for i in self.program.parameters]

    # --- the passes -----------------------------------------------------------------------

    def write_forward(self, w: Writer) -> None:
        program, names = self.program, self.names
        for i, (op, args) in enumerate(zip(program.ops, program.args)):
            if not op:
                continue
            inputs = [names[a] for a in args]
            expression = self.ops.forward(op, inputs)
            notation = formula(op, [self.symbols[a] for a in args])
            symbol = self.symbols[i]  # an unnamed node's symbol is its formula: say it once
            # where the engine refuses: Python checks first (its math would raise another
            # error), C and JavaScript after (they would go on with inf or NaN)
            check = self.ops.check(op, inputs, names[i])
            if check and w.language == "python":
                w.line(check, "as the engine refuses")
            w.assign(
                names[i], expression, notation if symbol == notation else f"{symbol} = {notation}"
            )
            if check and w.language != "python":
                w.line(f"{check};", "as the engine refuses")

    def write_backward(self, w: Writer) -> None:
        """The chain rule, node by node from E back: a gradient is set by its first
        contribution and then adds the others (one per path)."""
        program, names, grads = self.program, self.names, self.gradients
        contributed = {program.loss} | {a for i in range(len(program)) if self.needs[i]
                                        and program.ops[i] for a in program.args[i]}  # fmt: skip
        for i in sorted(grads):
            if i not in contributed:  # nothing flows into it: its gradient is 0
                w.assign(
                    grads[i], "0.0", f"{partial(ROOT, self.symbols[i])} = 0: E does not use it"
                )
        w.assign(grads[program.loss], "1.0", f"∂{ROOT}/∂{ROOT} = 1")
        started = set()
        for i in range(len(program) - 1, -1, -1):
            op, args = program.ops[i], program.args[i]
            if not op or not self.needs[i]:
                continue
            upstream = grads[i]
            inputs = [names[a] for a in args]
            for k, a in enumerate(args):
                if not self.needs[a]:
                    continue
                local = self.ops.derivative(op, k, inputs, names[i])
                node, arg = self.symbols[i], self.symbols[a]
                first = a not in started
                started.add(a)
                sign = "=" if first else "+="
                local_name = partial(node, arg)
                if i == program.loss:  # the same symbol twice: say which one is local
                    local_name = f"(local {local_name})"
                chain = f"{local_name} × {partial(ROOT, node)}"
                comment = f"{partial(ROOT, arg)} {sign} {chain}"
                add_scaled(w, grads[a], local, upstream, comment, first=first)

    def forward_scalars(self) -> list[str]:
        """Plain variables the forward pass assigns (Python functions declare them global)."""
        return [self.names[i] for i, op in enumerate(self.program.ops) if op]

    def backward_scalars(self) -> list[str]:
        """Plain variables the backward pass assigns."""
        return [g for g in self.gradients.values() if _is_variable(g)]


def add_scaled(
    w: Writer, target: str, local: str, upstream: str, comment: str, first: bool = False
) -> None:
    """``target += local * upstream`` (``=`` when ``first``), without a factor of 1 or -1."""
    factor = is_constant(local)
    if first:
        product = {1.0: upstream, -1.0: f"-{upstream}"}.get(factor, f"{local} * {upstream}")
        w.assign(target, product, comment)
    elif factor == 1.0:
        w.add_to(target, upstream, comment)
    elif factor == -1.0:
        w.subtract_from(target, upstream, comment)
    else:
        w.add_to(target, f"{local} * {upstream}", comment)


def _is_variable(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_]\w*", name) is not None
