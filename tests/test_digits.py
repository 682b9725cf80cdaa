"""data.digits(): the images scikit-learn ships, scaled, with a fixed stratified split; and
the pictures of images and confusion counts."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import needs_extra

from autograd_lite.nn import data
from autograd_lite.visualize.images import draw_confusion, draw_images


@pytest.fixture(scope="module")
def digits():
    needs_extra("sklearn")
    return data.digits()


def test_sizes_scale_and_classes(digits):
    (train_points, train_targets), (test_points, test_targets) = digits
    assert (len(train_points), len(test_points)) == (1347, 450)
    assert all(len(p) == 64 for p in train_points + test_points)
    pixels = [v for p in train_points + test_points for v in p]
    assert min(pixels) == 0.0 and max(pixels) == 1.0
    assert all(v * 16 == round(v * 16) for v in pixels)  # 0..16 divided by 16
    assert set(train_targets) == set(test_targets) == set(range(10))
    assert all(type(t) is int for t in train_targets)
    # stratified: every digit about a quarter held out
    held, kept = Counter(test_targets), Counter(train_targets)
    for k in range(10):
        assert abs(held[k] / (held[k] + kept[k]) - 0.25) < 0.02


def test_split_is_fixed_and_disjoint(digits):
    (train_points, _), (test_points, _) = digits
    (again, _), _ = data.digits()
    assert again == train_points
    # no image is in both parts (the dataset has no exact duplicates across the split)
    assert not {tuple(p) for p in train_points} & {tuple(p) for p in test_points}
    (other, _), _ = data.digits(seed=1)
    assert other != train_points


def test_first_image_is_a_zero(digits):
    """sklearn's sample 0 is a 0 whose top row is 0 0 5 13 9 1 0 0 (of 16)."""
    row = [0, 0, 5 / 16, 13 / 16, 9 / 16, 1 / 16, 0, 0]
    found = [t for part in digits for p, t in zip(*part) if p[:8] == row]
    assert found and set(found) == {0}


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="digits: test_fraction"):
        data.digits(test_fraction=fraction)


def test_pictures():
    picture = draw_images([[0.0, 1.0, 0.5, 0.25]], ["guess 1 (true 7)"], width=2, wrong=[True])
    source = picture.source
    assert source.count("<TD WIDTH=") == 4
    assert 'BGCOLOR="#000000"' in source and 'BGCOLOR="#ffffff"' in source  # 1 black, 0 white
    assert "guess 1 (true 7)" in source
    with pytest.raises(ValueError, match="as many captions"):
        draw_images([[0.0] * 4], [])
    with pytest.raises(ValueError, match="multiple of 8"):
        draw_images([[0.0] * 5], ["x"])
    confusion = draw_confusion([[3, 1], [0, 5]], labels=["cat", "dog"]).source
    assert "<B>3</B>" in confusion and "<B>5</B>" in confusion and "cat" in confusion
    with pytest.raises(ValueError, match="square"):
        draw_confusion([[1, 2]])
