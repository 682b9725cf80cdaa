"""Words for the chain rule, in the notation of the notes: w, b, z, a and the error E.

* ``describe_step(step)`` -- one backward step (what ``str(step)`` prints);
* ``describe_forward(node)`` -- how one node was computed from its inputs;
* ``chains(loss)`` and ``explain(loss)`` -- for every parameter, its gradient written out as
  a product of local derivatives along the path from E down to it, and, where paths meet
  (a hidden neuron feeding several others), how the blame arrives along each path.

Text is Unicode (∂, ×, σ, −) unless ``ascii=True``. Nodes are called by their labels; the
network core's labels (``L1.n0.w0``, ``L1.n0.b``, ``L1.n0.z``, ``L1.n0.a``, inputs ``x0``)
tell the narration which node is a weight, a bias, a weighted input or an activation. The
root of the graph is always called E. Nothing here changes a gradient.

>>> from autograd_lite import Value
>>> w = Value(0.5, label="w")
>>> x = Value(2.0, label="x")
>>> z = w * x; z.label = "z"
>>> a = z.tanh(); a.label = "a"
>>> print(explain(a))
E = a = 0.7616
<BLANKLINE>
∂E/∂w = ∂E/∂z × ∂z/∂w
      = 0.42 × 2 = 0.8399
<BLANKLINE>
∂E/∂x = ∂E/∂z × ∂z/∂x
      = 0.42 × 0.5 = 0.21
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from autograd_lite.engine import Value, topological_order

if TYPE_CHECKING:  # BackwardStep.__str__ narrates itself with this module
    from autograd_lite.debugging import BackwardStep

__all__ = [
    "Chain",
    "Link",
    "chains",
    "describe_forward",
    "describe_step",
    "explain",
    "in_derivative",
    "name_of",
    "node_names",
    "partial",
    "role_note",
    "role_of",
    "to_ascii",
    "weighted_sum_parts",
]

# --- symbols and numbers ------------------------------------------------------------------

_ASCII = {"∂": "d", "×": "*", "σ": "sigma", "Σ": "sum", "−": "-", "→": "->", "←": "<-",
          "√": "sqrt", "·": ".", "½": "1/2", "²": "^2", "…": "...", "′": "'"}  # fmt: skip


def to_ascii(text: str) -> str:
    """The same text with ∂ × σ − ... spelled in plain ASCII (d * sigma - ...).

    >>> to_ascii("∂E/∂w = 0.5 × σ(z)")
    'dE/dw = 0.5 * sigma(z)'
    """
    for symbol, spelled in _ASCII.items():
        text = text.replace(symbol, spelled)
    return text


def _number(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


def _factor(x: float, digits: int = 4) -> str:
    """A number inside a product or a sum: negative ones in parentheses, so signs read well."""
    text = _number(x, digits)
    return f"({text})" if text.startswith("-") else text


# --- names and roles ----------------------------------------------------------------------

_ROLES = (
    (re.compile(r"L\d+\.n\d+\.w\d+"), "weight w"),
    (re.compile(r"L\d+\.n\d+\.b"), "bias b"),
    (re.compile(r"L\d+\.n\d+\.z"), "weighted input z"),
    (re.compile(r"L\d+\.n\d+\.a"), "activation a"),
    (re.compile(r"x\d+"), "input"),
)
_NETWORK_ROLES = ("weight w", "bias b", "weighted input z", "activation a")
_SIMPLE_NAME = re.compile(r"[A-Za-z_][\w.#]*")


def role_of(label: str) -> str | None:
    """What a node is in the notes' words, read from a network-core label (else None).

    >>> role_of("L1.n0.w0"), role_of("L0.n1.a"), role_of("x1"), role_of("loss")
    ('weight w', 'activation a', 'input', None)
    """
    for pattern, role in _ROLES:
        if pattern.fullmatch(label):
            return role
    return None


def role_note(node: Value) -> str:
    """' (a weight w)' and such: what a node is, in the notes' words ('' if unknown).

    >>> role_note(Value(0.4, label="L1.n0.w0")), role_note(Value(2.0))
    (' (a weight w)', ' (a constant: nothing to learn, its gradient is not used)')
    """
    role = role_of(node.label)
    if role:
        return f" ({'an' if role[0] in 'aeiou' else 'a'} {role})"
    if not node.inputs and (not node.label or re.fullmatch(r"t\d+", node.label)):
        what = "target" if node.label else "constant"
        return f" (a {what}: nothing to learn, its gradient is not used)"
    return ""


def _neuron_of(label: str) -> str:
    """'L1.n0' for 'L1.n0.w0' (only meaningful for network-core labels)."""
    return label.rsplit(".", 1)[0]


def name_of(node: Value) -> str:
    """A node's label; else its operation, or its value for a constant.

    >>> name_of(Value(2.0, label="x")), name_of(Value(2.0) * 3), name_of(Value(0.5))
    ('x', '*', '0.5')
    """
    return node.label or node.op or _number(node.data)


def node_names(root: Value) -> dict[Value, str]:
    """A distinct name for every node of the graph: what narrations call it.

    The root is E. A node is called by its label; a label used again (a network called on
    several samples) gets ``#2``, ``#3``... Unlabelled operations are ``op#1``, ``op#2``...
    and unlabelled leaves (constants) are their value.

    >>> x = Value(3.0, label="x")
    >>> names = node_names(x * x + 1)
    >>> sorted(names.values())
    ['*#1', '1', 'E', 'x']
    """
    names: dict[Value, str] = {}
    seen: dict[str, int] = {}
    for node in topological_order(root):
        if node is root:
            names[node] = "E"
            continue
        if node.label:
            base, unnumbered = node.label, True
        elif node.op:
            base, unnumbered = node.op, False
        else:
            names[node] = _number(node.data)
            continue
        count = seen[base] = seen.get(base, 0) + 1
        names[node] = base if unnumbered and count == 1 else f"{base}#{count}"
    return names


def in_derivative(name: str) -> str:
    """A name as it stands after ∂: in parentheses unless it is a plain identifier.

    >>> in_derivative("w1"), in_derivative("e0^2")
    ('w1', '(e0^2)')
    """
    return name if _SIMPLE_NAME.fullmatch(name) else f"({name})"


def partial(upper: str, lower: str) -> str:
    """The derivative of one named node with respect to another, as the notes write it.

    >>> partial("E", "w1"), partial("L1.n0.z", "*#1")
    ('∂E/∂w1', '∂L1.n0.z/∂(*#1)')
    """
    return f"∂{in_derivative(upper)}/∂{in_derivative(lower)}"


def weighted_sum_parts(node: Value) -> tuple[tuple[Value, ...], tuple[Value, ...], Value]:
    """The weights, the activations and the bias of a ``weighted_sum`` node.

    Its inputs are stored in one tuple (w_1..w_n, a_1..a_n, b); this splits them.

    >>> from autograd_lite import weighted_sum
    >>> z = weighted_sum([Value(0.5, "w0")], [Value(2.0, "x0")], Value(0.1, "b"))
    >>> [[v.label for v in part] for part in weighted_sum_parts(z)[:2]]
    [['w0'], ['x0']]
    """
    if node.op != "weighted_sum":
        raise ValueError(f"weighted_sum_parts: expected a weighted_sum node, got op {node.op!r}")
    n = (len(node.inputs) - 1) // 2
    return node.inputs[:n], node.inputs[n : 2 * n], node.inputs[-1]


def _namer(names: Mapping[Value, str] | None) -> Callable[[Value], str]:
    return (lambda node: names.get(node) or name_of(node)) if names else name_of


# --- one backward step ---------------------------------------------------------------------


def describe_step(
    step: BackwardStep,
    *,
    names: Mapping[Value, str] | None = None,
    ascii: bool = False,
    digits: int = 4,
) -> str:
    """One chain-rule application as a line: the input's blame grows by upstream × local.

    ``names`` (e.g. from ``node_names(root)``) tells what to call each node; by default
    nodes go by their labels.

    >>> from autograd_lite import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x; y.label = "y"
    >>> print(next(y.backward_steps()))
    ∂E/∂x += ∂E/∂y × ∂y/∂x = 1 × 3 = 3  (x.grad = 3)
    >>> print(describe_step(next(y.backward_steps()), ascii=True))  # x.grad accumulates
    dE/dx += dE/dy * dy/dx = 1 * 3 = 3  (x.grad = 6)
    """
    name = _namer(names)
    node, input_ = name(step.node), name(step.input)
    text = (
        f"{partial('E', input_)} += {partial('E', node)} × {partial(node, input_)}"
        f" = {_factor(step.upstream, digits)} × {_factor(step.local_grad, digits)}"
        f" = {_number(step.contribution, digits)}"
        f"  ({input_}.grad = {_number(step.input_grad, digits)})"
    )
    return to_ascii(text) if ascii else text


# --- one forward step ----------------------------------------------------------------------

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
    "weighted_sum": lambda o: " + ".join(
        [f"{w}×{a}" for w, a in zip(o[: len(o) // 2], o[len(o) // 2 : -1])] + [o[-1]]
    ),
}


def _formula(op: str, operands: Sequence[str]) -> str:
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

    Also accepts a ``ForwardStep`` (anything with a ``node`` attribute).

    >>> from autograd_lite import Value
    >>> w, x, b = Value(0.15, "w"), Value(0.05, "x"), Value(0.35, "b")
    >>> z = w * x + b; z.label = "z"
    >>> print(describe_forward(z.sigmoid()))
    sigmoid = σ(z) = σ(0.3575) = 0.5884
    >>> print(describe_forward(z))
    z = (*) + b = 0.0075 + 0.35 = 0.3575
    >>> print(describe_forward(w))
    w = 0.15
    """
    node = getattr(node, "node", node)
    name = _namer(names)
    if not node.inputs:
        text = f"{name(node)} = {_number(node.data, digits)}"
    else:
        in_names = [in_derivative(name(v)) if v.op else name(v) for v in node.inputs]
        in_numbers = [_factor(v.data, digits) for v in node.inputs]
        formula = _formula(node.op, in_names)
        in_words = "" if formula == name(node) else f" = {formula}"  # a label like 'e0^2'
        text = (
            f"{name(node)}{in_words} = {_formula(node.op, in_numbers)} = "
            f"{_number(node.data, digits)}"
        )
    return to_ascii(text) if ascii else text


# --- gradients as chains of local derivatives -----------------------------------------------


@dataclass(frozen=True)
class Link:
    """A local derivative ∂upper/∂lower between two named nodes.

    Unnamed nodes in between (a loss's arithmetic, the products inside an op-by-op neuron)
    are folded in: ``derivative`` is the sum over the paths through them.
    """

    upper: Value
    lower: Value
    derivative: float


@dataclass(frozen=True)
class Chain:
    """∂E/∂target as a product of local derivatives along one path.

    The path starts at E (``from_error``) or at the nearest node where several paths meet,
    whose own gradient ``start_grad`` (the sum over those paths) is then the first factor.
    ``links`` go from ``start`` down to ``target``. ``gradient`` is the engine's number for
    ∂E/∂target (for one path into a meeting point: that path's share); ``product()`` of
    the factors equals it up to rounding.
    """

    target: Value
    start: Value
    start_grad: float
    links: tuple[Link, ...]
    gradient: float
    from_error: bool

    def factors(self) -> list[float]:
        """The numbers that multiply to the gradient."""
        head = [] if self.from_error else [self.start_grad]
        return head + [link.derivative for link in self.links]

    def product(self) -> float:
        """The factors multiplied: the chain rule's answer, equal to ``gradient``."""
        return math.prod(self.factors())


def _region_links(upper: Value, is_stop: Callable[[Value], bool]) -> list[Link]:
    """Links from ``upper`` to the named nodes right below it, through unnamed ones.

    A small backward pass seeded at ``upper`` that does not go past named nodes.
    """
    order = topological_order(upper, stop=is_stop)  # the region: named nodes end it
    derivatives = _backpropagate(order, passes_through=lambda node: not is_stop(node))
    return [Link(upper, n, derivatives[n]) for n in order if n is not upper and is_stop(n)]


def _backpropagate(
    order: Sequence[Value], passes_through: Callable[[Value], bool] = lambda node: True
) -> dict[Value, float]:
    """∂order[-1]/∂node for every node, in the very order and arithmetic of ``backward()``.

    Reads ``local_grads`` only, never ``grad``. Nodes for which ``passes_through`` is False
    receive their derivative but pass nothing further down.
    """
    top = order[-1]
    derivatives = {top: 1.0}
    for node in reversed(order):
        if node is top or passes_through(node):
            upstream = derivatives.get(node, 0.0)
            for input_, local_grad in zip(node.inputs, node.local_grads):
                derivatives[input_] = derivatives.get(input_, 0.0) + local_grad * upstream
    return derivatives


class _Blame:
    """The graph seen through its named nodes: who passes blame to whom, and how much.

    In a network the named nodes are weights, biases, z, a and inputs: the loss's arithmetic
    folds into ∂E/∂a and an op-by-op neuron's products into ∂z/∂w. In any other graph every
    node but the constants is named.
    """

    def __init__(self, root: Value, parameters: Iterable[Value] = (), network: bool = False):
        chosen = set(parameters)
        self.network = network
        if network:
            self.is_stop = lambda n: n in chosen or role_of(n.label) is not None
        else:
            self.is_stop = lambda n: n in chosen or bool(n.op or n.label)
        self.root = root
        self.order = topological_order(root)
        self.position = {node: i for i, node in enumerate(self.order)}
        self.grads = _backpropagate(self.order)
        self.above: dict[Value, list[Link]] = {}  # node -> links to the nodes it feeds
        for upper in self.order:
            if upper is root or self.is_stop(upper):
                below = _region_links(upper, lambda n, u=upper: n is not u and self.is_stop(n))
                for link in below:
                    self.above.setdefault(link.lower, []).append(link)

    def is_junction(self, node: Value) -> bool:
        """Blame reaches ``node`` along more than one path."""
        return len(self.above.get(node, ())) > 1

    def chain(self, node: Value) -> Chain:
        """Up from ``node`` while the path is unique; stop at E or where paths meet."""
        links: list[Link] = []
        current = node
        while current is not self.root and len(self.above.get(current, ())) == 1:
            link = self.above[current][0]
            links.append(link)
            current = link.upper
        links.reverse()
        grad = self.grads.get(node, 0.0)
        return Chain(node, current, self.grads[current], tuple(links), grad, current is self.root)

    def paths(self, junction: Value) -> list[Chain]:
        """One chain per path into a junction: the consumer's chain, then the last link."""
        paths = []
        for link in self.above[junction]:
            upper = self.chain(link.upper)
            path = Chain(
                junction, upper.start, upper.start_grad, (*upper.links, link), 0.0, upper.from_error
            )
            paths.append(replace(path, gradient=path.product()))
        return paths


def _is_network(order: Iterable[Value]) -> bool:
    return any(role_of(node.label) in _NETWORK_ROLES for node in order)


def _layer(label: str) -> int:
    """1 for 'L1.n0.w0' (only for network-core labels)."""
    return int(label[1 : label.index(".")])


def _network_sort_key(label: str) -> tuple[int, int, int]:
    """Output layer first, then neuron by neuron: w0, w1, ..., b."""
    _, neuron, last = label.split(".")
    kind = int(last[1:]) if last.startswith("w") else 1 << 30
    return (-_layer(label), int(neuron[1:]), kind)


def _prepare(loss: object, parameters: Sequence[Value] | None) -> tuple[_Blame, list[Value]]:
    """Check the arguments, choose the default parameters and build the blame graph."""
    if not isinstance(loss, Value):
        raise TypeError(f"explain(loss): expected a Value, not {type(loss).__name__}: {loss!r}")
    for p in parameters or ():
        if not isinstance(p, Value):
            raise TypeError(f"explain(parameters): expected Values, got {type(p).__name__}: {p!r}")
    order = topological_order(loss)
    network = _is_network(order)
    if parameters is None:
        leaves = [node for node in order if not node.inputs and node.label]
        if network:
            parameters = [n for n in leaves if role_of(n.label) in ("weight w", "bias b")]
            parameters.sort(key=lambda n: _network_sort_key(n.label))
        else:
            parameters = leaves
    return _Blame(loss, parameters, network), list(parameters)


def chains(loss: Value, parameters: Sequence[Value] | None = None) -> list[Chain]:
    """For each parameter, ∂E/∂parameter as a ``Chain`` of local derivatives.

    By default the parameters are the network's weights and biases (output layer first),
    or every labelled leaf of a graph that is not a network.

    >>> from autograd_lite import Value
    >>> w = Value(3.0, label="w")
    >>> [chain] = chains(w * w * 2.0)    # ∂E/∂w = ∂E/∂(*#1) × ∂(*#1)/∂w = 2 × 6
    >>> chain.gradient, chain.factors()
    (12.0, [2.0, 6.0])
    """
    blame, parameters = _prepare(loss, parameters)
    return [
        blame.chain(p) if p in blame.position else Chain(p, p, 0.0, (), 0.0, False)
        for p in parameters
    ]


# --- the whole explanation -----------------------------------------------------------------

_LEGEND = """\
In the notes' names: w weight, b bias, z = Σ w×a_in + b weighted input, a = σ(z) activation,
E error. The gradient of a parameter (its blame) is a product of local derivatives along
the path from E down to it -- the chain rule:
  ∂E/∂a   how wrong the output was (from the error),
  ∂a/∂z   how sensitive the neuron was: σ′(z) = a(1 − a) for a sigmoid, 1 − a² for tanh,
  ∂z/∂w   the signal the weight multiplied (a_in); ∂z/∂b = 1; ∂z/∂a_in = the weight w.
Where a neuron feeds several others its blame arrives along several paths, one through
each outgoing weight, and its ∂E/∂a is their sum."""


class _Writer:
    """Chains and sums of paths as lines of text, with one naming of the nodes."""

    def __init__(self, names: Mapping[Value, str], digits: int) -> None:
        self.name = _namer(names)
        self.digits = digits

    def of_error(self, node: Value) -> str:
        """'∂E/∂node': the node's gradient, its blame for the error."""
        return partial("E", self.name(node))

    def number(self, x: float) -> str:
        return _number(x, self.digits)

    def product(self, chain: Chain, head: str, align: int) -> list[str]:
        """'head ∂E/∂a × ∂a/∂z × ∂z/∂w' over '= 0.74 × 0.19 × 0.59 = 0.082', that line's
        '=' in column ``align``."""
        symbols = [] if chain.from_error else [self.of_error(chain.start)]
        symbols += [partial(self.name(link.upper), self.name(link.lower)) for link in chain.links]
        factors = chain.factors()
        if len(factors) == 1:
            return [f"{head}{symbols[0]} = {self.number(chain.gradient)}"]
        numbers = " × ".join(_factor(f, self.digits) for f in factors)
        return [
            head + " × ".join(symbols),
            " " * align + f"= {numbers} = {self.number(chain.gradient)}",
        ]

    def chain(self, chain: Chain, indent: str = "") -> list[str]:
        """∂E/∂target written as its chain of local derivatives."""
        head = f"{indent}{self.of_error(chain.target)} = "
        if chain.start is chain.target:  # where paths meet: written as their sum already
            return []
        if len(chain.factors()) == 1:
            return [f"{head}{self.number(chain.gradient)}"]
        return self.product(chain, head, len(head) - 2)

    def junction(self, blame: _Blame, node: Value) -> list[str]:
        """How the blame of ``node`` arrives along each path, and their sum."""
        paths = blame.paths(node)
        lines = [
            f"Blame reaches {self.name(node)} along "
            f"{len(paths)} paths; {self.of_error(node)} is their sum:"
        ]
        for path in paths:
            head = f"  via {self._via(path.links[-1])}: "
            lines += self.product(path, head, len(head))
        terms = " + ".join(_factor(p.gradient, self.digits) for p in paths)
        lines.append(f"  {self.of_error(node)} = {terms} = {self.number(blame.grads[node])}")
        return lines

    def _via(self, link: Link) -> str:
        """'weight L1.n0.w0' when the path goes through a weight into a neuron, else the node
        it goes through."""
        upper = link.upper
        if upper.op == "weighted_sum":
            weights, activations, _ = weighted_sum_parts(upper)
            for weight, activation in zip(weights, activations):
                if activation is link.lower:
                    return f"weight {self.name(weight)}"
        return self.name(upper)


def explain(
    loss: Value,
    *,
    ascii: bool = False,
    parameters: Sequence[Value] | None = None,
    digits: int = 4,
    legend: bool | None = None,
) -> str:
    """The backward pass in words: every parameter's gradient as a chain of local derivatives.

    For a network (labels from ``autograd_lite.nn``) it first shows how the blame enters at
    each output (∂E/∂a, from the error), then goes neuron by neuron from the output layer
    back; before the first chain that starts where several paths meet (a hidden neuron
    feeding several others) it shows each path and their sum. ``parameters`` picks the
    leaves to explain (default: see ``chains``); ``digits`` is the number of significant
    digits; ``legend`` (default: on for networks) adds the notes' names. Reads ``data``
    and ``local_grads`` only: no gradient changes.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> print(explain(x * x + x, ascii=True))
    E = 6
    <BLANKLINE>
    Blame reaches x along 2 paths; dE/dx is their sum:
      via *#1: dE/d(*#1) * d(*#1)/dx
               = 1 * 4 = 4
      via E: dE/dx = 1
      dE/dx = 4 + 1 = 5
    """
    blame, parameters = _prepare(loss, parameters)
    network = blame.network
    writer = _Writer(node_names(loss), digits)
    named = f" = {loss.label}" if loss.label and loss.label != "E" else ""
    lines = [f"E{named} = {writer.number(loss.data)}"]
    if legend or (legend is None and network):
        lines += ["", _LEGEND]
    if network:
        lines += _entry_lines(blame, writer)
        last_layer = max(_layer(n.label) for n in blame.order if role_of(n.label) in _NETWORK_ROLES)
    explained: set[Value] = set()
    group = None
    for p in parameters:
        if p not in blame.position:
            lines += ["", f"{writer.of_error(p)} = 0  (it does not affect E)"]
            continue
        chain = blame.chain(p)
        neuron = _neuron_of(p.label) if role_of(p.label) in _NETWORK_ROLES else None
        if neuron and neuron != group:
            group = neuron
            layer = _layer(p.label)
            where = "output layer" if layer == last_layer else "hidden layer"
            lines += ["", f"Neuron {group} ({where} {layer})"]
        indent = "  " if network else ""
        for junction in _junctions_needed(blame, chain.start, explained):
            lines += [f"{indent}{line}" for line in writer.junction(blame, junction)]
        if not network and lines[-1] and not blame.is_junction(p):
            lines.append("")
        lines += writer.chain(chain, indent)
    text = "\n".join(lines)
    return to_ascii(text) if ascii else text


def _junctions_needed(blame: _Blame, start: Value, explained: set[Value]) -> list[Value]:
    """The meeting points a chain from ``start`` relies on that are not explained yet, nearest
    to E first (a path into one meeting point may start at another)."""
    needed = []
    stack = [start]
    while stack:
        node = stack.pop()
        if node in explained or not blame.is_junction(node):
            continue
        explained.add(node)
        needed.append(node)
        stack += [path.start for path in blame.paths(node)]
    return sorted(needed, key=lambda n: -blame.position[n])


def _entry_lines(blame: _Blame, writer: _Writer) -> list[str]:
    """How the blame enters the network: ∂E/∂a at each output, through the error's nodes."""
    entries = [
        node
        for node in blame.order
        if any(link.upper is blame.root for link in blame.above.get(node, ()))
    ]
    if not entries:
        return []
    detail = _Blame(blame.root, entries)  # every node of the error named, this time
    lines = ["", "Where the blame starts: ∂E/∂a at each output of the network, from the error"]
    for node in entries:
        if detail.is_junction(node):
            lines += writer.junction(detail, node)
        else:
            lines += writer.chain(detail.chain(node), indent="  ")
    return lines
