"""Words for the chain rule, in the notation of the notes: w, b, z, a and the error E.

* ``describe_forward(node)`` -- how one node was computed from its inputs;
* ``node_names(root)`` -- a distinct name for every node of a graph (the root is E);
* ``role_note(node)`` -- what a node is, in the notes' words;
* and, from the modules that own them: ``describe_step`` and the symbols
  (``autograd_lite.notation``), ``chains`` (``autograd_lite.chains``) and ``explain``
  (``autograd_lite.explanation``).

Text is Unicode (∂, ×, σ, −) unless ``ascii=True``. Nodes are called by their labels; the
network core's labels (``L1.n0.w0``, ``L1.n0.b``, ``L1.n0.z``, ``L1.n0.a``, inputs ``x0``;
see ``autograd_lite.names``) tell the narration which node is a weight, a bias, a weighted
input or an activation. The root of the graph is always called E. Nothing here changes a
gradient.

>>> from autograd_lite import Value
>>> w, x = Value(0.5, label="L0.n0.w0"), Value(2.0, label="x0")
>>> z = w * x; z.label = "L0.n0.z"
>>> a = z.tanh()
>>> print(describe_forward(a, names=node_names(a)))
E = tanh(L0.n0.z) = tanh(1) = 0.7616
>>> role_note(w)
' (a weight w)'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from autograd_lite.chains import Chain, Link, chains
from autograd_lite.engine import Value, topological_order
from autograd_lite.explanation import explain
from autograd_lite.names import (
    Role,
    WeightedSumParts,
    is_constant_or_target,
    parse,
    weighted_sum_parts,
)
from autograd_lite.notation import (
    describe_step,
    factor,
    in_derivative,
    name_of,
    namer,
    names_in_order,
    partial,
    rounded,
    to_ascii,
)

__all__ = [
    "Chain",
    "Link",
    "chains",
    "describe_forward",
    "describe_step",
    "explain",
    "formula",
    "in_derivative",
    "name_of",
    "node_names",
    "partial",
    "role_note",
    "to_ascii",
]


def node_names(root: Value) -> dict[Value, str]:
    """A distinct name for every node of the graph: what narrations call it.

    The root is E. A node is called by its label, an unlabelled operation by its op and its
    position in ``topological_order(root)``, lowered (``*₁``: the picture's box
    ``node1``), so two unlabelled ``*`` never read alike; a label used again (a network
    called on several samples) gets ``#2``, ``#3``... Unlabelled leaves (constants) are
    their value. See ``notation.names_in_order``.

    >>> x, y = Value(3.0, label="x"), Value(2.0, label="y")
    >>> list(node_names(x * y + y * y).values())
    ['x', 'y', '*₂', '*₃', 'E']
    """
    return names_in_order(topological_order(root))


def role_note(node: Value) -> str:
    """' (a weight w)' and such: what a node is, in the notes' words ('' if unknown).

    >>> role_note(Value(0.4, label="L1.n0.w0")), role_note(Value(2.0))
    (' (a weight w)', ' (a constant: nothing to learn, its gradient is not used)')
    >>> role_note(Value(0.99, label="t1"))
    ' (a target: nothing to learn, its gradient is not used)'
    """
    name = parse(node.label)
    if name is not None and (name.role.in_neuron or name.role is Role.INPUT):
        words = name.role.value
        return f" ({'an' if words[0] in 'aeiou' else 'a'} {words})"
    if is_constant_or_target(node):
        what = "target" if node.label else "constant"
        return f" (a {what}: nothing to learn, its gradient is not used)"
    return ""


# op -> how to write it, given its operands (names or numbers); ops not listed: op(a, b)
_FORMULAS: dict[str, Callable[[Sequence[str]], str]] = {
    "+": lambda o: f"{o[0]} + {o[1]}",
    "-": lambda o: f"{o[0]} − {o[1]}",
    "*": lambda o: f"{o[0]} × {o[1]}",
    "/": lambda o: f"{o[0]} / {o[1]}",
    "**": lambda o: f"{o[0]}^{o[1]}",
    "neg": lambda o: f"−{o[0]}",
    "abs": lambda o: f"|{o[0]}|",
    "sigmoid": lambda o: f"σ({o[0]})",
    "log": lambda o: f"ln({o[0]})",
    "sqrt": lambda o: f"√({o[0]})",
    "sum": " + ".join,
    "weighted_sum": lambda o: _weighted_sum_formula(weighted_sum_parts(o)),
}


def _weighted_sum_formula(parts: WeightedSumParts[str]) -> str:
    products = [f"{w}×{a}" for w, a in zip(parts.weights, parts.activations)]
    return " + ".join([*products, parts.bias])


def formula(op: str, operands: Sequence[str]) -> str:
    """How the notes write the operation ``op`` on its operands (names or numbers).

    >>> formula("*", ["w", "x"]), formula("weighted_sum", ["w0", "w1", "x0", "x1", "b"])
    ('w × x', 'w0×x0 + w1×x1 + b')
    >>> formula("tanh", ["z"])
    'tanh(z)'
    """
    if op in _FORMULAS:
        return _FORMULAS[op](operands)
    return f"{op}({', '.join(operands)})"


def describe_forward(
    node: Value,
    *,
    names: Mapping[Value, str] | None = None,
    ascii: bool = False,
    digits: int = 4,
) -> str:
    """How ``node`` was computed: its formula in names, then in numbers, then its value.

    >>> w, x, b = Value(0.15, "w"), Value(0.05, "x"), Value(0.35, "b")
    >>> z = w * x + b; z.label = "z"
    >>> print(describe_forward(z.sigmoid()))
    sigmoid = σ(z) = σ(0.3575) = 0.5884
    >>> print(describe_forward(z))
    z = (*) + b = 0.0075 + 0.35 = 0.3575
    >>> print(describe_forward(w))
    w = 0.15
    """
    if not isinstance(node, Value):
        raise TypeError(
            f"describe_forward(node): expected a Value (a ForwardStep's .node), "
            f"not {type(node).__name__}"
        )
    name = namer(names)
    if not node.inputs:
        text = f"{name(node)} = {rounded(node.data, digits)}"
    else:
        in_names = [in_derivative(name(v)) if v.op else name(v) for v in node.inputs]
        in_numbers = [factor(v.data, digits) for v in node.inputs]
        in_symbols = formula(node.op, in_names)
        in_words = "" if in_symbols == name(node) else f" = {in_symbols}"  # a label like 'e0^2'
        result = rounded(node.data, digits)
        text = f"{name(node)}{in_words} = {formula(node.op, in_numbers)} = {result}"
    return to_ascii(text) if ascii else text
