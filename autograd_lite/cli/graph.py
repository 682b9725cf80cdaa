"""`autograd-lite graph`: write example pictures of the gradient flow to a folder.

* ``neuron``       -- the computation graph of one sigmoid neuron and its error, after backward;
* ``network``      -- the network diagram of a small MLP trained on XOR by plain gradient descent;
* ``mlp-graph``    -- the computation graph of ``MLP(2, [16, 16, 1])`` on one sample, one node
  per weighted sum (``collapse_neurons=True``);
* ``deep-sigmoid`` -- a 20-layer sigmoid network whose gradient vanishes towards the input.

``visualize`` (and so the ``graphviz`` package) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys

from autograd_lite import Value
from autograd_lite.cli.options import output_folder
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.training import fit

FORMATS = ("svg", "png")


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "graph",
        help="write example pictures of the gradient flow",
        description=(
            "Write four example pictures: a neuron's computation graph, the network diagram "
            "of a small trained model, an MLP(2, [16, 16, 1]) graph and a 20-layer sigmoid "
            "network. Needs Graphviz's `dot`; without it the DOT sources are written."
        ),
    )
    parser.add_argument(
        "--out",
        default="pictures",
        type=output_folder,
        metavar="DIR",
        help="folder to write into (made if missing; default: pictures)",
    )
    parser.add_argument(
        "--format", default="svg", choices=FORMATS, help="picture format (default: svg)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autograd_lite.visualize import draw_graph, draw_network, graphviz_available, render
    from autograd_lite.visualize.render import INSTALL_HINT

    model, first_error, last_error, steps = train_xor()
    print(
        f"trained {model.describe()} on XOR: {steps} steps of gradient descent, "
        f"error {first_error:.3g} -> {last_error:.3g}"
    )
    mlp_error = one_sample(MLP(2, [16, 16, 1], seed=0))
    deep = MLP(2, [4] * 19 + [1], activation="sigmoid", output_activation="sigmoid", seed=0)
    one_sample(deep)
    pictures = [
        ("neuron", draw_graph(neuron_error()), "computation graph of one sigmoid neuron"),
        ("network", draw_network(model), "network diagram of the trained XOR model"),
        ("mlp-graph", draw_graph(mlp_error, collapse_neurons=True), "MLP(2, [16, 16, 1]) graph"),
        ("deep-sigmoid", draw_network(deep, edge_thickness="grad"), "20 sigmoid layers"),
    ]
    drawing = graphviz_available()
    if not drawing:
        print(
            f"Graphviz's `dot` program was not found: writing DOT sources instead of pictures."
            f"\n  {INSTALL_HINT}.\n  Then: dot -T{args.format} FILE.dot -o FILE.{args.format}",
            file=sys.stderr,
        )
    for name, picture, what in pictures:
        written = render(picture, args.out / name, args.format, quiet=not drawing)
        print(f"wrote {written}  ({what})")
    return 0


def neuron_error() -> Value:
    """E = ½ (target − σ(w1 x1 + w2 x2 + b))² for one neuron, after ``backward()``.

    >>> E = neuron_error()
    >>> round(E.data, 4), E.grad
    (0.1701, 1.0)
    """
    x1, x2 = Value(0.05, "x1"), Value(0.10, "x2")
    w1, w2, b = Value(0.15, "w1"), Value(0.20, "w2"), Value(0.35, "b")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    error = 0.5 * (0.01 - a) ** 2
    error.label = "E"
    error.backward()
    return error


def squared_error(model: MLP, inputs: list[float], target: float) -> Value:
    """E = (model(inputs) − target)² for one sample, labelled E."""
    error = (model(inputs) - target) ** 2
    error.label = "E"
    return error


def train_xor(steps: int = 60, learning_rate: float = 0.2) -> tuple[MLP, float, float, int]:
    """An MLP(2, [4, 4, 1]) trained on XOR by plain gradient descent, w -= lr * ∂E/∂w, on
    the mean squared error (``training.fit``, full batch, one step per epoch).

    Ends with one backward pass on the sample (1, 0), so the diagram has gradients to show.
    Returns the model, the mean error before the first and the last step, and the step count.

    >>> model, before, after, steps = train_xor(steps=20)
    >>> after < before
    True
    """
    model = MLP(2, [4, 4, 1], activation="tanh", seed=3)
    points, labels = data.xor()
    optimizer = SGD(model.parameters(), lr=learning_rate)
    history = fit(model, points, labels, loss="mse", optimizer=optimizer, epochs=steps,
                  progress=False)  # fmt: skip
    model.zero_grad()
    squared_error(model, points[2], labels[2]).backward()
    return model, history.loss[0], history.loss[-1], steps


def one_sample(model: MLP) -> Value:
    """A forward and backward pass of one sample through ``model``; returns its error."""
    error = squared_error(model, [0.5, -0.3], 1.0)
    error.backward()
    return error
