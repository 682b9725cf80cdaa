"""Small datasets made in code: plain lists, the same every time for the same seed.

Each function returns ``(points, targets)``: ``points`` a list of samples, each a list of
floats (the network's inputs), and ``targets`` a list with one target per sample.

* ``xor``, ``moons``, ``circles``, ``blobs`` -- two classes. ``labels=(negative, positive)``
  picks the two target values: (-1, 1) suits ``hinge_loss``, (0, 1) the cross-entropies.
* ``spiral`` -- several classes, targets 0, 1, ..., k-1 (for ``softmax_cross_entropy``).
* ``sine`` -- regression: y = sin(x) plus noise.
* ``digits`` -- 8x8 images of handwritten digits, read from scikit-learn's package (an
  optional extra: ``pip install ".[datasets]"``), already split into train and test.

>>> points, targets = moons(6, noise=0.0, seed=0)
>>> len(points), len(points[0]), sorted(set(targets))
(6, 2, [-1, 1])
"""

from __future__ import annotations

import math
import random

from autograd_lite.checks import check_count, check_number, check_seed, is_number

__all__ = ["blobs", "circles", "digits", "moons", "sine", "spiral", "xor"]

Dataset = tuple[list[list[float]], list]


def _check_labels(where: str, labels: object) -> tuple:
    if (
        not isinstance(labels, (tuple, list))
        or len(labels) != 2
        or not all(is_number(label) for label in labels)
        or labels[0] == labels[1]
    ):
        raise ValueError(f"{where}: labels must be two different numbers, got {labels!r}")
    return tuple(labels)


def _jittered(rng: random.Random, points: list, noise: float) -> list[list[float]]:
    """Every coordinate plus Gaussian noise with standard deviation ``noise``."""
    return [[x + rng.gauss(0.0, noise) for x in point] for point in points]


def _shuffled(rng: random.Random, points: list, targets: list) -> Dataset:
    """Shuffle samples and targets together, so classes are mixed in every mini-batch."""
    order = list(range(len(points)))
    rng.shuffle(order)
    return [points[i] for i in order], [targets[i] for i in order]


def _linspace(start: float, stop: float, count: int) -> list[float]:
    """``count`` evenly spaced numbers from ``start`` to ``stop``, both included."""
    if count == 1:
        return [start]
    return [start + (stop - start) * i / (count - 1) for i in range(count)]


def xor(labels: tuple = (0, 1), n: int = 4, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """The four corners of the XOR truth table: the target is positive when x0 != x1.

    ``n`` points go round the corners in the table's order (point i at corner i % 4, so
    every class is in every stretch of 4), each moved by Gaussian ``noise`` (a standard
    deviation) and keeping its corner's target. By default: the 4 exact corners.

    >>> xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    >>> points, targets = xor(labels=(-1, 1), n=6, noise=0.1)
    >>> len(points), targets
    (6, [-1, 1, 1, -1, -1, 1])
    """
    negative, positive = _check_labels("xor", labels)
    check_count("xor", "n", n, minimum=4)  # each corner at least once
    noise = check_number("xor", "noise", noise, minimum=0.0)
    rng = random.Random(check_seed("xor", "seed", seed))
    corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    points = [corners[i % 4] for i in range(n)]
    targets = [positive if a != b else negative for a, b in points]
    return _jittered(rng, points, noise), targets  # noise 0: exactly the corners


def moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0, labels: tuple = (-1, 1)
) -> Dataset:
    """Two interleaving half circles, ``n`` points, with Gaussian ``noise`` (a std. deviation).

    The upper moon has centre (0, 0) and radius 1, the lower one centre (1, 0.5); the lower
    moon is the positive class. Labels default to -1 / +1, for the hinge loss.

    >>> points, targets = moons(4, noise=0.0, seed=1)
    >>> sorted((round(a, 3), round(b, 3), label) for (a, b), label in zip(points, targets))
    [(-1.0, 0.0, -1), (0.0, 0.5, 1), (1.0, 0.0, -1), (2.0, 0.5, 1)]
    """
    check_count("moons", "n", n, minimum=2)
    noise = check_number("moons", "noise", noise, minimum=0.0)
    negative, positive = _check_labels("moons", labels)
    rng = random.Random(check_seed("moons", "seed", seed))
    upper, lower = n // 2, n - n // 2
    points, targets = [], []
    for t in _linspace(0.0, math.pi, upper):
        points.append([math.cos(t), math.sin(t)])
        targets.append(negative)
    for t in _linspace(0.0, math.pi, lower):
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        targets.append(positive)
    return _shuffled(rng, _jittered(rng, points, noise), targets)


def circles(
    n: int = 100,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | None = 0,
    labels: tuple = (-1, 1),
) -> Dataset:
    """A small circle (radius ``factor``, the positive class) inside a circle of radius 1.

    >>> points, targets = circles(4, noise=0.0)
    >>> sorted((round(math.hypot(*x), 3), label) for x, label in zip(points, targets))
    [(0.5, 1), (0.5, 1), (1.0, -1), (1.0, -1)]
    """
    check_count("circles", "n", n, minimum=2)
    noise = check_number("circles", "noise", noise, minimum=0.0)
    factor = check_number("circles", "factor", factor, minimum=0.0)
    if factor >= 1.0:
        raise ValueError(f"circles: factor must be below 1 (inner radius), got {factor!r}")
    negative, positive = _check_labels("circles", labels)
    rng = random.Random(check_seed("circles", "seed", seed))
    points, targets = [], []
    for radius, count, label in ((1.0, n // 2, negative), (factor, n - n // 2, positive)):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            points.append([radius * math.cos(t), radius * math.sin(t)])
            targets.append(label)
    return _shuffled(rng, _jittered(rng, points, noise), targets)


def blobs(
    n: int = 100, noise: float = 0.5, seed: int | None = 0, labels: tuple = (-1, 1)
) -> Dataset:
    """Two round Gaussian clouds of ``n`` points: the negative class around (-1, -1), the
    positive class around (1, 1), each coordinate spread by ``noise`` (a standard deviation).

    >>> points, targets = blobs(4, noise=0.0)
    >>> sorted((x, y, label) for (x, y), label in zip(points, targets))
    [(-1.0, -1.0, -1), (-1.0, -1.0, -1), (1.0, 1.0, 1), (1.0, 1.0, 1)]
    """
    check_count("blobs", "n", n, minimum=2)
    noise = check_number("blobs", "noise", noise, minimum=0.0)
    negative, positive = _check_labels("blobs", labels)
    rng = random.Random(check_seed("blobs", "seed", seed))
    half = n // 2
    points = [[-1.0, -1.0]] * half + [[1.0, 1.0]] * (n - half)
    targets = [negative] * half + [positive] * (n - half)
    return _shuffled(rng, _jittered(rng, points, noise), targets)


def spiral(
    n_per_class: int = 50, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> Dataset:
    """``classes`` spiral arms winding out from the centre, ``n_per_class`` points each.

    Point i of arm k sits at radius r = i / (n-1) and angle 4k + 4r (radians), the angle
    jittered by ``noise``. Targets are the arm numbers 0 .. classes-1.

    >>> points, targets = spiral(5, classes=3, seed=0)
    >>> len(points), sorted(set(targets))
    (15, [0, 1, 2])
    """
    check_count("spiral", "n_per_class", n_per_class, minimum=2)
    check_count("spiral", "classes", classes, minimum=2)
    noise = check_number("spiral", "noise", noise, minimum=0.0)
    rng = random.Random(check_seed("spiral", "seed", seed))
    points, targets = [], []
    for k in range(classes):
        for r in _linspace(0.0, 1.0, n_per_class):
            angle = 4.0 * k + 4.0 * r + rng.gauss(0.0, noise)
            points.append([r * math.sin(angle), r * math.cos(angle)])
            targets.append(k)
    return _shuffled(rng, points, targets)


def sine(
    n: int = 40,
    noise: float = 0.0,
    seed: int | None = 0,
    low: float = -math.pi,
    high: float = math.pi,
) -> Dataset:
    """``n`` evenly spaced x from ``low`` to ``high`` with targets sin(x) + Gaussian noise.

    >>> points, targets = sine(3, low=0.0, high=math.pi)
    >>> [round(x, 4) for (x,) in points], [round(t, 4) for t in targets]
    ([0.0, 1.5708, 3.1416], [0.0, 1.0, 0.0])
    """
    check_count("sine", "n", n, minimum=1)
    noise = check_number("sine", "noise", noise, minimum=0.0)
    low = check_number("sine", "low", low)
    high = check_number("sine", "high", high)
    if high <= low:
        raise ValueError(f"sine: high must be above low, got low={low!r}, high={high!r}")
    rng = random.Random(check_seed("sine", "seed", seed))
    points = [[x] for x in _linspace(low, high, n)]
    return points, [math.sin(x) + rng.gauss(0.0, noise) for (x,) in points]


DIGITS_MESSAGE = 'data.digits() needs scikit-learn: pip install ".[datasets]" (or scikit-learn)'


def digits(test_fraction: float = 0.25, seed: int | None = 0) -> tuple[Dataset, Dataset]:
    """Handwritten digits: 1,797 images of 8x8 pixels, classes 0-9, as ``(train, test)``.

    The images ship inside scikit-learn's package (``sklearn.datasets.load_digits``), so
    nothing is downloaded. Each sample is the 64 pixels read row by row, scaled from the
    original 0..16 to 0..1; each target is the digit (an int, for
    ``softmax_cross_entropy``). The split is fixed by ``seed``: within each class the
    samples are shuffled and ``test_fraction`` of them held out, so both parts hold every
    digit in the same proportions. Without scikit-learn it raises ``ImportError`` with the
    line to install it.

    >>> (train_points, train_targets), (test_points, test_targets) = digits()
    >>> len(train_points), len(test_points), len(train_points[0])
    (1347, 450, 64)
    >>> min(min(p) for p in train_points), max(max(p) for p in train_points)
    (0.0, 1.0)
    """
    test_fraction = check_number("digits", "test_fraction", test_fraction)
    seed = check_seed("digits", "seed", seed)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits: test_fraction must be between 0 and 1, got {test_fraction!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(DIGITS_MESSAGE) from None
    bunch = load_digits()
    by_class: dict[int, list[list[float]]] = {}
    for pixels, target in zip(bunch.data.tolist(), bunch.target.tolist()):
        by_class.setdefault(int(target), []).append([value / 16.0 for value in pixels])
    rng = random.Random(seed)
    train: tuple[list, list] = ([], [])
    test: tuple[list, list] = ([], [])
    for target in sorted(by_class):
        samples = by_class[target]
        rng.shuffle(samples)
        held_out = round(len(samples) * test_fraction)
        for part, chosen in ((test, samples[:held_out]), (train, samples[held_out:])):
            part[0].extend(chosen)
            part[1].extend([target] * len(chosen))
    return _shuffled(rng, *train), _shuffled(rng, *test)
