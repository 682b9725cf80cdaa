"""Loss functions: one Value that says how wrong the outputs are (the notes' error E).

Every loss takes the model's ``outputs`` (Values) and the ``targets`` (numbers) and returns a
single Value, so ``loss.backward()`` fills every weight's ``grad``. Outputs and targets have
the same shape: one value, a list with one value per sample, or a list of lists when each
sample has several outputs. Sums are single ``sum`` nodes; means divide that node by the count.

Bad targets (wrong shape, a label the loss does not use, NaN) raise a ``ValueError`` or a
``TypeError`` naming the loss, before any node is made.

Every loss names its nodes in the notes' language (``autograd_lite.names``), so a step of
the backward pass reads ``∂E/∂e0 += ...`` rather than ``∂E/∂(-) += ...``: for output k the
target ``t{k}``, the error ``e{k} = t{k} − a_k`` and its square ``e{k}^2`` (squared-error
losses), the output's term of the loss ``E{k}``; the sum of the terms ``ΣE`` when a mean
divides it by the count; and the loss ``E``. k counts the outputs of one sample, or the
items of a flat list. (Naming costs one string assignment per node: the names are built once.)

>>> from autograd_lite import Value
>>> out = Value(0.8, label="out")
>>> loss = half_sum_squared_error(out, 1.0)    # E = 1/2 (target - output)^2
>>> loss.backward()
>>> round(loss.data, 6), round(out.grad, 6)    # dE/d(out) = -(target - output)
(0.02, -0.2)
>>> loss.label, [v.label for v in loss.inputs], loss.inputs[0].inputs[0].label
('E', ['E0'], 'e0^2')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd_lite.checks import check_number, is_number, wrong_kind
from autograd_lite.engine import Value
from autograd_lite.names import Role, error_node, squared
from autograd_lite.program.decisions import require
from autograd_lite.sums import sum_values

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "half_sum_squared_error",
    "hinge_loss",
    "l2_penalty",
    "mean_squared_error",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
]

# probabilities are clipped to [EPSILON, 1 - EPSILON] so log() never sees 0
EPSILON = 1e-12


def _as_list(loss: str, name: str, x: object) -> list:
    if isinstance(x, Value) or is_number(x):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(
        f"{loss}: {name} must be a Value, a number or a list of them, got {type(x).__name__} {x!r}"
    )


def _same_length(loss: str, outputs: list, targets: list, where: str = "") -> None:
    if len(outputs) != len(targets):
        raise ValueError(
            f"{loss}: got {len(outputs)} outputs{where} but {len(targets)} targets; "
            "they must match one to one"
        )


def _as_value(loss: str, output: object) -> Value:
    if isinstance(output, Value):
        return output
    if is_number(output):
        return Value(output)
    raise TypeError(
        f"{loss}: outputs must be Values or numbers, got {type(output).__name__} {output!r}"
    )


def _pairs(loss: str, outputs: object, targets: object) -> list[tuple[Value, float | Value, int]]:
    """(output Value, target, k) for every output, checking that the shapes match; k is the
    output's number in its sample (its place in a flat list), the k of its nodes' names."""
    outputs, targets = _as_list(loss, "outputs", outputs), _as_list(loss, "targets", targets)
    _same_length(loss, outputs, targets)
    pairs = []
    for i, (output, target) in enumerate(zip(outputs, targets)):
        if isinstance(output, (list, tuple)):  # one sample with several outputs
            target = _as_list(loss, f"targets[{i}]", target)
            _same_length(loss, output, target, f" for sample {i}")
            pairs.extend((o, t, k) for k, (o, t) in enumerate(zip(output, target)))
        else:
            if isinstance(target, (list, tuple)) and len(target) == 1:
                target = target[0]  # a one-output model's target written as [t]
            pairs.append((output, target, i))
    if not pairs:
        raise ValueError(f"{loss}: needs at least one output; got none")
    return [(_as_value(loss, o), _target(loss, t), k) for o, t, k in pairs]


def _target(loss: str, t: object) -> float | Value:
    """A target number, or a leaf Value kept as is (a replayed program feeds it anew)."""
    if isinstance(t, Value) and not t.op:
        check_number(loss, "each target", t.data)
        return t
    return check_number(loss, "each target", t)


def _named(node: Value, role: Role, k: int | None = None) -> Value:
    node.label = error_node(role, k)
    return node


def _target_node(t: float | Value, k: int) -> Value:
    """The target as the leaf t_k (a fed target Value is the user's: kept as it is)."""
    return t if isinstance(t, Value) else Value(t, error_node(Role.TARGET, k))


def _error_term(output: Value, t: float | Value, k: int) -> Value:
    """e_k = t_k − a_k, how wrong output k was (True_Answer − Predicted_Answer)."""
    return _named(_target_node(t, k) - output, Role.ERROR_TERM, k)


def _squared_error(output: Value, t: float | Value, k: int) -> Value:
    return _named(_error_term(output, t, k) ** 2, Role.SQUARED_ERROR, k)


def _mean(terms: list[Value]) -> Value:
    """E = ΣE / n: the terms summed (the node ΣE), divided by their count."""
    return _named(_named(sum_values(terms), Role.ERROR_SUM) / len(terms), Role.ERROR)


def mean_squared_error(outputs: object, targets: object) -> Value:
    """Mean of (output - target)^2 over every output: the usual loss for regression.

    >>> round(mean_squared_error([Value(1.0), Value(3.0)], [0.0, 1.0]).data, 6)   # (1 + 4) / 2
    2.5
    """
    pairs = _pairs("mean_squared_error", outputs, targets)
    return _mean([_squared_error(output, target, k) for output, target, k in pairs])


def half_sum_squared_error(outputs: object, targets: object) -> Value:
    """The notes' error E = Σ ½ (t − a)², every node named as the notes name it.

    For output k: the target is the leaf ``t{k}``, ``e{k} = t{k} − a`` how wrong it was,
    ``e{k}^2`` its square, ``E{k} = 0.5 × e{k}^2`` its share of the error, and ``E`` the sum
    of the shares. The 1/2 cancels the 2 of the derivative: ∂E/∂a = −(t − a) = a − t.

    >>> E = half_sum_squared_error([Value(0.75), Value(0.5)], [1.0, 0.0])
    >>> round(E.data, 6), [share.label for share in E.inputs]
    (0.15625, ['E0', 'E1'])
    """
    pairs = _pairs("half_sum_squared_error", outputs, targets)
    shares = [
        _named(0.5 * _squared_error(output, target, k), Role.ERROR_SHARE, k)
        for output, target, k in pairs
    ]
    return _named(sum_values(shares), Role.ERROR)


def binary_cross_entropy(probabilities: object, targets: object) -> Value:
    """Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], targets y in [0, 1].

    p usually comes from a sigmoid. It is clipped to [1e-12, 1 - 1e-12] so log never sees 0;
    where it is clipped no gradient flows, which is why a saturated sigmoid learns slowly here.
    Prefer ``binary_cross_entropy_with_logits`` on the value before the sigmoid.

    >>> round(binary_cross_entropy([Value(0.8), Value(0.4)], [1, 0]).data, 6)  # -(ln .8 + ln .6)/2
    0.366985
    """
    loss = "binary_cross_entropy"
    pairs = _pairs(loss, probabilities, targets)
    for p, y, _ in pairs:
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"{loss}: probabilities must be in [0, 1], got {p.data!r}")
        _check_probability_target(loss, y)
    terms = []
    for p, y, k in pairs:
        term = []  # skip a term whose weight is 0 (a fed target keeps both: no branch)
        t = _target_node(y, k)
        if isinstance(y, Value) or y > 0.0:
            term.append(t * _clipped(p).log())
        if isinstance(y, Value) or y < 1.0:
            term.append((1.0 - y) * (1.0 - _clipped(p)).log())  # 1 − t: a number, or a node
        terms.append(_named(-sum_values(term), Role.ERROR_SHARE, k))
    return _mean(terms)


def _clipped(p: Value) -> Value:
    # min(max(p, EPSILON), 1 - EPSILON) with graph ops, not an `if` on p.data: a traced
    # program replayed with other data must clip too. Inside the range it is exactly p
    # (slope 1); outside, the relu terms cancel p's slope (no gradient).
    return p - (p - (1.0 - EPSILON)).relu() + (EPSILON - p).relu()


def _check_probability_target(loss: str, y: float) -> None:
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"{loss}: targets must be in [0, 1] (labels 0 and 1), got {y!r}")


def binary_cross_entropy_with_logits(logits: object, targets: object) -> Value:
    """Binary cross-entropy of sigmoid(z), computed from the logit z without overflow.

    Per sample it is -(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))) = log(1 + e^z) - z*y,
    whose gradient is simply sigmoid(z) - y. ``softplus`` computes log(1 + e^z) safely.

    >>> from autograd_lite import Value
    >>> round(binary_cross_entropy_with_logits(Value(0.0), 1).data, 6)   # ln 2
    0.693147
    >>> binary_cross_entropy_with_logits(Value(-1000.0), 1).data          # no overflow
    1000.0
    """
    loss = "binary_cross_entropy_with_logits"
    pairs = _pairs(loss, logits, targets)
    for _, y, _ in pairs:
        _check_probability_target(loss, y)
    return _mean(
        [_named(softplus(z) - z * _target_node(y, k), Role.ERROR_SHARE, k) for z, y, k in pairs]
    )


def softplus(z: Value) -> Value:
    """log(1 + e^z), written as (z + |z|)/2 + log(1 + e^-|z|) so that exp never overflows.

    No `if` on z's value: the graph is the same for every z, so a traced program replayed
    with other data stays right. (z + |z|)/2 is exactly max(z, 0) and its slope at z = 0 is
    1/2, the true slope of softplus there; relu, whose slope at 0 is 0, would be wrong there.

    >>> round(softplus(Value(0.0)).data, 6), softplus(Value(1000.0)).data
    (0.693147, 1000.0)
    """
    magnitude = z.abs()
    return 0.5 * (z + magnitude) + ((-magnitude).exp() + 1.0).log()


def hinge_loss(scores: object, targets: object) -> Value:
    """Max-margin loss: mean of max(0, 1 - y * score) with labels y = -1 or +1.

    A sample costs nothing once it is on the right side with a margin of 1; the sign of the
    score is the predicted class.

    >>> round(hinge_loss([Value(2.0), Value(0.5), Value(0.5)], [1, 1, -1]).data, 6)
    0.666667
    """
    pairs = _pairs("hinge_loss", scores, targets)
    for _, y, _ in pairs:
        if float(y) not in (-1.0, 1.0):
            raise ValueError(
                f"hinge_loss: targets must be -1 or +1, got {y!r} (datasets: labels=(-1, 1))"
            )
    return _mean(
        [
            _named((1.0 - score * _target_node(y, k)).relu(), Role.ERROR_SHARE, k)
            for score, y, k in pairs
        ]
    )


def _check_logits(loss: str, logits: object) -> list[Value]:
    if not isinstance(logits, (list, tuple)) or len(logits) < 2:
        raise ValueError(f"{loss}: needs a list of at least 2 logits per sample, got {logits!r}")
    return [_as_value(loss, z) for z in logits]


# The shift is a number taken from the logits the graph was built on: a replay of the graph
# (autograd_lite.program) keeps it for other logits. softmax does not depend on it, so the
# replay stays right while every exp(z - shift) stays finite and the largest one a normal
# float: each z - shift <= SHIFT_LIMIT and Σ exp(z - shift) >= e^-SHIFT_LIMIT (e^700 leaves
# room for a sum of thousands of terms; e^-700 keeps the sum a normal float, all 53 bits).
# A replay checks both (autograd_lite.program.guards).
SHIFT_LIMIT = 700.0


_SHIFT_WHAT = f"softmax's shift (the largest logit when traced) keeps z - shift <= {SHIFT_LIMIT:g}"
_SUM_WHAT = f"softmax's shift keeps Σ exp(z - shift) >= e^-{SHIFT_LIMIT:g}"
_SUM_LIMIT = math.exp(-SHIFT_LIMIT)


def _shift_fits(anchors: list[Value], shifted: list[Value], total: Value) -> None:
    conditions = [(s, "<=", SHIFT_LIMIT, _SHIFT_WHAT) for s in shifted]
    conditions.append((total, ">=", _SUM_LIMIT, _SUM_WHAT))
    require(anchors, conditions)


def softmax(logits: Sequence[Value | float]) -> list[Value]:
    """Probabilities exp(z_i) / sum_j exp(z_j), shifted by max(z) so exp never overflows.

    >>> [round(p.data, 4) for p in softmax([Value(1.0), Value(1.0), Value(1000.0)])]
    [0.0, 0.0, 1.0]
    """
    logits = _check_logits("softmax", logits)
    shift = max(z.data for z in logits)  # a constant: softmax(z - c) == softmax(z)
    shifted = [z - shift for z in logits]
    exps = [s.exp() for s in shifted]
    total = sum_values(exps)
    probabilities = [e / total for e in exps]
    _shift_fits(probabilities, shifted, total)
    return probabilities


def softmax_cross_entropy(logits: object, targets: object) -> Value:
    """Cross-entropy of softmax(logits) for classes 0..k-1, mean over samples.

    ``logits`` is one list of k Values (one sample, ``targets`` an int) or a list of such
    lists (``targets`` a list of ints). Per sample it is log(sum_j exp(z_j)) - z_target,
    computed with the log-sum-exp shift by max(z), so large logits do not overflow.

    >>> from autograd_lite import Value
    >>> round(softmax_cross_entropy([Value(0.0), Value(0.0)], 1).data, 6)    # ln 2
    0.693147
    >>> round(softmax_cross_entropy([[Value(1000.0), Value(0.0)]], [0]).data, 6)
    0.0
    """
    loss = "softmax_cross_entropy"
    if isinstance(logits, (list, tuple)) and logits and isinstance(logits[0], (Value, int, float)):
        logits, targets = [logits], [targets]  # a single sample
    samples = _as_list(loss, "logits", logits)
    targets = _as_list(loss, "targets", targets)
    _same_length(loss, samples, targets)
    if not samples:
        raise ValueError(f"{loss}: needs at least one sample; got none")
    samples = [_check_logits(loss, sample) for sample in samples]
    for sample, target in zip(samples, targets):
        if not isinstance(target, int) or isinstance(target, bool):
            raise wrong_kind(loss, "targets", "class numbers (int)", target)
        if not 0 <= target < len(sample):
            raise ValueError(
                f"{loss}: target class {target} is out of range for {len(sample)} logits"
            )
    terms = []
    for k, (sample, target) in enumerate(zip(samples, targets)):
        shift = max(z.data for z in sample)
        shifted = [z - shift for z in sample]
        total = sum_values([s.exp() for s in shifted])
        log_sum_exp = total.log()
        _shift_fits([log_sum_exp], shifted, total)
        terms.append(_named(log_sum_exp - (sample[target] - shift), Role.ERROR_SHARE, k))
    return _mean(terms)


def l2_penalty(parameters: Sequence[Value], strength: float) -> Value:
    """``strength * sum(p^2)``: added to a loss, it pulls every weight a little towards 0.

    Its nodes are named: each labelled parameter's square ``w^2`` (``L0.n0.w0^2``), their
    sum ``Σw^2`` and the penalty ``P``.

    >>> P = l2_penalty([Value(1.0, "w"), Value(-2.0)], 0.1)
    >>> round(P.data, 6), P.label, [v.label for v in P.inputs[0].inputs]
    (0.5, 'P', ['w^2', ''])
    """
    strength = check_number("l2_penalty", "strength", strength, minimum=0.0)
    parameters = list(parameters)
    if not parameters:
        raise ValueError("l2_penalty: needs at least one parameter; got none")
    for p in parameters:
        if not isinstance(p, Value):
            raise wrong_kind("l2_penalty", "parameters", "Values", p)
    squares = [p * p for p in parameters]
    for p, square in zip(parameters, squares):
        if p.label:
            square.label = squared(p.label)
    return _named(strength * _named(sum_values(squares), Role.PENALTY_SUM), Role.PENALTY)
