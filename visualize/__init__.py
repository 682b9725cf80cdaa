"""Pictures that show the gradient flow: computation graphs and network diagrams.

* ``draw_graph(root, ...)`` -- every Value of a computation graph, each edge drawn as thick
  as the gradient it carries back and coloured by its sign;
* ``draw_network(model, ...)`` -- an ``MLP`` as neurons in layers, each layer labelled with
  its gradient norm, so vanishing or exploding gradients show across depth;
* ``render(digraph, path, format)`` -- write SVG/PNG/PDF with Graphviz's ``dot`` (or the DOT
  source, with a hint, when ``dot`` is missing); ``graphviz_available()`` tells which.

Both drawing functions return a ``graphviz.Digraph``, which Jupyter displays inline. The
encodings are explained in ``style`` and in each picture's legend; the SVG ids
(``node{i}``, ``edge{i}_{n}``) in ``graph``.

>>> from autograd_lite import Value
>>> w = Value(0.5, label="w")
>>> loss = (w * 2.0 - 1.5) ** 2
>>> loss.backward()
>>> type(draw_graph(loss)).__name__
'Digraph'
"""

from autograd_lite.visualize.graph import draw_graph, edge_ids, graph_ids
from autograd_lite.visualize.network import draw_network
from autograd_lite.visualize.render import graphviz_available, render
from autograd_lite.visualize.step_page import export_html
from autograd_lite.visualize.training_page import export_training_html

__all__ = [
    "draw_graph",
    "draw_network",
    "edge_ids",
    "export_html",
    "export_training_html",
    "graph_ids",
    "graphviz_available",
    "render",
]
