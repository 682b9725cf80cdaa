"""Optimizers: updates against the formulas worked out by hand, schedules, and bad input."""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value
from autograd_lite.nn import SGD, Adam, DivergenceError


def params(*numbers):
    return [Value(x, label=f"p{i}") for i, x in enumerate(numbers)]


def test_sgd_is_the_notes_rule():
    w, b = params(2.0, -1.0)
    w.grad, b.grad = 4.0, -0.5
    SGD([w, b], lr=0.1).step()
    assert w.data == pytest.approx(2.0 - 0.1 * 4.0)  # w_new = w_old - lr * gradient
    assert b.data == pytest.approx(-1.0 + 0.1 * 0.5)
    assert (w.grad, b.grad) == (4.0, -0.5)  # step() leaves the gradients alone


def test_sgd_momentum_and_weight_decay():
    [w] = params(1.0)
    optimizer = SGD([w], lr=0.5, momentum=0.9, weight_decay=0.1)
    w.grad = 2.0
    optimizer.step()  # g = 2 + 0.1*1 = 2.1; v = 2.1; w = 1 - 0.5*2.1 = -0.05
    assert w.data == pytest.approx(-0.05)
    w.grad = 1.0
    optimizer.step()  # g = 1 + 0.1*(-0.05) = 0.995; v = 0.9*2.1 + 0.995 = 2.885
    assert w.data == pytest.approx(-0.05 - 0.5 * 2.885)


def test_learning_rate_schedule_gets_the_step_number():
    [w] = params(0.0)
    seen = []

    def schedule(step):
        seen.append(step)
        return 1.0 / (step + 1)

    optimizer = SGD([w], lr=schedule)
    for _ in range(3):
        w.grad = 1.0
        optimizer.step()
    assert seen == [0, 1, 2]
    assert w.data == pytest.approx(-(1 + 1 / 2 + 1 / 3))
    assert optimizer.step_count == 3
    assert optimizer.learning_rate() == pytest.approx(1 / 4)


def test_adam_two_steps_by_hand():
    [w] = params(1.0)
    optimizer = Adam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    w.grad = 5.0
    optimizer.step()
    # m = 0.5, v = 0.025; m_hat = 5, v_hat = 25: the step is lr * 5 / 5 = lr
    assert w.data == pytest.approx(0.9)
    w.grad = -1.0
    optimizer.step()
    m = 0.9 * 0.5 + 0.1 * -1.0
    v = 0.999 * 0.025 + 0.001 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    assert w.data == pytest.approx(0.9 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8))


def test_adam_weight_decay_adds_to_the_gradient():
    [w] = params(2.0)
    optimizer = Adam([w], lr=0.1, weight_decay=0.5)
    w.grad = 0.0  # only the decay term 0.5 * 2 = 1 pushes: first step has size lr
    optimizer.step()
    assert w.data == pytest.approx(1.9)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.5), lambda p: Adam(p, 0.1)])
def test_optimizers_minimise_a_bowl(make):
    x, y = params(3.0, -2.0)
    optimizer = make([x, y])
    for _ in range(300):
        loss = (x - 1.0) ** 2 + 2.0 * (y + 0.5) ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert (x.data, y.data) == pytest.approx((1.0, -0.5), abs=1e-3)


def test_zero_grad():
    ps = params(1.0, 2.0)
    for p in ps:
        p.grad = 3.0
    SGD(ps, lr=0.1).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p)])
def test_a_non_finite_gradient_is_named_and_nothing_changes(make, bad):
    ps = params(1.0, 2.0, 3.0)
    optimizer = make(ps)
    ps[0].grad, ps[1].grad, ps[2].grad = 0.5, bad, 0.25
    with pytest.raises(ValueError, match=r"step: gradient of p1 is .*no parameter was changed"):
        optimizer.step()
    assert [p.data for p in ps] == [1.0, 2.0, 3.0]
    assert [p.grad for p in ps][::2] == [0.5, 0.25]
    assert optimizer.step_count == 0


def test_a_bad_schedule_value_is_reported():
    [w] = params(1.0)
    optimizer = SGD([w], lr=lambda step: -1.0)
    with pytest.raises(ValueError, match="schedule gave -1.0 at step 0"):
        optimizer.step()
    assert w.data == 1.0


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: SGD([], lr=0.1), ValueError, "SGD: needs at least one parameter"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "parameters must be Values"),
        (lambda: SGD(params(1.0), lr=-0.1), ValueError, "lr must be >= 0"),
        (lambda: SGD(params(1.0), lr="fast"), TypeError, "lr must be a number"),
        (lambda: SGD(params(1.0), lr=math.nan), ValueError, "lr must be finite"),
        (lambda: SGD(params(1.0), lr=0.1, momentum=1.0), ValueError, "momentum must be below 1"),
        (lambda: SGD(params(1.0), lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
        (lambda: Adam(params(1.0), betas=(0.9, 1.0)), ValueError, "betas must be below 1"),
        (lambda: Adam(params(1.0), betas=0.9), ValueError, "betas must be a pair"),
        (lambda: Adam(params(1.0), eps=0.0), ValueError, "eps must be > 0"),
    ],
)
def test_bad_settings_are_named(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_a_parameter_listed_twice_is_refused():
    [w] = params(1.0)
    with pytest.raises(ValueError, match="parameter p0 is listed twice"):
        Adam([w, w])


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=1e300, momentum=0.5), lambda ps: Adam(ps, lr=1e307)]
)
def test_an_update_that_would_make_a_weight_infinite_changes_nothing(make):
    w, v = Value(-1.6e308, label="w"), Value(1.0, label="v")
    optimizer = make([v, w])
    v.grad, w.grad = 0.1, 0.1
    optimizer.step()  # a sound first step, so the running state has something to keep
    state = [list(s) for s in optimizer.state()]
    before = (v.data, w.data)
    v.grad, w.grad = 0.0, 1e10  # only w goes off the float range
    with pytest.raises(DivergenceError, match=r"step: w became -inf with learning rate"):
        optimizer.step()
    assert (v.data, w.data) == before and optimizer.state() == state
    assert optimizer.step_count == 1
