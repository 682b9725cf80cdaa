"""Gradients as chains of local derivatives: ∂E/∂w = ∂E/∂a × ∂a/∂z × ∂z/∂w.

``chains(loss)`` writes, for every parameter, its gradient as a product of local
derivatives along the path from E down to it. ``BlameGraph`` is the analysis behind it:
the graph seen through its named nodes (who passes blame to whom, and how much), where
paths meet (a hidden neuron feeding several others) and each path's share there.
``autograd_lite.explanation`` writes it out as text. Nothing here changes a gradient: the
derivatives come from ``local_grads`` only.

>>> from autograd_lite import Value
>>> w = Value(3.0, label="w")
>>> [chain] = chains(w * w * 2.0)    # ∂E/∂w = ∂E/∂(*) × ∂(*)/∂w = 2 × 6
>>> chain.gradient, chain.factors()
(12.0, [2.0, 6.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from autograd_lite.engine import Value, topological_order
from autograd_lite.gradients import gradients
from autograd_lite.names import Name, Role, parse
from autograd_lite.walk import positions

__all__ = ["BlameGraph", "Chain", "Link", "blame_graph", "chains", "network_name"]


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


def network_name(node: Value) -> Name | None:
    """The name of a network's own node (w, b, z, a or an input x), else None.

    The error's nodes (t, e, E...) are left out: the chains fold the error's arithmetic
    into ∂E/∂a.

    >>> network_name(Value(0.1, label="L0.n1.w0")).part, network_name(Value(1.0, label="t0"))
    ('w', None)
    """
    name = parse(node.label)
    if name is not None and (name.role.in_neuron or name.role is Role.INPUT):
        return name
    return None


def _region_links(upper: Value, is_stop: Callable[[Value], bool]) -> list[Link]:
    """Links from ``upper`` to the named nodes right below it, through unnamed ones.

    A small backward pass seeded at ``upper`` that does not go past named nodes.
    """
    derivatives = gradients(upper, stop=is_stop)
    return [Link(upper, node, d) for node, d in derivatives.items() if is_stop(node)]


class BlameGraph:
    """The graph seen through its named nodes: who passes blame to whom, and how much.

    In a network the named nodes are weights, biases, z, a and inputs: the loss's arithmetic
    folds into ∂E/∂a and an op-by-op neuron's products into ∂z/∂w. In any other graph every
    node but the constants is named. ``parameters`` are named in any case.

    >>> x = Value(2.0, label="x")
    >>> blame = BlameGraph(x * x + x)
    >>> blame.is_junction(x), [path.gradient for path in blame.paths(x)]
    (True, [4.0, 1.0])
    """

    def __init__(self, root: Value, parameters: Iterable[Value] = (), network: bool = False):
        chosen = set(parameters)
        self.network = network
        if network:
            self.is_stop = lambda n: n in chosen or network_name(n) is not None
        else:
            self.is_stop = lambda n: n in chosen or bool(n.op or n.label)
        self.root = root
        self.order = topological_order(root)
        self.position = positions(self.order)
        self.grads = gradients(root)
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


def _in_neuron(node: Value) -> bool:
    name = parse(node.label)
    return name is not None and name.role.in_neuron


def _network_sort_key(name: Name) -> tuple[int, int, int]:
    """Output layer first, then neuron by neuron: w0, w1, ..., b."""
    kind = name.index if name.role is Role.WEIGHT else 1 << 30
    return (-name.layer, name.neuron, kind)  # type: ignore[operator]


def blame_graph(loss: object, parameters: Sequence[Value] | None) -> tuple[BlameGraph, list[Value]]:
    """Check the arguments of ``chains``/``explain``, choose the default parameters and build
    the blame graph.

    >>> from autograd_lite.stepping import backprop_example
    >>> blame, parameters = blame_graph(backprop_example().error, None)
    >>> blame.network, [p.label for p in parameters][:4]
    (True, ['L1.n0.w0', 'L1.n0.w1', 'L1.n0.b', 'L1.n1.w0'])
    """
    if not isinstance(loss, Value):
        raise TypeError(f"explain(loss): expected a Value, not {type(loss).__name__}: {loss!r}")
    for p in parameters or ():
        if not isinstance(p, Value):
            raise TypeError(f"explain(parameters): expected Values, got {type(p).__name__}: {p!r}")
    order = topological_order(loss)
    network = any(_in_neuron(node) for node in order)
    if parameters is None:
        leaves = [node for node in order if not node.inputs and node.label]
        if network:
            named = [(parse(n.label), n) for n in leaves]
            named = [(name, n) for name, n in named if name and name.role.is_parameter]
            parameters = [n for _, n in sorted(named, key=lambda pair: _network_sort_key(pair[0]))]
        else:
            parameters = leaves
    return BlameGraph(loss, parameters, network), list(parameters)


def chains(loss: Value, parameters: Sequence[Value] | None = None) -> list[Chain]:
    """For each parameter, ∂E/∂parameter as a ``Chain`` of local derivatives.

    By default the parameters are the network's weights and biases (output layer first),
    or every labelled leaf of a graph that is not a network.

    >>> from autograd_lite import Value
    >>> w = Value(3.0, label="w")
    >>> [chain] = chains(w * w * 2.0)
    >>> chain.product() == chain.gradient == 12.0
    True
    """
    blame, parameters = blame_graph(loss, parameters)
    return [
        blame.chain(p) if p in blame.position else Chain(p, p, 0.0, (), 0.0, False)
        for p in parameters
    ]
