"""The play page: a network that trains live in the browser, with the chain rule inside.

``export_play_html(path)`` writes one self-contained HTML file (no network, no Graphviz):
datasets, features, layers, activation, loss, learning rate, regularization and batch size,
all in the URL; the decision regions, a heat map per neuron, the loss curves; and, paused,
∂E/∂w = δ · a of any weight and δ = σ′(z) · Σ w δ_next of any neuron, with the numbers of
the last step. The training step is the JavaScript ``export_model`` writes
(``visualize/play_code.py``); the random numbers are Python's, so the page's points, first
weights and batches are those of the Python functions below for the same settings.

>>> train, test = playground_data(DEFAULTS)
>>> len(train), len(test), train[0][2] in (-1, 1)
(100, 100, True)
>>> playground_model(DEFAULTS).describe()
"MLP(2, [4, 4, 1], activation='tanh', output_activation='linear')"
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from autograd_lite import names
from autograd_lite.nn import MLP, data
from autograd_lite.nn.model import SAVE_FORMAT, SAVE_VERSION
from autograd_lite.visualize.page_file import check_title, html_path, write_page
from autograd_lite.visualize.play_code import (
    ACTIVATIONS,
    LOSS_NAMES,
    OUTPUT_ACTIVATION,
    code_templates,
)

__all__ = [
    "DEFAULTS",
    "FEATURES",
    "MAX_PAGE_BYTES",
    "export_play_html",
    "features_of",
    "playground_data",
    "playground_model",
]

# The page's settings when the URL names none: moons with a network that learns them in a
# thousand steps or so (what the tests check).
DEFAULTS: dict = {
    "dataset": "moons",
    "noise": 0.1,
    "points": 200,
    "trainFraction": 0.5,
    "features": ["x1", "x2"],
    "layers": [4, 4],
    "activation": "tanh",
    "loss": "mse",
    "learningRate": 0.1,
    "batchSize": 10,
    "regularization": "none",
    "regularizationRate": 0.0,
    "seed": 0,
    "hide": [],
}
DATASETS = ("moons", "circles", "xor", "spiral", "blobs")
# feature name -> (how the page writes it, how it is computed from a point (x1, x2))
FEATURES: dict = {
    "x1": ("x₁", lambda p: p[0]),
    "x2": ("x₂", lambda p: p[1]),
    "x1sq": ("x₁²", lambda p: p[0] * p[0]),
    "x2sq": ("x₂²", lambda p: p[1] * p[1]),
    "x1x2": ("x₁x₂", lambda p: p[0] * p[1]),
    "sinx1": ("sin x₁", lambda p: math.sin(p[0])),
    "sinx2": ("sin x₂", lambda p: math.sin(p[1])),
}
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
LOSS_TITLES = {"mse": "squared error", "hinge": "hinge", "bce_with_logits": "log loss"}
# what the URL's ``hide=`` can take away, for a classroom
HIDEABLE = (
    "data", "dataset", "noise", "points", "trainFraction", "seed", "features", "layers",
    "activation", "loss", "learningRate", "batchSize", "regularization",
    "regularizationRate", "model", "code",
)  # fmt: skip
LIMITS = {
    "maxLayers": 6,  # hidden layers
    "maxNeurons": 8,  # per hidden layer
    "minPoints": 10,
    "maxPoints": 1000,
    "maxBatch": 100,
    "history": 201,  # steps kept for rewinding: the last 200, and the one before them
}
MAX_PAGE_BYTES = 400_000


def playground_data(config: dict) -> tuple[list[list[float]], list[list[float]]]:
    """``(train, test)`` of the page for ``config``: points ``[x1, x2, label]`` (label -1 or
    +1) from ``autograd_lite.nn.data``, the first ``trainFraction`` of them for training.

    >>> train, test = playground_data({**DEFAULTS, "dataset": "xor", "points": 8, "noise": 0.0})
    >>> train
    [[0.0, 0.0, -1], [0.0, 1.0, 1], [1.0, 0.0, 1], [1.0, 1.0, -1]]
    """
    name, n, noise, seed = config["dataset"], config["points"], config["noise"], config["seed"]
    if name == "moons":
        points, labels = data.moons(n, noise=noise, seed=seed)
    elif name == "circles":
        points, labels = data.circles(n, noise=noise, seed=seed)
    elif name == "xor":
        points, labels = data.xor(labels=(-1, 1), n=n, noise=noise, seed=seed)
    elif name == "spiral":
        points, arms = data.spiral(n // 2, classes=2, noise=noise, seed=seed)
        labels = [2 * arm - 1 for arm in arms]  # arms 0 and 1 as the classes -1 and +1
    elif name == "blobs":
        points, labels = data.blobs(n, noise=noise, seed=seed)
    else:
        raise ValueError(f"playground_data: unknown dataset {name!r}; choose one of {DATASETS}")
    rows = [[x1, x2, label] for (x1, x2), label in zip(points, labels)]
    count = min(len(rows) - 1, max(1, math.floor(len(rows) * config["trainFraction"] + 0.5)))
    return rows[:count], rows[count:]


def features_of(point: list[float], chosen: list[str]) -> list[float]:
    """The network's inputs for a point: the chosen features, in the page's order.

    >>> features_of([2.0, 3.0, 1], ["x1x2", "x1"])
    [2.0, 6.0]
    """
    return [FEATURES[name][1](point) for name in FEATURES if name in chosen]


def playground_model(config: dict) -> MLP:
    """The page's network at step 0: ``MLP(features, [*layers, 1], activation, seed=seed)``."""
    return MLP(
        len(config["features"]),
        [*config["layers"], 1],
        activation=config["activation"],
        output_activation=OUTPUT_ACTIVATION,
        seed=config["seed"],
    )


def _name_format(build: object, *parts: str) -> str:
    """A name of ``names.py`` with its numbers as ``{l}``, ``{j}``, ``{i}`` for the page:
    built with numbers no name holds otherwise, then those numbers replaced."""
    marks = {"7001": "{l}", "7002": "{j}", "7003": "{i}"}
    text = build(*(int(m) for m in parts))  # type: ignore[operator]
    for mark, hole in marks.items():
        text = text.replace(mark, hole)
    return text


def _page_data() -> dict:
    return {
        "defaults": DEFAULTS,
        "choices": {
            "datasets": list(DATASETS),
            "activations": list(ACTIVATIONS),
            "losses": list(LOSS_NAMES),
            "lossNames": {name: LOSS_TITLES[name] for name in LOSS_NAMES},
            "learningRates": list(LEARNING_RATES),
            "regularizations": ["none", "L1", "L2"],
            "regularizationRates": list(REGULARIZATION_RATES),
        },
        "hideable": list(HIDEABLE),
        "limits": LIMITS,
        "features": [{"name": name, "label": label} for name, (label, _) in FEATURES.items()],
        "code": code_templates(),
        "names": {
            "weight": _name_format(
                lambda layer, neuron, i: names.weight((layer, neuron), i), "7001", "7002", "7003"
            ),
            "bias": _name_format(lambda layer, neuron: names.bias((layer, neuron)), "7001", "7002"),
            "neuron": _name_format(names.neuron_name, "7001", "7002"),
            "input": _name_format(names.input_name, "7003"),
        },
        "save": {
            "format": SAVE_FORMAT,
            "version": SAVE_VERSION,
            "outputActivation": OUTPUT_ACTIVATION,
        },
    }


def export_play_html(
    path: str | os.PathLike, *, title: str | None = None, add_suffix: bool = True
) -> Path:
    """Write the play page to ``path`` (``.html`` added if missing, unless ``add_suffix`` is
    False); returns the path.

    >>> import tempfile
    >>> page = export_play_html(tempfile.mkdtemp() + "/play")
    >>> page.name, page.stat().st_size < MAX_PAGE_BYTES
    ('play.html', True)
    """
    target = html_path("export_play_html", path, add_suffix)
    check_title("export_play_html", title)
    heading = title or "Backpropagation playground"
    # the page's promise: a light file to mail or to host
    write_page(target, "play", heading, {}, _page_data(), assets="play", max_bytes=MAX_PAGE_BYTES)
    return target
