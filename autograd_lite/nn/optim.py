"""Optimizers: turn the gradients left by ``backward()`` into new weights.

Plain gradient descent is the notes' rule, for every parameter w:

    w_new = w_old - learning_rate * dE/dw

``SGD`` adds momentum and weight decay to it, ``Adam`` scales each step by running averages
of the gradient. Updates change ``.data`` directly, so no graph is recorded. The learning
rate is a number or a function of the step number (0, 1, 2, ...), for schedules.

Each optimizer writes its update once, for one parameter: ``rule(w, g, *running, *settings)``
returns the new weight and the new running values (SGD's velocity, Adam's averages). ``step``
applies it to every parameter; ``fit(backend="c")`` applies the very same rule, read off as
an expression and compiled, to the weights kept in one flat buffer (the same numbers).

>>> from autograd_lite import Value
>>> w = Value(2.0, label="w")
>>> optimizer = SGD([w], lr=0.1)
>>> loss = w * w                 # dE/dw = 2w = 4
>>> loss.backward()
>>> optimizer.step()             # w = 2 - 0.1 * 4
>>> round(w.data, 6)
1.6
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from autograd_lite.checks import check_number, is_number
from autograd_lite.elementary import sqrt
from autograd_lite.engine import Value

__all__ = ["SGD", "Adam", "Optimizer", "DivergenceError"]

LearningRate = float | Callable[[int], float]


class DivergenceError(ValueError):
    """Training blew up: a loss, a gradient or a new weight is not a finite number (or the
    loss exploded, see ``autograd_lite.training.fit``). The parameters keep their values from
    before the step that went wrong. ``step`` is that step's number (0-based) and ``loss``
    the loss it measured (None when unknown); the usual cure is a smaller learning rate.

    >>> error = DivergenceError("gradient of w is nan", step=3, loss=2.5)
    >>> error.step, error.loss, str(error)
    (3, 2.5, 'gradient of w is nan')
    """

    def __init__(self, message: str, *, step: int, loss: float | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.loss = loss


class Optimizer:
    """What every optimizer shares: the parameters, the learning rate and the step count.

    ``step()`` first checks every gradient, then every new value: if one is NaN or infinite
    (an update can overflow even from finite gradients) it raises ``DivergenceError`` (a
    ``ValueError``) naming the parameter, and every parameter and the optimizer's own state
    keep their values from before the step.

    >>> from autograd_lite import Value
    >>> optimizer = SGD([Value(1.0)], lr=lambda step: 0.1 / (step + 1))
    >>> optimizer.learning_rate(), optimizer.step_count
    (0.1, 0)
    """

    def __init__(self, params: Iterable[Value], lr: LearningRate) -> None:
        name = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: needs at least one parameter; got none")
        seen = set()
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameters must be Values, got {type(p).__name__} {p!r}")
            if p in seen:  # it would be updated twice per step
                raise ValueError(f"{name}: parameter {p.label or repr(p)} is listed twice")
            seen.add(p)
        if not callable(lr):
            check_number(name, "lr", lr, minimum=0.0)
        self.lr = lr
        self.step_count = 0  # steps taken so far; the next step's number

    def learning_rate(self) -> float:
        """The learning rate of the next step: ``lr``, or ``lr(step_count)`` for a schedule."""
        if not callable(self.lr):
            return float(self.lr)
        rate = self.lr(self.step_count)
        if not is_number(rate) or not math.isfinite(rate) or rate < 0:
            raise ValueError(
                f"{type(self).__name__}: the lr schedule gave {rate!r} at step {self.step_count}; "
                "it must return a finite number >= 0"
            )
        return float(rate)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (they accumulate across ``backward()`` calls)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its gradient, then count the step."""
        for p in self.params:
            if not math.isfinite(p.grad):
                raise self.bad_gradient(p.label, p.grad, p.data)
        lr = self.learning_rate()
        before = [p.data for p in self.params]
        state = self.state()
        try:
            self.update(lr)
            bad = next((p for p in self.params if not math.isfinite(p.data)), None)
            problem = None if bad is None else f"{bad.label or 'a parameter'} became {bad.data!r}"
        except OverflowError:  # x * y can overflow before anything is stored
            problem = "an update overflowed"
        if problem:
            for p, old in zip(self.params, before):
                p.data = old
            self.restore(state)
            raise self.bad_update(problem, lr)
        self.step_count += 1

    def bad_gradient(self, label: str, grad: float, data: float) -> DivergenceError:
        """The error of a step that meets a gradient that is not a finite number."""
        return DivergenceError(
            f"{type(self).__name__}.step: gradient of {label or 'a parameter'} is {grad!r} "
            f"(data {data!r}); no parameter was changed",
            step=self.step_count,
        )

    def bad_update(self, problem: str, lr: float) -> DivergenceError:
        """The error of a step whose update went wrong (``problem`` says how)."""
        return DivergenceError(
            f"{type(self).__name__}.step: {problem} with learning rate {lr:g}; "
            "no parameter was changed",
            step=self.step_count,
        )

    # Each optimizer's update, written once for one parameter (see the module docstring).
    running: tuple[str, ...] = ()  # attributes holding a list of running values each
    settings_names: tuple[str, ...] = ()  # the numbers ``settings(lr)`` gives, in order

    @staticmethod
    def rule(w: float, g: float, *running_and_settings: float) -> tuple[float, ...]:
        """One parameter's update: (new w, new running values...) from its weight ``w``,
        gradient ``g``, running values and this step's ``settings``."""
        raise NotImplementedError("an optimizer defines rule() or update(lr)")

    def settings(self, lr: float) -> tuple[float, ...]:
        """The numbers ``rule`` reads this step besides the parameter's own, in the order
        of ``settings_names``."""
        return (lr,)

    def state(self) -> list[list[float]]:
        """A copy of the optimizer's running values (momentum, averages), for ``restore``."""
        return [list(getattr(self, name)) for name in self.running]

    def restore(self, state: list[list[float]]) -> None:
        """Put back running values saved by ``state()``."""
        for name, values in zip(self.running, state):
            setattr(self, name, values)

    def update(self, lr: float) -> None:
        """Change every parameter's ``.data`` (and the running values) by ``rule``."""
        settings, rule = self.settings(lr), self.rule
        running = [getattr(self, name) for name in self.running]
        if len(running) == 1:  # SGD: written out, a step costs little more than the rule
            (first,) = running
            for i, p in enumerate(self.params):
                p.data, first[i] = rule(p.data, p.grad, first[i], *settings)
        elif len(running) == 2:  # Adam
            first, second = running
            for i, p in enumerate(self.params):
                p.data, first[i], second[i] = rule(p.data, p.grad, first[i], second[i], *settings)
        else:
            for i, p in enumerate(self.params):
                new = rule(p.data, p.grad, *[values[i] for values in running], *settings)
                p.data = new[0]
                for values, value in zip(running, new[1:]):
                    values[i] = value


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    Per parameter, with g = grad + weight_decay * w:

        velocity = momentum * velocity + g        (velocity = g when momentum is 0)
        w        = w - lr * velocity

    >>> from autograd_lite import Value
    >>> w = Value(1.0)
    >>> optimizer = SGD([w], lr=lambda step: 0.5 / (step + 1))   # a schedule
    >>> w.grad = 1.0; optimizer.step(); w.grad = 1.0; optimizer.step()
    >>> w.data          # 1 - 0.5 - 0.25
    0.25
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = check_number("SGD", "momentum", momentum, minimum=0.0)
        if self.momentum >= 1.0:
            raise ValueError(f"SGD: momentum must be below 1, got {momentum!r}")
        self.weight_decay = check_number("SGD", "weight_decay", weight_decay, minimum=0.0)
        self.velocity = [0.0] * len(self.params)

    running = ("velocity",)
    settings_names = ("lr", "momentum", "weight_decay")

    @staticmethod
    def rule(
        w: float, g: float, velocity: float, lr: float, momentum: float, weight_decay: float
    ) -> tuple[float, float]:
        """SGD for one parameter: (new w, new velocity).

        >>> SGD.rule(1.0, 2.0, 0.0, 0.5, 0.9, 0.0)     # 1 - 0.5 * 2
        (0.0, 2.0)
        """
        g = g + weight_decay * w
        velocity = momentum * velocity + g
        return w - lr * velocity, velocity

    def settings(self, lr: float) -> tuple[float, ...]:
        return (lr, self.momentum, self.weight_decay)


class Adam(Optimizer):
    """Adam: each parameter gets its own step size from running averages of its gradient.

    Per parameter, at step t = 1, 2, ... with g = grad + weight_decay * w:

        m = beta1 * m + (1 - beta1) * g           average gradient
        v = beta2 * v + (1 - beta2) * g^2         average squared gradient
        w = w - lr * m_hat / (sqrt(v_hat) + eps)  m_hat = m / (1 - beta1^t), same for v

    >>> from autograd_lite import Value
    >>> w = Value(1.0)
    >>> optimizer = Adam([w], lr=0.1)
    >>> w.grad = 5.0; optimizer.step()
    >>> round(w.data, 6)      # the first step has size lr whatever the gradient's size
    0.9
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        for beta in betas:
            if check_number("Adam", "each beta", beta, minimum=0.0) >= 1.0:
                raise ValueError(f"Adam: betas must be below 1, got {betas!r}")
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = check_number("Adam", "eps", eps, minimum=0.0)
        if self.eps == 0.0:
            raise ValueError("Adam: eps must be > 0 (it keeps the division finite), got 0")
        self.weight_decay = check_number("Adam", "weight_decay", weight_decay, minimum=0.0)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    running = ("m", "v")
    settings_names = ("lr", "beta1", "beta2", "eps", "weight_decay", "m_correction",
                      "v_correction")  # fmt: skip

    @staticmethod
    def rule(
        w: float, g: float, m: float, v: float, lr: float, beta1: float, beta2: float,
        eps: float, weight_decay: float, m_correction: float, v_correction: float,
    ) -> tuple[float, float, float]:  # fmt: skip
        """Adam for one parameter: (new w, new m, new v); the corrections are
        1 - beta^t of this step t.

        >>> w, m, v = Adam.rule(1.0, 5.0, 0.0, 0.0, 0.1, 0.9, 0.999, 1e-8, 0.0, 1 - 0.9, 1 - 0.999)
        >>> round(w, 6)      # the first step has size lr
        0.9
        """
        g = g + weight_decay * w
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = m / m_correction
        v_hat = v / v_correction
        return w - lr * m_hat / (sqrt(v_hat) + eps), m, v

    def settings(self, lr: float) -> tuple[float, ...]:
        t = self.step_count + 1
        return (lr, self.beta1, self.beta2, self.eps, self.weight_decay, 1.0 - self.beta1**t,
                1.0 - self.beta2**t)  # fmt: skip
