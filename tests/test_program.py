"""Traced programs replayed by every backend agree with the engine: op by op (values and
gradients at ordinary points and at each rule's special-cased edges), on the demo's step,
on the notes' 2-2-2 example, on random graphs, and through training."""

from __future__ import annotations

import math
import random
import re

import pytest
from helpers import needs_extra

from autograd_lite import Value
from autograd_lite.engine import DERIVATIVES, OPERATIONS, apply_rule
from autograd_lite.expressions import expressions, replayable_ops
from autograd_lite.nn import MLP, SGD, Adam, data
from autograd_lite.program import BackendUnavailableError, replay, trace
from autograd_lite.program.backends import ReplayError
from autograd_lite.program.c_backend import find_compiler
from autograd_lite.program.render import render
from autograd_lite.stepping import backprop_example
from autograd_lite.sums import sum_values, weighted_sum
from autograd_lite.training import fit, forward_pass


def agrees(got: float, expected: float, backend: str, scale: float = 0.0) -> bool:
    """Bit for bit for the python replay (it adds in the engine's order); within 1e-12
    relative for the others (NumPy adds in its own order; C on a Python whose sum()
    compensates). ``scale``: the size of the largest gradient of the same vector -- a sum
    with cancellation, added in another order, is only that precise."""
    if math.isnan(expected):
        return math.isnan(got)
    if backend == "python" or math.isinf(expected):
        return got == expected
    return abs(got - expected) <= 1e-12 * max(abs(expected), scale, 1e-300)


def all_agree(got: list[float], params: list[Value], backend: str) -> bool:
    scale = max(abs(p.grad) for p in params)
    return all(agrees(g, p.grad, backend, scale) for g, p in zip(got, params))


# --- every op, at ordinary points and at the edges its rule special-cases ------------------

OP_CASES = {  # op: (build from leaves, points; the first is where the program is traced)
    "+": (lambda x, y: x + y, [(2.0, -3.0), (0.0, 0.0), (-1.5, 1e300)]),
    "*": (lambda x, y: x * y, [(2.0, -3.0), (0.0, 5.0), (-0.5, -4.0)]),
    "-": (lambda x, y: x - y, [(2.0, -3.0), (0.0, 0.0), (1e-300, 1.0)]),
    "/": (lambda x, y: x / y, [(1.0, 4.0), (-3.0, -0.5), (0.0, 2.0)]),
    "**": (
        lambda x, y: x**y,
        # x = 0: slope 0 for y = 0, infinite for 0 < y < 1, y x^(y-1) from y = 1; d/dy = 0
        # for x <= 0 (a negative base has an integer exponent)
        [
            (2.0, 3.0),
            (0.0, 0.0),
            (0.0, 0.5),
            (0.0, 1.0),
            (0.0, 2.0),
            (-2.0, 3.0),
            (-2.0, -2.0),
            (4.0, 0.5),
            (1.5, -1.0),
        ],
    ),  # fmt: skip
    "neg": (lambda x: -x, [(1.5,), (0.0,), (-2.0,)]),
    "exp": (lambda x: x.exp(), [(-2.0,), (0.0,), (3.0,), (-800.0,)]),
    "log": (lambda x: x.log(), [(0.5,), (1.0,), (10.0,), (1e-300,)]),
    "sqrt": (lambda x: x.sqrt(), [(4.0,), (0.0,), (0.25,)]),  # vertical at 0
    "tanh": (lambda x: x.tanh(), [(-2.0,), (0.0,), (0.5,), (30.0,)]),
    "sigmoid": (lambda x: x.sigmoid(), [(-800.0,), (-2.0,), (0.0,), (2.0,), (800.0,)]),
    "relu": (lambda x: x.relu(), [(-1.0,), (0.0,), (2.0,)]),  # slope 0 at 0
    "leaky_relu": (
        lambda x, slope: x.leaky_relu(slope),
        [(-2.0, 0.1), (0.0, 0.1), (3.0, 0.2), (-1.0, 0.0)],  # slope `slope` at 0
    ),
    "abs": (lambda x: x.abs(), [(-2.0,), (0.0,), (2.0,)]),  # 0 at 0
    "sum": (
        lambda a, b, c: sum_values([a, b, c]),
        # rounded once, as fsum; where fsum overflows halfway, added left to right (inf)
        [(1.0, 2.0, 3.0), (1e16, 1.0, -1e16), (0.1, 0.2, 0.3), (1e308, 1e308, -1e308)],
    ),
    "weighted_sum": (
        lambda w0, w1, a0, a1, b: weighted_sum([w0, w1], [a0, a1], b),
        [(0.5, -1.0, 2.0, 3.0, 0.25), (0.0, 0.0, 0.0, 0.0, 0.0), (-2.0, 0.5, 1e-3, 7.0, -1.0)],
    ),
}

REFUSED = {  # inputs the engine refuses; a replay must refuse them too, never return a number
    "/": [(1.0, 0.0)],
    "**": [(0.0, -1.0), (-2.0, 0.5), (10.0, 400.0)],
    "exp": [(1000.0,)],
    "log": [(0.0,), (-1.0,)],
    "sqrt": [(-1.0,)],
}


def test_every_engine_op_has_a_replay_case():
    core = {op for op, (forward, _) in OPERATIONS.items()
            if forward.__module__ in ("autograd_lite.engine", "autograd_lite.sums")}  # fmt: skip
    assert set(OP_CASES) == core == set(DERIVATIVES) & core
    assert core <= set(replayable_ops())


def _traced(op: str):
    build, points = OP_CASES[op]
    leaves = [Value(v, f"p{k}") for k, v in enumerate(points[0])]
    node = build(*leaves)
    assert node.op == op
    return trace(node, params=leaves)


@pytest.mark.parametrize("op", sorted(OP_CASES))
def test_each_op_replays_the_engine_rules(op, backend):
    build, points = OP_CASES[op]
    program = replay(_traced(op), backend)
    for point in points:
        out = build(*[Value(v) for v in point]).data  # the engine's forward rule
        expected = apply_rule(op, point, out)  # the engine's derivative rule
        result = program.run(params=point)
        assert agrees(result.loss, out, backend), (op, point, result.loss, out)
        for got, want in zip(result.gradients, expected):
            assert agrees(got, float(want), backend), (op, point, result.gradients, expected)


@pytest.mark.parametrize("op", sorted(REFUSED))
def test_inputs_the_engine_refuses_are_refused(op, backend):
    build, _ = OP_CASES[op]
    program = replay(_traced(op), backend)
    for point in REFUSED[op]:
        with pytest.raises((ValueError, ArithmeticError)):
            build(*[Value(v) for v in point])
        with pytest.raises(ReplayError, match=rf"replay: {re.escape(op)} at node"):
            program.run(params=point)


SMOOTH = {  # points away from every kink, for finite differences
    "+": [(2.0, -3.0)], "*": [(2.0, -3.0)], "-": [(2.0, -3.0)], "/": [(1.0, 4.0)],
    "**": [(2.0, 3.0), (4.0, 0.5), (1.5, -1.0)], "neg": [(1.5,)], "exp": [(0.3,)],
    "log": [(0.5,)], "sqrt": [(4.0,)], "tanh": [(0.5,)], "sigmoid": [(-2.0,), (2.0,)],
    "relu": [(-1.0,), (2.0,)], "leaky_relu": [(-2.0, 0.1), (3.0, 0.2)], "abs": [(-2.0,)],
    "sum": [(1.0, 2.0, 3.0)], "weighted_sum": [(0.5, -1.0, 2.0, 3.0, 0.25)],
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(SMOOTH))
def test_replayed_gradients_match_finite_differences(op):
    program = replay(_traced(op), "python")
    eps = 1e-6
    for point in SMOOTH[op]:
        gradients = program.run(params=point).gradients
        for k in range(len(point)):
            up = [v + (eps if j == k else 0.0) for j, v in enumerate(point)]
            down = [v - (eps if j == k else 0.0) for j, v in enumerate(point)]
            numeric = (program.run(params=up).loss - program.run(params=down).loss) / (2 * eps)
            assert gradients[k] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (op, point, k)
        program.run(params=point)


def test_expressions_render_in_every_syntax():
    relu_slope = ("if", (">", "x", 0.0), 1.0, 0.0)
    assert render(relu_slope, "python") == "(1.0 if (x > 0.0) else 0.0)"
    assert render(relu_slope, "numpy") == "np.where((x > 0.0), 1.0, 0.0)"
    assert render(relu_slope, "c") == "((x > 0.0) ? 1.0 : 0.0)"
    assert render(("pow", "x", ("neg", "y")), "javascript") == "Math.pow(x, (-y))"
    not_finite = ("or", ("not", ("<", ("abs", "x"), math.inf)), ("==", "x", math.nan))
    assert render(not_finite, "c") == "((!(fabs(x) < INFINITY)) || (x == NAN))"
    assert render(not_finite, "numpy") == "((~(np.abs(x) < np.inf)) | (x == np.nan))"
    assert render(-math.inf, "javascript") == "(-Infinity)"
    with pytest.raises(ValueError, match="unknown syntax 'rust'"):
        render("x", "rust")


# --- whole models ----------------------------------------------------------------------


def _demo_step(points, targets, model):
    """The demo's loss (hinge + 1e-4 L2) with the samples as leaves: (loss, sample leaves)."""
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]
    loss, _ = forward_pass(model, samples, targets, loss="hinge", l2=1e-4)
    return loss, [v for row in samples for v in row]


def test_the_demo_step_replays_on_new_data_as_the_engine_computes_it(backend):
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    points, targets = data.moons(100, 0.1, 0)
    loss, leaves = _demo_step(points, targets, model)
    program = replay(trace(loss, params=model.parameters(), inputs=leaves), backend)
    # another batch and other weights, then the engine on a graph built from them
    new_points, _ = data.moons(100, 0.1, 1)
    rng = random.Random(1)
    new_weights = [p.data + rng.uniform(-0.1, 0.1) for p in model.parameters()]
    result = program.run([v for p in new_points for v in p], new_weights)
    for p, w in zip(model.parameters(), new_weights):
        p.data = w
    fresh, _ = _demo_step(new_points, targets, model)
    fresh.backward()
    assert agrees(result.loss, fresh.data, backend)
    assert all_agree(result.gradients, model.parameters(), backend)
    assert any(p.grad != 0.0 for p in model.parameters())


def test_the_notes_2_2_2_example_replays_to_the_walk_through(backend):
    example = backprop_example()
    params = example.model.parameters()
    program = replay(trace(example.error, params=params), backend)
    result = program.run()
    example.error.backward()
    assert round(result.loss, 9) == 0.298371109  # E of the walk-through
    w5 = [p.label for p in params].index("L1.n0.w0")
    assert round(result.gradients[w5], 9) == 0.082167041  # its dE/dw5, derived by hand
    assert all_agree(result.gradients, params, backend)


RANDOM_OPS = [  # every op, on values where the engine accepts any input
    lambda a, b, c: a + b, lambda a, b, c: a * b, lambda a, b, c: a - b,
    lambda a, b, c: -a, lambda a, b, c: a.tanh(), lambda a, b, c: a.sigmoid(),
    lambda a, b, c: a.relu(), lambda a, b, c: a.abs(), lambda a, b, c: a.leaky_relu(0.1),
    lambda a, b, c: a / (b.sigmoid() + 0.5), lambda a, b, c: (a.abs() + 0.5).log(),
    lambda a, b, c: (a.abs() + 0.25).sqrt(), lambda a, b, c: a.tanh().exp(),
    lambda a, b, c: (a.abs() + 0.5) ** b.tanh(), lambda a, b, c: a.tanh() ** 2,
    lambda a, b, c: sum_values([a, b, c]), lambda a, b, c: weighted_sum([a, b], [b, c], a),
]  # fmt: skip


def _random_graph(seed: int, input_values: list[float] | None = None):
    """A random graph over 3 parameters and 2 inputs, using every op on safe values.

    The same seed gives the same graph; ``input_values`` replaces the inputs' values.
    Returns (loss, parameters, inputs).
    """
    rng = random.Random(seed)
    params = [Value(rng.uniform(-1, 1), f"p{k}") for k in range(3)]
    inputs = [Value(rng.uniform(-1, 1), f"x{k}") for k in range(2)]
    for leaf, v in zip(inputs, input_values or []):
        leaf.data = v
    nodes = [*params, *inputs]
    for _ in range(40):
        a, b, c = (rng.choice(nodes) for _ in range(3))
        nodes.append(rng.choice(RANDOM_OPS)(a, b, c))
    return sum_values(nodes[-6:]), params, inputs


@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_replay_as_the_engine(seed, backend):
    loss, params, inputs = _random_graph(seed)
    program = replay(trace(loss, params=params, inputs=inputs), backend)
    rng = random.Random(100 + seed)
    new_inputs = [rng.uniform(-1, 1) for _ in inputs]
    result = program.run(new_inputs)
    rebuilt, rebuilt_params, _ = _random_graph(seed, new_inputs)  # the engine on new inputs
    rebuilt.backward()
    assert agrees(result.loss, rebuilt.data, backend)
    assert all_agree(result.gradients, rebuilt_params, backend)


# --- data-dependent control flow ----------------------------------------------------------


def test_softplus_replayed_across_zero_keeps_the_right_branch(backend):
    """binary_cross_entropy_with_logits used to branch in Python on the logit's sign (a
    trace recorded one branch); its graph is now the same for every logit."""
    from autograd_lite.nn.losses import binary_cross_entropy_with_logits

    z = Value(2.0, "z")
    program = replay(trace(binary_cross_entropy_with_logits(z, 1), params=[z]), backend)
    for logit in (-3.0, 0.0, 2.0, -40.0, 40.0):
        result = program.run(params=[logit])
        sigmoid = 1.0 / (1.0 + math.exp(-logit))
        # by hand: loss = log(1 + e^z) - z, dloss/dz = sigmoid(z) - 1
        assert result.loss == pytest.approx(math.log1p(math.exp(logit)) - logit, rel=1e-12)
        assert result.gradients[0] == pytest.approx(sigmoid - 1.0, rel=1e-12, abs=1e-15)


def test_probability_clipping_replayed_beyond_the_clip_gives_no_gradient(backend):
    """binary_cross_entropy clips p to [1e-12, 1 - 1e-12] with graph ops, not an if."""
    from autograd_lite.nn.losses import binary_cross_entropy

    z = Value(0.0, "z")
    program = replay(trace(binary_cross_entropy(z.sigmoid(), 1), params=[z]), backend)
    inside = program.run(params=[0.5])
    assert inside.gradients[0] == pytest.approx(1.0 / (1.0 + math.exp(0.5)) * -1.0, rel=1e-12)
    clipped = program.run(params=[-60.0])  # sigmoid(-60) < 1e-12: clipped, a constant
    assert clipped.loss == pytest.approx(-math.log(1e-12), rel=1e-9)
    assert list(clipped.gradients) == [0.0]


def test_targets_fed_as_leaves_change_the_loss_without_retracing(backend):
    from autograd_lite.nn.losses import hinge_loss

    score, target = Value(0.5, "score"), Value(1.0, "t0")
    program = replay(trace(hinge_loss(score, target), params=[score], inputs=[target]), backend)
    assert list(program.run([1.0]).gradients) == [-1.0]  # max(0, 1 - score): active, slope -1
    assert list(program.run([-1.0]).gradients) == [1.0]  # max(0, 1 + score): active, slope +1
    assert list(program.run([-1.0], params=[-2.0]).gradients) == [0.0]  # margin met: no blame


# --- errors --------------------------------------------------------------------------------


def test_bad_calls_say_what_is_wrong(backend):
    w, x = Value(1.0, "w"), Value(2.0, "x")
    program = replay(trace(w * x, params=[w], inputs=[x]), backend)
    flat = r"run: inputs must be a flat list of 1 number \(as traced\), got \[1.0, 2.0\]"
    with pytest.raises(ValueError, match=flat):
        program.run([1.0, 2.0])
    with pytest.raises(TypeError, match=r"run: inputs\[0\] must be a number, got str 'a'"):
        program.run(["a"])
    with pytest.raises(ValueError, match=r"run: params\[0\] must be finite, got nan"):
        program.run([1.0], params=[math.nan])
    assert list(program.run([3.0]).gradients) == [3.0]  # unchanged by the refused calls


BAD_INPUTS = [  # (inputs for a program of 2 inputs, error, message)
    (["12", 1.0], TypeError, r"run: inputs\[0\] must be a number, got str '12'"),
    ([1.0, True], TypeError, r"run: inputs\[1\] must be a number, got bool True"),
    ([1.0, 1 + 2j], TypeError, r"run: inputs\[1\] must be a number, got complex"),
    ([1.0, 10**400], ValueError, r"inputs\[1\] must be within float range .* 401 digits\)"),
    ([math.inf, 1.0], ValueError, r"run: inputs\[0\] must be finite, got inf"),
    ([[1.0, 2.0]], ValueError, r"inputs must be a flat list of 2 numbers \(as traced\)"),
    ([[1.0], [2.0]], TypeError, r"run: inputs\[0\] must be a number, got list \[1.0\]"),
    ([1.0, 2.0, 3.0], ValueError, r"inputs must be a flat list of 2 numbers .* got \[1.0, 2.0"),
    ("12", TypeError, r"run: inputs must be a flat list of 2 numbers .* got str '12'"),
    (3.0, TypeError, r"run: inputs must be a flat list of 2 numbers .* got float 3.0"),
    ({1.0: 0, 2.0: 1}, TypeError, r"inputs must be a flat list .* got dict"),
]


@pytest.mark.parametrize(("inputs", "error", "message"), BAD_INPUTS)
def test_inputs_are_checked_where_they_enter_the_same_for_every_backend(
    backend, inputs, error, message
):
    w, x, y = Value(0.5, "w"), Value(2.0, "x"), Value(1.0, "y")
    program = replay(trace((w * x + y).tanh(), params=[w], inputs=[x, y]), backend)
    with pytest.raises(error, match=message):
        program.run(inputs)
    with pytest.raises(error, match=message.replace("inputs", "params")):
        replay(trace(w * x + y, params=[x, y]), backend).run(params=inputs)
    # what a user may pass: ints, a tuple, a generator; tanh(w*x + y) at w=0.5, x=3, y=-1
    expected = math.tanh(0.5 * 3.0 - 1.0)
    for good in ([3, -1], (3.0, -1.0), (v for v in (3.0, -1.0))):
        assert agrees(program.run(good).loss, expected, backend)


def test_numpy_arrays_enter_flat_and_only_flat(backend):
    np = needs_extra("numpy")
    w, x, y = Value(0.5, "w"), Value(2.0, "x"), Value(1.0, "y")
    program = replay(trace((w * x + y).tanh(), params=[w], inputs=[x, y]), backend)
    assert agrees(program.run(np.array([3.0, -1.0])).loss, math.tanh(0.5), backend)
    # NumPy would flatten a (1, 2) array into the 2 numbers traced: refused, shape named
    with pytest.raises(ValueError, match=r"flat list of 2 numbers .* array of shape \(1, 2\)"):
        program.run(np.array([[3.0, -1.0]]))
    with pytest.raises(TypeError, match=r"run: inputs\[0\] must be a number, got bool True"):
        program.run(np.array([True, False]))
    one_line = r"flat list of 2 numbers .*, got array\(\[0\., 0\., [^\n]*\.\.\.$"
    with pytest.raises(ValueError, match=one_line):
        program.run(np.zeros(40))  # its repr spans lines; the message is one, cut short
    # the gradients of the numpy backend are an array: they go back in as params
    result = program.run([3.0, -1.0])
    step = np.array([0.5]) - 0.1 * np.asarray(result.gradients)
    got = program.run([3.0, -1.0], params=step).loss
    assert agrees(got, math.tanh(float(step[0]) * 3.0 - 1.0), backend)


def test_setting_params_is_checked_like_run(backend):
    w, x = Value(1.0, "w"), Value(2.0, "x")
    program = replay(trace(w * x, params=[w], inputs=[x]), backend)
    with pytest.raises(TypeError, match=r"Replay.params: params\[0\] must be a number, got str"):
        program.params = ["0.5"]
    with pytest.raises(ValueError, match=r"params must be a flat list of 1 number"):
        program.params = [0.5, 0.5]
    program.params = [0.5]
    assert list(program.run([3.0]).gradients) == [3.0] and program.run([3.0]).loss == 1.5


def test_trace_refuses_what_is_not_a_leaf_or_given_twice():
    w, x = Value(1.0, "w"), Value(2.0, "x")
    loss = (w * x).tanh()
    with pytest.raises(ValueError, match="must be a leaf .* got a tanh node"):
        trace(loss, params=[loss])
    with pytest.raises(ValueError, match="w is given both as a parameter and as an input"):
        trace(loss, params=[w], inputs=[w])
    with pytest.raises(ValueError, match=r"trace\(params\): w is given twice"):
        trace(loss, params=[w, w])
    with pytest.raises(TypeError, match="expected a list of Values, not a single Value"):
        trace(loss, params=w)
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        replay(trace(loss, params=[w]), "gpu")


def test_a_parameter_the_loss_does_not_use_gets_zero(backend):
    w, unused = Value(1.0, "w"), Value(5.0, "unused")
    program = replay(trace(w * w, params=[w, unused]), backend)
    assert list(program.run().gradients) == [2.0, 0.0]


def test_without_a_compiler_the_c_backend_says_so_in_one_line(monkeypatch, tmp_path):
    from autograd_lite.program import c_backend

    monkeypatch.setattr(c_backend, "_library", {})
    monkeypatch.setenv("AUTOGRAD_LITE_CACHE", str(tmp_path))  # nothing built there yet
    monkeypatch.setattr(c_backend, "find_compiler", lambda: None)
    w = Value(1.0, "w")
    with pytest.raises(BackendUnavailableError, match="needs a C compiler") as error:
        replay(trace(w * w, params=[w]), "c")
    assert "\n" not in str(error.value)
    assert list(replay(trace(w * w, params=[w]), "python").run().gradients) == [2.0]


def test_without_numpy_the_numpy_backend_says_so_in_one_line(monkeypatch):
    needs_extra("numpy")
    from autograd_lite.program import numpy_backend

    monkeypatch.setattr(numpy_backend, "np", None)
    w = Value(1.0, "w")
    with pytest.raises(BackendUnavailableError, match=r'pip install "\.\[numpy\]"'):
        replay(trace(w * w, params=[w]), "numpy")


def test_the_c_interpreter_is_built_once_into_the_cache(monkeypatch, tmp_path):
    if find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on the PATH")
    from autograd_lite.program import c_backend

    monkeypatch.setattr(c_backend, "_library", {})
    monkeypatch.setenv("AUTOGRAD_LITE_CACHE", str(tmp_path))
    c_backend.build_interpreter()
    built = list(tmp_path.glob("replay-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    monkeypatch.setattr(c_backend, "_library", {})
    c_backend.build_interpreter()  # found in the cache: not compiled again
    assert built[0].stat().st_mtime_ns == stamp


# --- training ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "batch_size", "optimizer"),
    [("hinge", None, SGD), ("bce_with_logits", 32, Adam), ("mse", 30, SGD),
     ("softmax_cross_entropy", None, SGD)],
)  # fmt: skip
def test_fit_with_a_replay_trains_as_the_engine(loss, batch_size, optimizer, backend):
    """Same weights after training (softmax's recorded shift: within 1e-12, not bit for bit)."""
    compared_as = backend  # bit for bit for python
    if loss == "softmax_cross_entropy":
        points, targets = data.spiral(20, 3, 0.2, 0)
        compared_as = "within 1e-12"
    else:
        points, labels = data.moons(60, 0.1, 0)
        targets = [max(t, 0) for t in labels] if loss == "bce_with_logits" else labels
    outputs = 3 if loss == "softmax_cross_entropy" else 1
    trained = {}
    for how in ("engine", backend):
        model = MLP(2, [8, outputs], activation="relu", seed=0)
        history = fit(
            model, points, targets, loss=loss, optimizer=optimizer(model.parameters(), lr=0.05),
            epochs=4, batch_size=batch_size, l2=1e-4, progress=False, backend=how,
        )  # fmt: skip
        trained[how] = ([p.data for p in model.parameters()], history)
    (engine_weights, engine_history), (weights, history) = trained["engine"], trained[backend]
    assert len(history.seconds) == len(history) == len(engine_history)
    assert history.accuracy == engine_history.accuracy
    scale = max(map(abs, engine_weights))
    assert all(agrees(w, e, compared_as, scale) for w, e in zip(weights, engine_weights))
    assert all(agrees(a, b, compared_as) for a, b in zip(history.loss, engine_history.loss))


def test_fit_refuses_an_unknown_backend():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="fit: unknown backend 'gpu'; choose one of engine"):
        fit(model, [[0.0, 1.0]], [1], backend="gpu", progress=False)


def test_softmax_replayed_far_from_the_traced_logits_is_right_or_refused(backend):
    """softmax's shift by the largest logit is a number recorded at trace time: the
    replay stays exact (softmax does not depend on the shift) until exp would overflow,
    and then it says so instead of returning a wrong number."""
    from autograd_lite.nn.losses import softmax_cross_entropy

    logits = [Value(v, f"z{i}") for i, v in enumerate([0.1, 2.0, -1.0])]
    program = replay(trace(softmax_cross_entropy(logits, 1), params=logits), backend)
    result = program.run(params=[5.0, -3.0, 100.0])
    # by hand: loss = log(sum e^z) - z_1, d/dz_i = softmax_i - [i == 1]
    assert result.loss == pytest.approx(103.0, rel=1e-12)
    assert list(result.gradients) == pytest.approx([math.exp(-95.0), -1.0, 1.0], rel=1e-9)
    with pytest.raises(ReplayError, match="trace again"):
        program.run(params=[800.0, 0.0, 1.0])


def _demo_lines(how: str, folder) -> tuple[str, str]:
    """The demo's 'final loss' and 'a step took' lines with this backend (30 steps)."""
    import contextlib
    import io

    from autograd_lite.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["demo", "--backend", how, "--steps", "30", "--no-progress",
                     "--out", str(folder / how)])  # fmt: skip
    assert code == 0
    lines = out.getvalue().splitlines()
    final = next(line for line in lines if line.startswith("final loss"))
    timing = next(line for line in lines if line.startswith("a step took"))
    return final, timing


@pytest.fixture(scope="module")
def engine_demo(tmp_path_factory) -> tuple[str, str]:
    return _demo_lines("engine", tmp_path_factory.mktemp("demo"))


def test_demo_trains_the_same_with_every_backend(backend, engine_demo, tmp_path):
    final, timing = _demo_lines(backend, tmp_path)
    assert final == engine_demo[0]  # same loss to 4 digits, same accuracy
    assert "accuracy" in final
    assert timing.endswith(f"{backend} replay of the traced program)")
    assert engine_demo[1].endswith("the engine)")


def test_a_zero_gradient_through_an_infinite_slope_is_nan_as_in_the_engine(backend):
    """Replays skip a node whose gradient is 0, but never through an infinite slope:
    sqrt's slope at 0 is infinite, and 0 * inf is NaN in the engine too."""
    x = Value(0.0, "x")
    loss = (-x.sqrt()).relu()  # relu's slope at 0 is 0: sqrt's node gets gradient 0
    loss.backward()
    assert math.isnan(x.grad)
    gradient = replay(trace(loss, params=[x]), backend).run().gradients[0]
    assert math.isnan(gradient)


def test_demo_without_a_compiler_says_so_and_exits_1(monkeypatch, tmp_path, capsys):
    from autograd_lite.cli import main
    from autograd_lite.program import c_backend

    monkeypatch.setattr(c_backend, "_library", {})
    monkeypatch.setenv("AUTOGRAD_LITE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(c_backend, "find_compiler", lambda: None)
    code = main(["demo", "--backend", "c", "--steps", "2", "--no-progress",
                 "--out", str(tmp_path / "out")])  # fmt: skip
    error = capsys.readouterr().err.strip()
    assert code == 1
    assert error.startswith("autograd-lite demo: the c backend needs a C compiler")
    assert "\n" not in error and "Traceback" not in error


def test_fit_traces_again_when_the_recorded_softmax_shift_no_longer_fits(monkeypatch):
    """A huge learning rate sends the logits far from those traced: exp would overflow with
    the recorded shift, the replay refuses, and fit traces that batch again -- the same
    losses as the engine's, never a wrong number."""
    import autograd_lite.step_loss as step_loss

    traces = []
    monkeypatch.setattr(step_loss, "trace", lambda *a, **k: traces.append(1) or trace(*a, **k))
    points, targets = data.spiral(20, 3, 0.2, 0)
    losses = {}
    for how in ("engine", "python"):
        model = MLP(2, [8, 3], activation="relu", seed=0)
        optimizer = SGD(model.parameters(), lr=150.0)
        history = fit(model, points, targets, loss="softmax_cross_entropy", optimizer=optimizer,
                      epochs=6, progress=False, backend=how)  # fmt: skip
        losses[how] = history.loss
    assert len(traces) > 1  # traced again after the first step
    assert max(losses["engine"]) > 700  # the logits did go far (and below fit's divergence)
    assert losses["python"] == pytest.approx(losses["engine"], rel=1e-12)


@pytest.mark.parametrize("op", ["relu", "abs", "leaky_relu", "sqrt", "**", "tanh", "sigmoid"])
@pytest.mark.parametrize("x", [math.nan, 0.0, -1.5, 2.0, math.inf])
def test_expressions_follow_the_engine_at_nan_zero_and_infinity(op, x):
    # Read off the engine's own functions, they agree with them at the edges too
    # (relu(nan) is nan, ...).
    if op in ("sqrt", "**") and x < 0:
        return  # refused by both
    y = {"leaky_relu": 0.01, "**": 0.5}.get(op)
    leaf = Value(x)
    node = {"**": lambda: leaf**y, "leaky_relu": lambda: leaf.leaky_relu(y)}.get(
        op, lambda: getattr(leaf, op)()
    )()
    env = {"math": math, "x": x, "y": y, "out": node.data}
    found = expressions(op)
    got = [eval(render(e, "python"), env) for e in (found.forward, *found.derivatives)]
    want = [node.data, *node.local_grads]
    assert all((a != a and b != b) or a == b for a, b in zip(got, want)), (got, want)
