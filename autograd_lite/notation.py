"""The notes' notation as text: symbols, numbers, what to call a node, one backward step.

* ``to_ascii(text)`` -- ∂ × σ − ... spelled d * sigma - ... ;
* ``rounded(x)`` and ``factor(x)`` -- a number as narrations write it (a factor of a
  product in parentheses when negative);
* ``name_of(node)`` and ``names_in_order(order)`` -- what to call one node, and a distinct
  name for every node of a graph (the root is E);
* ``partial(upper, lower)`` -- ∂upper/∂lower;
* ``describe_step(step)`` -- one chain-rule application as a line (what ``str(step)`` of a
  backward step prints).

This module imports nothing else of the project, so the engine, the stepper and the pictures
can all speak through it. A node is anything with ``label``, ``op`` and ``data``; a step is
anything with the attributes of ``Step`` below.

>>> print(partial("E", "w1"), "=", factor(-0.25), "×", rounded(2.0))
∂E/∂w1 = (-0.25) × 2
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "ERROR",
    "Node",
    "Step",
    "describe_step",
    "factor",
    "in_derivative",
    "name_of",
    "namer",
    "names_in_order",
    "numbered",
    "rounded",
    "partial",
    "shown",
    "subscript",
    "superscript",
    "to_ascii",
]

ERROR = "E"  # what narrations call the root of a graph, whatever its label


class Node(Protocol):
    """What naming needs of a node (``autograd_lite.Value`` has it)."""

    label: str
    op: str
    data: float


class Step(Protocol):
    """What ``describe_step`` needs of one chain-rule application: ``input.grad`` grew by
    ``contribution = local_grad × upstream`` and is now ``input_grad``."""

    @property
    def node(self) -> Node: ...
    @property
    def input(self) -> Node: ...
    @property
    def local_grad(self) -> float: ...
    @property
    def upstream(self) -> float: ...
    @property
    def contribution(self) -> float: ...
    @property
    def input_grad(self) -> float: ...


# --- symbols and numbers ------------------------------------------------------------------

_ASCII = {"∂": "d", "×": "*", "σ": "sigma", "Σ": "sum", "−": "-", "→": "->", "←": "<-",
          "√": "sqrt", "·": ".", "½": "1/2", "…": "...", "′": "'",
          "δ": "delta", "⊙": "(.)", "ᵀ": "^T", "ᴸ": "^L", "ˡ": "^l"}  # fmt: skip
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
_RAISED = str.maketrans("0123456789-", _SUPERSCRIPT_DIGITS)
_LOWERED = str.maketrans(_SUPERSCRIPT_DIGITS, "0123456789-")
_SUPERSCRIPT_RUN = re.compile(f"[{_SUPERSCRIPT_DIGITS}]+")
_SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"
_SUNK = str.maketrans("0123456789", _SUBSCRIPT_DIGITS)
_RISEN = str.maketrans(_SUBSCRIPT_DIGITS, "0123456789")
_SUBSCRIPT_RUN = re.compile(f"[{_SUBSCRIPT_DIGITS}]+")


def superscript(n: int) -> str:
    """A layer number as the layer equations write it: W¹, a⁻¹.

    >>> superscript(1) + superscript(-1) + superscript(12)
    '¹⁻¹¹²'
    """
    return str(n).translate(_RAISED)


def subscript(n: int) -> str:
    """A node's position as the names of unlabelled nodes write it: *₃, tanh₁₂.

    >>> subscript(3) + " " + subscript(12)
    '₃ ₁₂'
    """
    return str(n).translate(_SUNK)


def to_ascii(text: str) -> str:
    """The same text with ∂ × σ − ... spelled in plain ASCII (d * sigma - ...), raised
    numbers after a caret (x² is x^2, a⁻¹ is a^-1) and lowered ones after an underscore
    (*₃ is *_3).

    >>> to_ascii("∂E/∂w = 0.5 × σ(z)")
    'dE/dw = 0.5 * sigma(z)'
    >>> to_ascii("δ¹ = (W²)ᵀ δ² ⊙ σ′(z¹)")
    "delta^1 = (W^2)^T delta^2 (.) sigma'(z^1)"
    >>> to_ascii("∂E/∂(*₁₂)")
    'dE/d(*_12)'
    """
    text = _SUPERSCRIPT_RUN.sub(lambda run: "^" + run[0].translate(_LOWERED), text)
    text = _SUBSCRIPT_RUN.sub(lambda run: "_" + run[0].translate(_RISEN), text)
    for symbol, spelled in _ASCII.items():
        text = text.replace(symbol, spelled)
    return text


def shown(x: float, spec: str = "g") -> str:
    """``format(x, spec)`` without the minus sign of a number that shows as zero: a weight
    or a coordinate that rounds to zero from below would print as ``-0`` (or ``-0.0000``),
    which reads like a sign that matters.

    >>> shown(-0.0), shown(-1e-9, ".3g"), shown(-1e-9, ".4f"), shown(-0.5, ".2f")
    ('0', '-1e-09', '0.0000', '-0.50')
    """
    text = format(x, spec)
    if text.startswith("-") and text.strip("-0.e+%") == "":  # every digit is a zero
        return text[1:]
    return text


def rounded(x: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; zero is 0, never -0.

    >>> rounded(0.123456), rounded(3.0), rounded(-2e-7, 2), rounded(-0.0)
    ('0.1235', '3', '-2e-07', '0')
    """
    return shown(x, f".{digits}g")


def factor(x: float, digits: int = 4) -> str:
    """A number inside a product or a sum: negative ones in parentheses, so signs read well.

    >>> factor(-0.5), factor(0.5)
    ('(-0.5)', '0.5')
    """
    text = rounded(x, digits)
    return f"({text})" if text.startswith("-") else text


# --- names --------------------------------------------------------------------------------

_SIMPLE_NAME = re.compile(r"[A-Za-z_][\w.#]*")


def name_of(node: Node) -> str:
    """A node's label; else its operation, or its value for a constant: what a node is
    called when its graph is unknown (in a graph, ``names_in_order`` numbers unlabelled
    operations).

    >>> from types import SimpleNamespace as Node
    >>> name_of(Node(label="x", op="", data=2.0)), name_of(Node(label="", op="*", data=6.0))
    ('x', '*')
    >>> name_of(Node(label="", op="", data=0.5))
    '0.5'
    """
    return node.label or node.op or rounded(node.data)


def numbered(op: str, position: int) -> str:
    """The name of an unlabelled operation in a graph: its op and, lowered, its position in
    ``topological_order(root)`` -- the number of its box ``node{position}`` in the pictures.

    >>> numbered("*", 3), numbered("tanh", 12)
    ('*₃', 'tanh₁₂')
    """
    return f"{op}{subscript(position)}"


def names_in_order(order: Sequence[Node]) -> dict[Node, str]:
    """A distinct name for every node of a graph given inputs first, root last.

    The one naming rule of narrations: ``explain``, the stepper, the step page and the
    pictures all call nodes this. The root is E. A labelled node is its label; an
    unlabelled operation is its op numbered by its position in ``order`` (``numbered``:
    two unlabelled ``*`` never read alike); a name used again (a network called on several
    samples) gets ``#2``, ``#3``... Constants (unlabelled leaves) are their value.

    >>> from types import SimpleNamespace
    >>> class Node(SimpleNamespace):
    ...     __hash__ = object.__hash__
    >>> x, y = Node(label="x", op="", data=3.0), Node(label="x", op="", data=1.0)
    >>> p, q = Node(label="", op="*", data=3.0), Node(label="", op="*", data=1.0)
    >>> list(names_in_order([x, y, p, q, Node(label="", op="+", data=4.0)]).values())
    ['x', 'x#2', '*₂', '*₃', 'E']
    >>> inner = Node(label="E", op="+", data=4.0)       # a loss, then a penalty added to it
    >>> list(names_in_order([x, inner, Node(label="", op="+", data=5.0)]).values())
    ['x', 'E#2', 'E']
    """
    names: dict[Hashable, str] = {}
    seen: dict[str, int] = {ERROR: 1}  # the root is E: a loss inside a bigger one is E#2
    root = order[-1] if order else None
    for position, node in enumerate(order):
        if node is root:
            names[node] = ERROR
            continue
        if not node.label and not node.op:
            names[node] = name_of(node)  # a constant: its value says which one it is
            continue
        base = node.label or numbered(node.op, position)
        count = seen[base] = seen.get(base, 0) + 1
        names[node] = base if count == 1 else f"{base}#{count}"
    return names  # type: ignore[return-value]


def in_derivative(name: str) -> str:
    """A name as it stands after ∂: in parentheses unless it is a plain identifier.

    >>> in_derivative("w1"), in_derivative("e0^2")
    ('w1', '(e0^2)')
    """
    return name if _SIMPLE_NAME.fullmatch(name) else f"({name})"


def partial(upper: str, lower: str) -> str:
    """The derivative of one named node with respect to another, as the notes write it.

    >>> partial("E", "w1"), partial("L1.n0.z", "*₂")
    ('∂E/∂w1', '∂L1.n0.z/∂(*₂)')
    """
    return f"∂{in_derivative(upper)}/∂{in_derivative(lower)}"


def namer(names: Mapping[Node, str] | None) -> Callable[[Node], str]:
    """What to call a node: its entry in ``names`` if any, else ``name_of``.

    >>> from types import SimpleNamespace as Node
    >>> namer(None)(Node(label="w", op="", data=1.0))
    'w'
    """
    if not names:
        return name_of
    return lambda node: names.get(node) or name_of(node)


# --- one backward step ---------------------------------------------------------------------


def describe_step(
    step: Step,
    *,
    names: Mapping[Node, str] | None = None,
    ascii: bool = False,
    digits: int = 4,
) -> str:
    """One chain-rule application as a line: the input's blame grows by upstream × local.

    ``names`` (e.g. from ``names_in_order``) tells what to call each node; by default
    nodes go by their labels.

    >>> from types import SimpleNamespace as Record
    >>> x, y = Record(label="x", op="", data=3.0), Record(label="y", op="*", data=9.0)
    >>> step = Record(node=y, input=x, local_grad=3.0, upstream=1.0, contribution=3.0,
    ...               input_grad=3.0)
    >>> print(describe_step(step))
    ∂E/∂x += ∂E/∂y × ∂y/∂x = 1 × 3 = 3  (x.grad = 3)
    >>> print(describe_step(step, ascii=True))
    dE/dx += dE/dy * dy/dx = 1 * 3 = 3  (x.grad = 3)
    """
    name = namer(names)
    node, input_ = name(step.node), name(step.input)
    text = (
        f"{partial(ERROR, input_)} += {partial(ERROR, node)} × {partial(node, input_)}"
        f" = {factor(step.upstream, digits)} × {factor(step.local_grad, digits)}"
        f" = {rounded(step.contribution, digits)}"
        f"  ({input_}.grad = {rounded(step.input_grad, digits)})"
    )
    carried = getattr(step, "carried", 0.0)  # a leaf's gradient from an earlier backward()
    if carried:
        text += (
            f"  [{input_}.grad already held {rounded(carried, digits)} from an earlier"
            f" backward(): leaf gradients add up until zero_grad()]"
        )
    return to_ascii(text) if ascii else text
