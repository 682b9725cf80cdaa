"""``explain(loss)``: the backward pass in words, every gradient a chain of local derivatives.

The analysis (which paths, which meeting points, which numbers) is ``autograd_lite.chains``;
this module only writes it, in the notation of ``autograd_lite.notation``.

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

from collections.abc import Mapping, Sequence

from autograd_lite.chains import BlameGraph, Chain, Link, blame_graph, network_name
from autograd_lite.engine import Value
from autograd_lite.layers import describe_layers, layer_view
from autograd_lite.names import weighted_sum_parts
from autograd_lite.notation import ERROR, factor, namer, names_in_order, partial, rounded, to_ascii

__all__ = ["explain"]

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
        self.name = namer(names)
        self.digits = digits

    def of_error(self, node: Value) -> str:
        """'∂E/∂node': the node's gradient, its blame for the error."""
        return partial(ERROR, self.name(node))

    def rounded(self, x: float) -> str:
        return rounded(x, self.digits)

    def product(self, chain: Chain, head: str, align: int) -> list[str]:
        """'head ∂E/∂a × ∂a/∂z × ∂z/∂w' over '= 0.74 × 0.19 × 0.59 = 0.082', that line's
        '=' in column ``align``."""
        symbols = [] if chain.from_error else [self.of_error(chain.start)]
        symbols += [partial(self.name(link.upper), self.name(link.lower)) for link in chain.links]
        factors = chain.factors()
        if len(factors) == 1:
            return [f"{head}{symbols[0]} = {self.rounded(chain.gradient)}"]
        numbers = " × ".join(factor(f, self.digits) for f in factors)
        return [
            head + " × ".join(symbols),
            " " * align + f"= {numbers} = {self.rounded(chain.gradient)}",
        ]

    def chain(self, chain: Chain, indent: str = "") -> list[str]:
        """∂E/∂target written as its chain of local derivatives."""
        head = f"{indent}{self.of_error(chain.target)} = "
        if chain.start is chain.target:  # where paths meet: written as their sum already
            return []
        if len(chain.factors()) == 1:
            return [f"{head}{self.rounded(chain.gradient)}"]
        return self.product(chain, head, len(head) - 2)

    def junction(self, blame: BlameGraph, node: Value) -> list[str]:
        """How the blame of ``node`` arrives along each path, and their sum."""
        paths = blame.paths(node)
        lines = [
            f"Blame reaches {self.name(node)} along "
            f"{len(paths)} paths; {self.of_error(node)} is their sum:"
        ]
        for path in paths:
            head = f"  via {self._via(path.links[-1])}: "
            lines += self.product(path, head, len(head))
        terms = " + ".join(factor(p.gradient, self.digits) for p in paths)
        lines.append(f"  {self.of_error(node)} = {terms} = {self.rounded(blame.grads[node])}")
        return lines

    def _via(self, link: Link) -> str:
        """'weight L1.n0.w0' when the path goes through a weight into a neuron, else the node
        it goes through."""
        upper = link.upper
        if upper.op == "weighted_sum":
            parts = weighted_sum_parts(upper.inputs)
            for weight, activation in zip(parts.weights, parts.activations):
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
    layers: bool = False,
) -> str:
    """The backward pass in words: every parameter's gradient as a chain of local derivatives.

    For a network (labels from ``autograd_lite.nn``) it first shows how the blame enters at
    each output (∂E/∂a, from the error), then goes neuron by neuron from the output layer
    back; before the first chain that starts where several paths meet (a hidden neuron
    feeding several others) it shows each path and their sum. ``parameters`` picks the
    leaves to explain (default: see ``chains``); ``digits`` is the number of significant
    digits; ``legend`` (default: on for networks) adds the notes' names. ``layers=True``
    ends with the same backward pass layer by layer, the four equations of
    ``autograd_lite.layers`` with their numbers (for a model's loss). Reads ``data`` and
    ``local_grads`` only: no gradient changes.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> print(explain(x * x + x, ascii=True))
    E = 6
    <BLANKLINE>
    Blame reaches x along 2 paths; dE/dx is their sum:
      via *_1: dE/d(*_1) * d(*_1)/dx
               = 1 * 4 = 4
      via E: dE/dx = 1
      dE/dx = 4 + 1 = 5
    """
    blame, parameters = blame_graph(loss, parameters)
    network = blame.network
    writer = _Writer(names_in_order(blame.order), digits)  # what node_names(loss) gives
    named = f" = {loss.label}" if loss.label and loss.label != ERROR else ""
    lines = [f"{ERROR}{named} = {writer.rounded(loss.data)}"]
    if legend or (legend is None and network):
        lines += ["", _LEGEND]
    if network:
        lines += _entry_lines(blame, writer)
        last_layer = max(
            name.layer for name in map(network_name, blame.order) if name and name.role.in_neuron
        )
    explained: set[Value] = set()
    group = None
    for p in parameters:
        if p not in blame.position:
            lines += ["", f"{writer.of_error(p)} = 0  (it does not affect E)"]
            continue
        chain = blame.chain(p)
        name = network_name(p)
        neuron = name.neuron_name if name else None
        if neuron and neuron != group:
            group = neuron
            where = "output layer" if name.layer == last_layer else "hidden layer"
            lines += ["", f"Neuron {group} ({where} {name.layer})"]
        indent = "  " if network else ""
        for junction in _junctions_needed(blame, chain.start, explained):
            lines += [f"{indent}{line}" for line in writer.junction(blame, junction)]
        if not network and lines[-1] and not blame.is_junction(p):
            lines.append("")
        lines += writer.chain(chain, indent)
    if layers:
        lines += ["", "", describe_layers(layer_view(loss), digits=digits)]
    text = "\n".join(lines)
    return to_ascii(text) if ascii else text


def _junctions_needed(blame: BlameGraph, start: Value, explained: set[Value]) -> list[Value]:
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


def _entry_lines(blame: BlameGraph, writer: _Writer) -> list[str]:
    """How the blame enters the network: ∂E/∂a at each output, through the error's nodes."""
    entries = [
        node
        for node in blame.order
        if any(link.upper is blame.root for link in blame.above.get(node, ()))
    ]
    if not entries:
        return []
    detail = BlameGraph(blame.root, entries)  # every node of the error named, this time
    lines = ["", "Where the blame starts: ∂E/∂a at each output of the network, from the error"]
    for node in entries:
        if detail.is_junction(node):
            lines += writer.junction(detail, node)
        else:
            lines += writer.chain(detail.chain(node), indent="  ")
    return lines
