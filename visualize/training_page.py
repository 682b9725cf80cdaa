"""A page to replay training: a slider over the epochs of gradient descent.

``export_training_html(model, inputs, targets, path)`` trains a small model for a few
epochs and writes a page with a slider over the epochs: the network diagram, every weight
and its gradient as bars, the loss curve and the predictions. The picture and the
file come from ``svg`` and ``page_file``, as for the step page.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from autograd_lite import Value, no_grad
from autograd_lite.batch_loss import check_data, loss_functions
from autograd_lite.checks import check_count, check_format, check_instance
from autograd_lite.nn import MLP
from autograd_lite.nn.optim import SGD, Optimizer
from autograd_lite.training import TrainingStep, evaluate, fit
from autograd_lite.visualize import style
from autograd_lite.visualize.network import draw_network
from autograd_lite.visualize.page_file import check_title, html_path, write_page
from autograd_lite.visualize.svg import prepare_svg, svg_of

__all__ = ["export_training_html"]

MAX_EPOCHS = 2000  # one recorded state per epoch: beyond this the slider is useless
CHART = (560, 190, 52, 14, 28)  # loss chart: width, height, left, top and bottom margins


def export_training_html(
    model: MLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence,
    path: str | os.PathLike,
    *,
    loss: str = "mse",
    epochs: int = 100,
    optimizer: Optimizer | None = None,
    title: str | None = None,
    number_format: str = ".3g",
) -> Path:
    """Train ``model`` for ``epochs`` full-batch steps and write a page to replay them.

    The model is trained in place, with ``autograd_lite.training.fit`` (``loss`` is one of
    its names; ``optimizer`` defaults to ``SGD(model.parameters(), lr=0.1)``). A slider runs
    over the epochs; each shows the network diagram with every weight drawn as thick as
    ``|w|``, a table of every weight and bias with its gradient ∂E/∂w and its value after
    the step, the loss curve and the model's output for each sample.

    >>> import tempfile
    >>> from autograd_lite.nn import MLP, data
    >>> points, labels = data.xor()
    >>> model = MLP(2, [3, 1], seed=0)
    >>> page = export_training_html(model, points, labels, tempfile.mkdtemp() + "/xor", epochs=5)
    >>> page.name
    'xor.html'
    """
    check_instance("export_training_html", "model", model, MLP, "an MLP")
    target = html_path("export_training_html", path)
    check_title("export_training_html", title)
    if check_count("export_training_html", "epochs", epochs) > MAX_EPOCHS:
        raise ValueError(f"export_training_html: epochs must be <= {MAX_EPOCHS}, got {epochs!r}")
    loss_functions("export_training_html", loss)  # a clear error for an unknown name
    check_format("export_training_html", "number_format", number_format)
    check_data("export_training_html", inputs, targets)
    optimizer = optimizer or SGD(model.parameters(), lr=0.1)

    parameters = model.parameters()
    # per epoch: weights, grads (None after the last step), loss, accuracy, outputs
    history: list[tuple] = []
    weights, outputs = _state(model, inputs)  # what the next step starts from

    def watch(step: TrainingStep) -> None:
        # fit calls this after each step's update: the step's loss and gradients, with the
        # weights and outputs it started from; then the new ones, which the next starts from
        nonlocal weights, outputs
        grads = [p.grad for p in parameters]
        history.append((weights, grads, step.loss, step.accuracy, outputs))
        weights, outputs = _state(model, inputs)

    fit(model, inputs, targets, loss=loss, optimizer=optimizer, epochs=epochs, progress=False,
        on_step=watch)  # fmt: skip
    error, accuracy = evaluate(model, inputs, targets, loss=loss)  # the trained model: no step
    history.append((weights, None, error, accuracy, outputs))

    def fmt(x: float) -> str:
        return style.fmt(x, number_format)

    chart, points = _loss_chart([error for _, _, error, _, _ in history], fmt)
    heading = title or (
        f"Training {type(model).__name__}({model.nin}, {model.nouts}) on {len(inputs)} samples"
    )
    parts = {
        "subtitle": html.escape(
            f"{model.describe()} · loss {loss} · {type(optimizer).__name__} · {epochs} full-batch "
            "steps, one per epoch"
        ),
        "network": _network_picture(model),
        "chart": chart,
        "parameters": _parameter_rows(model),
        "samples": _sample_rows(inputs, targets, fmt),
        "rule": html.escape(_update_rule(optimizer)),
    }
    data = {
        "parameters": [{"label": p.label} for p in parameters],
        "samples": [list(map(fmt, x)) for x in inputs],
        "epochs": _epoch_data(history, points, fmt),
    }
    return write_page(target, "training", heading, parts, data)


def _update_rule(optimizer: Optimizer) -> str:
    """How the optimizer turns a gradient into a new weight, in words."""
    if type(optimizer) is SGD and not optimizer.momentum and not optimizer.weight_decay:
        return f"gradient descent, w − {optimizer.learning_rate():g} × ∂E/∂w,"
    return f"{type(optimizer).__name__}, from ∂E/∂w and what it remembers of earlier steps,"


def _state(model: MLP, inputs: Sequence[Sequence[float]]) -> tuple[list, list]:
    """The model's weights now, and its outputs for every input (no graph recorded)."""
    with no_grad():
        outputs = [_outputs(model(x)) for x in inputs]
    return [p.data for p in model.parameters()], outputs


def _outputs(output: Value | list[Value]) -> list[float]:
    return [v.data for v in output] if isinstance(output, list) else [output.data]


def _epoch_data(history: list[tuple], points: list[list[float]], fmt: Callable) -> list[dict]:
    """Per epoch, the texts and bar widths the page shows (bars: 0 to 100 percent)."""
    top_weight = style.largest(w for weights, *_ in history for w in weights)
    top_grad = style.largest(g for _, grads, *_ in history for g in grads or ())

    def bar(x: float, top: float, scale: str) -> list:
        return [fmt(x), round(100 * style.strength(x, top, scale), 1), style.sign(x)]

    epochs = []
    for (weights, grads, error, accuracy, outputs), point in zip(history, points):
        edges = [style.edge_attributes(w, top_weight, "linear") for w in weights]
        epochs.append(
            {
                "loss": fmt(error),
                "accuracy": "" if accuracy is None else f"{accuracy:.0%}",
                "weights": [bar(w, top_weight, "linear") for w in weights],
                "grads": None if grads is None else [bar(g, top_grad, "log") for g in grads],
                "edges": [[edge["color"], edge["penwidth"]] for edge in edges],
                "outputs": [", ".join(map(fmt, output)) for output in outputs],
                "point": point,
            }
        )
    return epochs


def _loss_chart(losses: list[float], fmt: Callable) -> tuple[str, list[list[float]]]:
    """An SVG line of the loss per epoch, and the point of each epoch (for the marker)."""
    width, height, left, top, bottom = CHART
    highest = max(max((x for x in losses if math.isfinite(x)), default=0.0), 1e-12)
    span = max(len(losses) - 1, 1)
    base, right = height - bottom, width - 10
    points = [
        [
            round(left + (right - left) * epoch / span, 2),
            round(base - (base - top) * min(x, highest) / highest, 2) if math.isfinite(x) else top,
        ]
        for epoch, x in enumerate(losses)
    ]
    line = " ".join(f"{x},{y}" for x, y in points)
    svg = (
        f'<svg class="loss-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="loss per epoch">'
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>'
        f'<line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{fmt(highest)}</text>'
        f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - 8}">epoch 0</text>'
        f'<text x="{right}" y="{height - 8}" text-anchor="end">{len(losses) - 1}</text>'
        f'<text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle">'
        "loss E per epoch</text>"
        f'<polyline class="curve" points="{line}"/>'
        f'<line class="cursor" id="loss-cursor" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>'
        f'<circle class="marker" id="loss-marker" r="5" cx="{left}" cy="{top}"/></svg>'
    )
    return svg, points


def _network_picture(model: MLP) -> str:
    """The network diagram with names only: the page sets each weight's thickness per epoch."""
    parameters = model.parameters()
    # names only: not the numbers of one sample or one epoch (the model is only read)
    digraph = draw_network(
        model, edge_thickness="weight", legend=False, names_only=True, max_edges=None
    )  # every weight: the page repaints each edge at every epoch
    svg = svg_of(digraph, "export_training_html", "the page shows no network diagram")
    if svg is None:
        return '<p class="rule">(no diagram: Graphviz is not installed)</p>'
    return prepare_svg(svg, {p.label: p.label for p in parameters})[0]


def _parameter_rows(model: MLP) -> str:
    """Table rows: one title row per neuron, then one row per weight and bias."""
    rows = []
    for layer in model.layers:
        for neuron in layer.neurons:
            rows.append(
                f'<tr class="neuron"><td colspan="6">{html.escape(neuron.name)} '
                f"· {html.escape(neuron.activation)}</td></tr>"
            )
            for p in neuron.parameters():
                rows.append(
                    f'<tr id="row-{html.escape(p.label)}"><td>{html.escape(p.label)}</td>'
                    '<td class="num weight"></td><td><div class="bar"><span class="weight-bar">'
                    '</span></div></td><td class="num grad"></td><td><div class="bar">'
                    '<span class="grad-bar"></span></div></td><td class="num after"></td></tr>'
                )
    return "".join(rows)


def _sample_rows(inputs: Sequence, targets: Sequence, fmt: Callable) -> str:
    def text(x: object) -> str:
        if isinstance(x, (list, tuple)):
            return ", ".join(map(text, x))
        return fmt(x) if isinstance(x, float) else html.escape(str(x))

    return "".join(
        f'<tr><td class="num">{text(list(x))}</td><td class="num">{text(y)}</td>'
        f'<td class="num" id="output-{i}"></td></tr>'
        for i, (x, y) in enumerate(zip(inputs, targets))
    )
