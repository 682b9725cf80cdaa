"""The one walk of a graph, and where each node stands in it.

``topological_order(root)`` is the walk: every node after its inputs, the root last, with a
stack instead of recursion (it lives in the engine, whose backward pass runs it).
``positions(order)`` is the ``{node: index}`` map that the pictures, the step page, the
chains and the tracer read off that list: written here once.

>>> from autograd_lite import Value
>>> a = Value(1.0, label="a")
>>> order = topological_order(a * a + a)
>>> [(node.label or node.op, i) for node, i in positions(order).items()]
[('a', 0), ('*', 1), ('+', 2)]
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd_lite.engine import Value, topological_order

__all__ = ["positions", "topological_order"]


def positions(order: Sequence[Value]) -> dict[Value, int]:
    """``{node: its index in order}``, for a list of nodes such as ``topological_order(root)``.

    Nodes are keys by identity (a ``Value`` has no ``==`` of its own), so two nodes with the
    same data are two entries.

    >>> from autograd_lite import Value
    >>> x, y = Value(2.0), Value(2.0)
    >>> list(positions([x, y]).values())
    [0, 1]
    """
    return {node: i for i, node in enumerate(order)}
