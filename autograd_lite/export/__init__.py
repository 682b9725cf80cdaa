"""Export as code: a model's training step written out as a standalone Python, C or
JavaScript file, with forward, backward, one step of gradient descent and a ``main`` that
prints the error and every gradient.

* ``export_model(model, inputs, targets)`` -- an MLP in **loop form**: one loop per layer
  over its neurons and their inputs, no matrices, so the file stays short at any size; the
  error after the network is written out line by line;
* ``export_graph(loss, parameters)`` -- any small graph in **straight-line form**: one line
  per node forward, one line per chain-rule step backward (refused past
  ``MAX_STRAIGHT_LINE_NODES``);
* ``export_example()`` -- the notes' 2-2-2 sigmoid network on its worked example.

The math of every op comes from the op's own forward and rule, read off the engine as
expressions (``autograd_lite.expressions``); names come from the labels (``L0.n3.w1`` ->
``L0_n3_w1``); comments speak the notes' notation (z, a, ∂E/∂z).

>>> source = export_example("python")
>>> print(source[source.index("def forward"):].split("\\n\\n")[0])  # doctest: +ELLIPSIS
def forward():
    global e0, e0_2, E0, e1, e1_2, E1, E
    # layer 0: 2 sigmoid neurons, each weighing the 2 values x
    for j in range(2):
        z = L0_b[j]  # z = b + Σ w·a_in: start from the bias b
        for i in range(2):
            z += L0_w[j][i] * x[i]  # add w·a_in for input i
        L0_z[j] = z
        L0_a[j] = sigmoid_forward(L0_z[j])  # a = σ(z)
...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograd_lite.checks import check_number
from autograd_lite.engine import Value
from autograd_lite.export.files import MAX_STRAIGHT_LINE_NODES, loop_file, straight_line_file
from autograd_lite.export.languages import EXTENSIONS, LANGUAGES, check_language
from autograd_lite.export.straight import identifier
from autograd_lite.nn import MLP
from autograd_lite.nn.worked import LEARNING_RATE  # every export's default lr: the example's
from autograd_lite.program import trace
from autograd_lite.stepping import (
    CLASSIC_INPUTS,
    CLASSIC_TARGETS,
    classic_network,
    labelled_error,
)

__all__ = [
    "EXTENSIONS",
    "LANGUAGES",
    "MAX_STRAIGHT_LINE_NODES",
    "export_example",
    "export_graph",
    "export_model",
    "identifier",
]


def export_model(
    model: MLP,
    inputs: Sequence[float],
    targets: object,
    language: str = "python",
    loss: Callable[..., Value] = labelled_error,
    lr: float = LEARNING_RATE,
) -> str:
    """The source of a file that trains ``model`` for one step on one sample (loop form).

    ``loss(outputs, targets)`` is any function of the model's outputs made of engine ops
    (default: the notes' E = Σ ½ (t − a)², with its nodes named e_k, E_k and E).

    >>> source = export_model(MLP(3, [4, 2], seed=0), [1.0, 2.0, 3.0], [0.0, 1.0], "c")
    >>> "for (int j = 0; j < 4; j++) {" in source
    True
    """
    language = check_language(language)
    lr = check_number("export_model", "lr", lr, above=0)
    if not isinstance(model, MLP):
        raise TypeError(f"export_model: expected an MLP, not {type(model).__name__}")
    model.check_input(list(inputs))
    if model.op_by_op:  # same math, one weighted-sum node per neuron: the loop form's shape
        model = MLP.from_dict({**model.to_dict(), "op_by_op": False})
    return loop_file(model, inputs, targets, loss, language, lr)


def export_graph(
    loss: Value,
    parameters: Sequence[Value],
    language: str = "python",
    lr: float = LEARNING_RATE,
) -> str:
    """The source of a file that computes ``loss``, its gradient for each of ``parameters``
    (leaves) and one step of gradient descent, one line per node (straight-line form).

    >>> w, x = Value(0.5, "w"), Value(2.0, "x")
    >>> source = export_graph((w * x).tanh(), [w], "javascript")
    >>> "dE_dw = x * dE_dv2;" in source
    True
    """
    language = check_language(language)
    lr = check_number("export_graph", "lr", lr, above=0)
    if isinstance(loss, Value) and not loss.op:
        # E is a leaf (a parameter itself): the file still computes E, as E = w × 1, which
        # is w exactly (NaN, infinities and -0.0 too), with ∂E/∂w = 1
        loss = loss * 1.0
    program = trace(loss, params=parameters)
    title = "One step of gradient descent on a small graph, written out by autograd-lite."
    return straight_line_file(program, language, lr, title)


def export_example(language: str = "python", lr: float = LEARNING_RATE) -> str:
    """The notes' worked example: the 2-2-2 sigmoid network, inputs 0.05 and 0.10, targets
    0.01 and 0.99, E = Σ ½ (t − a)², learning rate 0.5.

    >>> "static double L1_w[2][2] = {" in export_example("c")
    True
    """
    return export_model(
        classic_network(), CLASSIC_INPUTS, CLASSIC_TARGETS, language, labelled_error, lr
    )
