"""Datasets: shapes, geometry without noise, labels, determinism, and bad arguments."""

from __future__ import annotations

import math

import pytest

from autograd_lite.nn import data

MAKERS = {
    "moons": lambda seed: data.moons(50, noise=0.1, seed=seed),
    "circles": lambda seed: data.circles(50, noise=0.1, seed=seed),
    "spiral": lambda seed: data.spiral(20, classes=4, seed=seed),
    "sine": lambda seed: data.sine(30, noise=0.1, seed=seed),
}


@pytest.mark.parametrize("name", MAKERS)
def test_same_seed_same_data_other_seed_other_data(name):
    make = MAKERS[name]
    assert make(3) == make(3)
    assert make(3) != make(4)


@pytest.mark.parametrize("name", MAKERS)
def test_plain_lists_of_floats(name):
    points, targets = MAKERS[name](0)
    assert isinstance(points, list) and isinstance(targets, list)
    assert len(points) == len(targets)
    assert all(isinstance(p, list) and all(type(x) is float for x in p) for p in points)


def test_xor_is_the_truth_table():
    assert data.xor() == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    assert data.xor(labels=(-1, 1))[1] == [-1, 1, 1, -1]


def test_xor_samples_go_round_the_corners_with_the_asked_noise():
    points, targets = data.xor(labels=(-1, 1), n=4000, noise=0.2, seed=3)
    assert len(points) == len(targets) == 4000
    corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 1000
    assert targets == [-1, 1, 1, -1] * 1000  # each point keeps its corner's target
    offsets = [p - c for point, corner in zip(points, corners) for p, c in zip(point, corner)]
    mean = sum(offsets) / len(offsets)
    std = math.sqrt(sum((d - mean) ** 2 for d in offsets) / len(offsets))
    assert abs(mean) < 0.01 and std == pytest.approx(0.2, rel=0.03)
    assert data.xor(n=8, noise=0.2, seed=3) == data.xor(n=8, noise=0.2, seed=3)
    assert data.xor(n=8, noise=0.2, seed=3) != data.xor(n=8, noise=0.2, seed=4)
    assert data.xor(n=8) == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 2, [0, 1, 1, 0] * 2)


def test_moons_without_noise_lie_on_two_half_circles():
    points, targets = data.moons(101, noise=0.0, seed=0)
    assert targets.count(-1) == 50 and targets.count(1) == 51
    for (x, y), label in zip(points, targets):
        if label == -1:  # upper moon: centre (0, 0), radius 1, y >= 0
            assert math.hypot(x, y) == pytest.approx(1.0) and y >= -1e-12
        else:  # lower moon: centre (1, 0.5), radius 1, y <= 0.5
            assert math.hypot(x - 1.0, y - 0.5) == pytest.approx(1.0) and y <= 0.5 + 1e-12
    assert sorted(set(data.moons(10, labels=(0, 1))[1])) == [0, 1]


def test_moons_noise_has_the_asked_size():
    clean, _ = data.moons(2000, noise=0.0, seed=1)
    noisy, _ = data.moons(2000, noise=0.2, seed=1)
    # same shuffle (the noise draws come first), so points pair up; offsets have std 0.2
    offsets = [a - b for p, q in zip(noisy, clean) for a, b in zip(p, q)]
    mean = sum(offsets) / len(offsets)
    std = math.sqrt(sum((d - mean) ** 2 for d in offsets) / len(offsets))
    assert abs(mean) < 0.02 and std == pytest.approx(0.2, rel=0.1)


def test_circles_without_noise():
    points, targets = data.circles(40, noise=0.0, factor=0.3)
    for point, label in zip(points, targets):
        assert math.hypot(*point) == pytest.approx(0.3 if label == 1 else 1.0)
    assert targets.count(1) == targets.count(-1) == 20


def test_spiral_arms_and_radius():
    points, targets = data.spiral(10, classes=3, noise=0.0)
    assert sorted(targets) == [0] * 10 + [1] * 10 + [2] * 10
    radii = sorted(round(math.hypot(*p), 9) for p in points)
    assert radii == sorted(round(i / 9, 9) for i in range(10) for _ in range(3))
    for (x, y), k in zip(points, targets):
        r = math.hypot(x, y)
        if r > 0:  # the angle is 4k + 4r (mod 2 pi)
            angle = math.atan2(x, y)
            assert math.cos(angle - (4 * k + 4 * r)) == pytest.approx(1.0)


def test_sine():
    points, targets = data.sine(5, low=-1.0, high=1.0)
    assert points == [[-1.0], [-0.5], [0.0], [0.5], [1.0]]
    assert targets == pytest.approx([math.sin(x) for (x,) in points])


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: data.moons(1), ValueError, "moons: n must be >= 2"),
        (lambda: data.moons(10.0), TypeError, "moons: n must be an int"),
        (lambda: data.moons(10, noise=-0.1), ValueError, "noise must be >= 0"),
        (lambda: data.moons(10, noise=math.inf), ValueError, "noise must be finite"),
        (lambda: data.moons(10, labels=(1, 1)), ValueError, "labels must be two different"),
        (lambda: data.xor(labels=("a", "b")), ValueError, "labels must be two different"),
        (lambda: data.xor(n=3), ValueError, "xor: n must be >= 4"),
        (lambda: data.xor(n=8, noise=-1.0), ValueError, "xor: noise must be >= 0"),
        (lambda: data.circles(10, factor=1.5), ValueError, "factor must be below 1"),
        (lambda: data.spiral(10, classes=1), ValueError, "classes must be >= 2"),
        (lambda: data.spiral(True), TypeError, "n_per_class must be an int"),
        (lambda: data.sine(5, low=1.0, high=0.0), ValueError, "high must be above low"),
    ],
)
def test_bad_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
