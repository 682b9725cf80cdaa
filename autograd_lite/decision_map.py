"""The plane of a 2-input classifier as text: the regions it predicts, and the samples.

``decision_map(model, points, targets)`` draws the boundary a model learned, one character
per spot of the plane; ``decision_map_legend(targets)`` says which character is which
class. The demo prints both after training.

>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [1], seed=0)
>>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 1.0, 0.0
>>> print(decision_map(model, [[-1.0, 0.0], [1.0, 0.0]], [-1, 1], width=6, height=1))
+------+
|o..  x|
+------+
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd_lite.batch_loss import check_data
from autograd_lite.checks import check_count, check_number
from autograd_lite.modes import no_grad
from autograd_lite.nn.model import MLP

__all__ = ["REGION_MARKS", "SAMPLE_MARKS", "decision_map", "decision_map_legend"]

# what the decision map draws: the predicted class's region, and each sample's own class
REGION_MARKS = ". -:~=+^"
SAMPLE_MARKS = "ox*#@%&$"


def decision_map(
    model: MLP,
    points: Sequence[Sequence[float]],
    targets: Sequence,
    *,
    width: int = 64,
    height: int = 22,
    threshold: float = 0.0,
) -> str:
    """The plane of a 2-input classifier as text, to see the boundary it learned.

    Every character is a spot of the plane showing the class the model predicts there
    (``.`` class 0, blank class 1, ``-`` class 2, ...); each sample is drawn on top with its
    own class (``o`` class 0, ``x`` class 1, ``*`` class 2, ...). With one output, a value
    above ``threshold`` is class 1 and a target above 0 is class 1 (labels -1/+1 or 0/1);
    with several outputs the largest one wins.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(2, [1], seed=0)
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 1.0, 0.0
    >>> print(decision_map(model, [[-1.0, 0.0], [1.0, 0.0]], [-1, 1], width=8, height=3))
    +--------+
    |....    |
    |o...   x|
    |....    |
    +--------+
    """
    if model.nin != 2:
        raise ValueError(f"decision_map: needs a model with 2 inputs, got {model.nin}")
    check_data("decision_map", points, targets)
    check_count("decision_map", "width", width)
    check_count("decision_map", "height", height)
    threshold = check_number("decision_map", "threshold", threshold)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    margin_x = 0.1 * (max(xs) - min(xs) or 1.0)
    margin_y = 0.1 * (max(ys) - min(ys) or 1.0)
    left, right = min(xs) - margin_x, max(xs) + margin_x
    bottom, top = min(ys) - margin_y, max(ys) + margin_y

    def predicted_class(point: list[float]) -> int:
        output = model(point)
        if isinstance(output, list):
            scores = [v.data for v in output]
            return scores.index(max(scores))
        return int(output.data > threshold)

    def cell_centre(row: int, column: int) -> list[float]:
        x = left + (right - left) * (column + 0.5) / width
        y = top - (top - bottom) * (row + 0.5) / height
        return [x, y]

    with no_grad():
        grid = [
            [REGION_MARKS[predicted_class(cell_centre(row, column)) % len(REGION_MARKS)]
             for column in range(width)]
            for row in range(height)
        ]  # fmt: skip
    several_classes = isinstance(targets[0], int) and max(targets) > 1
    for (x, y), target in zip(points, targets):
        column = min(int((x - left) / (right - left) * width), width - 1)
        row = min(int((top - y) / (top - bottom) * height), height - 1)
        target_class = target if several_classes else int(target > 0)
        grid[row][column] = SAMPLE_MARKS[target_class % len(SAMPLE_MARKS)]
    edge = "+" + "-" * width + "+"  # a frame keeps every row full width, blanks included
    return "\n".join([edge, *("|" + "".join(row) + "|" for row in grid), edge])


def decision_map_legend(targets: Sequence) -> str:
    """Which character of ``decision_map`` is which class, for these targets.

    >>> decision_map_legend([-1, 1, 1])
    "region '.' predicts -1, ' ' predicts 1; sample 'o' is a -1, 'x' is a 1"
    >>> decision_map_legend([0, 2, 1])
    "region '.' predicts 0, ' ' predicts 1, '-' predicts 2; sample 'o' is a 0, 'x' is a 1, ..."
    """
    several_classes = isinstance(targets[0], int) and max(targets) > 1
    if several_classes:
        names = [str(k) for k in range(max(targets) + 1)]
    else:
        negative = [t for t in targets if t <= 0]
        positive = [t for t in targets if t > 0]
        names = [f"{negative[0]:g}" if negative else "0", f"{positive[0]:g}" if positive else "1"]
    regions = ", ".join(f"{REGION_MARKS[k]!r} predicts {n}" for k, n in enumerate(names))
    samples = ", ".join(f"{SAMPLE_MARKS[k]!r} is a {n}" for k, n in enumerate(names))
    return f"region {regions}; sample {samples}"
