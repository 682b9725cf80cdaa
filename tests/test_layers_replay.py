"""Layers in a replay: the C replay runs a program's layers as loops and keeps the engine's
numbers bit for bit, the NumPy replay as matrix products within its tolerance; the buffers
of ``step()``; and ``fit(backend="c")`` on its flat buffer of weights gives the engine's
weights, optimizer by optimizer."""

from __future__ import annotations

import math
import random
import sys

import pytest
from helpers import needs_extra, numeric_gradient

from autograd_lite import Value
from autograd_lite.nn import MLP, SGD, Adam, DivergenceError, data
from autograd_lite.nn.losses import mean_squared_error
from autograd_lite.program import replay, trace
from autograd_lite.program.c_backend import FLAGS, find_compiler, update_source
from autograd_lite.program.layers import plan
from autograd_lite.sums import sum_values, weighted_sum
from autograd_lite.training import TrainingStep, fit, forward_pass

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on the PATH")

# Python 3.12's sum() compensates its rounding: the engine's weighted sums are then no
# longer b + w1*a1 + ... rounded at each step, and the C loops agree within 1e-12 instead.
BIT_FOR_BIT = sys.version_info < (3, 12)


def same(got: list[float], expected: list[float], tolerance: float = 0.0) -> bool:
    """Equal (bit for bit where ``tolerance`` is 0; NaN equals NaN), else within
    ``tolerance`` of the largest |expected| (1e-12 at least)."""
    scale = max((abs(v) for v in expected if math.isfinite(v)), default=1.0)
    for a, b in zip(got, expected, strict=True):
        if math.isnan(b):
            if not math.isnan(a):
                return False
        elif tolerance == 0.0 and BIT_FOR_BIT:
            if a != b:
                return False
        elif abs(a - b) > max(tolerance, 1e-12) * max(scale, 1e-300):
            return False
    return True


def random_step(seed: int, points: list[list[float]] | None = None):
    """A random MLP's training loss on a random batch, with the samples as fed inputs:
    (loss, model, sample leaves, points); ``points`` replaces the batch's samples (the same
    model, targets and loss). Widths 1 to 20, depths 1 to 4, every activation and loss,
    with and without L2; every third seed adds a term that is no layer's (a penalty on the
    first layer's activations, which the next layer reads too)."""
    rng = random.Random(seed)
    depth = rng.randint(1, 4)
    sizes = [rng.randint(1, 20) for _ in range(depth)]
    loss = rng.choice(["hinge", "mse", "bce_with_logits", "softmax_cross_entropy", "bce",
                       "half_sum_squared_error"])  # fmt: skip
    if loss == "softmax_cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    elif loss in ("hinge", "bce_with_logits", "bce"):
        sizes[-1] = 1
    activation = rng.choice(["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
    output = "sigmoid" if loss == "bce" else "linear"
    nin, count = rng.randint(1, 9), rng.randint(1, 13)
    model = MLP(nin, sizes, activation=activation, output_activation=output, seed=seed)
    drawn = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(count)]
    points = drawn if points is None else points
    width = sizes[-1]
    target = {
        "hinge": lambda: rng.choice([-1, 1]),
        "bce_with_logits": lambda: rng.choice([0, 1]),
        "bce": lambda: rng.choice([0, 1]),
        "softmax_cross_entropy": lambda: rng.randrange(width),
    }.get(loss, lambda: [rng.uniform(-1, 1) for _ in range(width)] if width > 1 else rng.random())
    labels = [target() for _ in points]
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]
    total, _ = forward_pass(model, samples, labels, loss=loss, l2=rng.choice([0.0, 1e-3]))
    if seed % 3 == 0:
        first = [n.a if n.a is not None else n.z for n in model.layers[0].neurons]
        total = total + 0.01 * sum(a.tanh() for a in first)
    return total, model, [v for s in samples for v in s], points


@pytest.mark.parametrize("seed", range(24))
def test_the_c_replay_runs_layers_and_keeps_the_engines_numbers(seed):
    total, model, leaves, points = random_step(seed)
    step = replay(trace(total, params=model.parameters(), inputs=leaves), "c")
    assert step.plan.layers  # the layers do run as loops here
    rng = random.Random(1000 + seed)
    moved = [[v + rng.uniform(-0.5, 0.5) for v in p] for p in points]
    result = step.run([v for p in moved for v in p])
    engine, engine_model, _, _ = random_step(seed, moved)  # the engine, on the new samples
    engine.backward()
    # softmax's shift is a number recorded at trace time (the largest traced logit): its
    # replays agree within 1e-12 (docs/replay.md), every other loss bit for bit
    tolerance = 1e-12 if step.program.decisions else 0.0
    assert same([result.loss], [engine.data], tolerance)
    assert same(result.gradients, [p.grad for p in engine_model.parameters()], tolerance)
    assert any(g != 0.0 for g in result.gradients)


@pytest.mark.parametrize("seed", range(0, 24, 3))
def test_the_numpy_replay_runs_layers_within_its_tolerance(seed):
    needs_extra("numpy")
    total, model, leaves, points = random_step(seed)
    step = replay(trace(total, params=model.parameters(), inputs=leaves), "numpy")
    result = step.run([v for p in points for v in p])
    total.backward()
    assert same([float(result.loss)], [total.data], 1e-12)
    assert same(list(result.gradients), [p.grad for p in model.parameters()], 1e-12)


def _wide_step(width: int, depth: int, activation: str, count: int = 30):
    """The mean squared error of a wider MLP (``depth`` hidden layers of ``width``) on
    Gaussian samples, with an L2 penalty: (loss, model, leaves)."""
    rng = random.Random(width * 100 + depth)
    model = MLP(5, [width] * depth + [3], activation=activation, seed=depth)
    samples = [[Value(rng.gauss(0, 1), f"x{i}") for i in range(5)] for _ in range(count)]
    goals = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(count)]
    total, _ = forward_pass(model, samples, goals, loss="mse", l2=1e-3)
    return total, model, [v for s in samples for v in s]


@pytest.mark.parametrize(("width", "depth", "activation"),
                         [(8, 2, "relu"), (33, 1, "tanh"), (64, 3, "leaky_relu"),
                          (17, 4, "sigmoid")])  # fmt: skip
def test_wide_layers_run_as_loops_with_the_engines_numbers(width, depth, activation):
    total, model, leaves = _wide_step(width, depth, activation)
    program = trace(total, params=model.parameters(), inputs=leaves)
    found = plan(program)
    assert [layer.shape for layer in found.layers] == [
        (30, width, 5),
        *[(30, width, width)] * (depth - 1),
        (30, 3, width),
    ]
    assert [layer.name for layer in found.layers] == [f"L{k}" for k in range(depth + 1)]
    assert [layer.activation for layer in found.layers] == [activation] * depth + [""]
    total.backward()
    expected = [p.grad for p in model.parameters()]
    c = replay(program, "c").run([v.data for v in leaves])
    assert same([c.loss], [total.data]) and same(c.gradients, expected)
    try:
        import numpy  # noqa: F401
    except ImportError:
        return
    n = replay(program, "numpy").run([v.data for v in leaves])
    assert same(list(n.gradients), expected, 1e-12)


def test_layer_gradients_match_finite_differences():
    """The loops' δ aᵀ and Wᵀ δ are the gradient: checked against central differences."""
    model = MLP(3, [4, 2], activation="tanh", seed=3)
    points = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-0.75, 1.0, 0.0]]
    goals = [[0.5, -0.5], [1.0, 0.0], [0.0, 1.0]]

    def loss() -> Value:
        return mean_squared_error([model(p) for p in points], goals)

    step = replay(trace(loss(), params=model.parameters()), "c")
    assert len(step.plan.layers) == 2
    gradients = step.run().gradients
    for p, g in zip(model.parameters(), gradients):
        assert g == pytest.approx(numeric_gradient(loss, p), rel=1e-6, abs=1e-9)


# --- where a grid is not a layer -------------------------------------------------------------


def test_a_grid_whose_sums_the_engine_interleaves_runs_node_by_node():
    """One weight's gradient gets a contribution between the two samples' weighted sums (a
    term on w0 built in the middle): the grid cannot add its samples in one stretch, so it
    runs node by node, with the engine's numbers."""
    w = [Value(0.5, "w0"), Value(-1.5, "w1")]
    b = Value(0.25, "b")
    xs = [[Value(1.0, "x0"), Value(2.0, "x1")], [Value(-1.0, "x0"), Value(0.5, "x1")]]
    first = weighted_sum(w, xs[0], b).tanh()
    middle = w[0] * w[0]  # read between the two samples
    second = weighted_sum(w, xs[1], b).tanh()
    total = (first + middle) + second
    leaves = [v for x in xs for v in x]
    program = trace(total, params=[*w, b], inputs=leaves)
    assert plan(program).layers == ()
    total.backward()
    result = replay(program, "c").run([v.data for v in leaves])
    assert same(result.gradients, [p.grad for p in (*w, b)])
    # by hand: dE/dw0 = x0 (1 - tanh² z) summed over the samples, + 2 w0
    z = [0.5 * 1.0 - 1.5 * 2.0 + 0.25, 0.5 * -1.0 - 1.5 * 0.5 + 0.25]
    slopes = [1 - math.tanh(v) ** 2 for v in z]
    assert result.gradients[0] == pytest.approx(slopes[0] - slopes[1] + 1.0, rel=1e-12)


def test_a_grid_fed_its_own_outputs_runs_node_by_node():
    """The same weights three times in a row (as a recurrent net): as one unit the grid
    would wait for itself, so it runs node by node, with the engine's numbers."""
    w = [[Value(0.5, "w00"), Value(-0.25, "w01")], [Value(0.75, "w10"), Value(0.1, "w11")]]
    b = [Value(0.1, "b0"), Value(-0.2, "b1")]
    h = [Value(1.0, "x0"), Value(-1.0, "x1")]
    for _ in range(3):
        h = [weighted_sum(row, h, bias).tanh() for row, bias in zip(w, b)]
    total = h[0] * h[1]
    params = [*w[0], *w[1], *b]
    program = trace(total, params=params)
    assert all(layer.shape[0] == 1 for layer in plan(program).layers)  # one row each, if any
    total.backward()
    assert same(replay(program, "c").run().gradients, [p.grad for p in params])


# --- one call a step: the buffers ------------------------------------------------------------


def _demo():
    points, labels = data.moons(20, 0.1, 0)
    model = MLP(2, [8, 8, 1], activation="relu", seed=0)
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]
    total, _ = forward_pass(model, samples, labels, loss="hinge", l2=1e-4)
    program = trace(total, params=model.parameters(), inputs=[v for s in samples for v in s])
    return program, [v for p in points for v in p]


def test_the_c_buffers_give_what_run_gives_without_lists():
    program, feed = _demo()
    listed = replay(program, "c").run(feed)
    step = replay(program, "c")
    buffers = step.buffers
    assert isinstance(buffers.gradients, memoryview) and buffers.gradients.readonly
    for k, v in enumerate(feed):
        buffers.inputs[k] = v
    assert step.step() == listed.loss
    assert buffers.gradients.tolist() == listed.gradients
    with pytest.raises(TypeError):
        buffers.gradients[0] = 1.0  # read-only: the replay writes them
    # a new weight through the buffer: the next step (and run) reads it
    buffers.params[0] = buffers.params[0] + 0.5
    assert step.params[0] == buffers.params[0]
    moved = step.step()
    assert moved != listed.loss
    assert step.run(feed).loss == moved


def test_step_refuses_what_run_refuses_naming_the_number():
    program, feed = _demo()
    step = replay(program, "c")
    step.buffers.inputs[3] = math.nan
    with pytest.raises(ValueError, match=r"step: inputs\[3\] must be finite, got nan"):
        step.step()
    step.buffers.inputs[3] = feed[3]
    step.buffers.params[1] = math.inf
    with pytest.raises(ValueError, match=r"step: params\[1\] must be finite, got inf"):
        step.step()


def test_the_numpy_buffers_are_arrays_over_the_replays_numbers():
    np = needs_extra("numpy")
    program, feed = _demo()
    listed = replay(program, "numpy").run(feed)
    step = replay(program, "numpy")
    step.buffers.inputs[:] = feed
    loss = step.step()
    assert isinstance(step.buffers.gradients, np.ndarray)
    assert not step.buffers.gradients.flags.writeable
    assert loss == pytest.approx(float(listed.loss), rel=1e-12)
    assert np.allclose(step.buffers.gradients, listed.gradients, rtol=1e-12, atol=1e-15)
    step.buffers.inputs[0] = np.nan
    with pytest.raises(ValueError, match=r"step: inputs\[0\] must be finite, got nan"):
        step.step()


# --- training on the fast path ---------------------------------------------------------------


OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.05),
    "momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda ps: Adam(ps, lr=0.01, weight_decay=1e-4),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 16])
def test_fit_on_the_flat_buffer_gives_the_engines_weights(optimizer, batch_size):
    """Full batch, and batches of 16 out of 40 (a last batch of 8: a second program on the
    same weights): weights, gradients, history and the optimizer's state, bit for bit."""
    points, labels = data.moons(40, 0.1, 0)
    trained = {}
    for backend in ("engine", "c"):
        model = MLP(2, [8, 8, 1], activation="relu", seed=0)
        chosen = OPTIMIZERS[optimizer](model.parameters())
        history = fit(model, points, labels, loss="hinge", l2=1e-4, epochs=6, progress=False,
                      batch_size=batch_size, optimizer=chosen, backend=backend)  # fmt: skip
        trained[backend] = (
            [p.data for p in model.parameters()], [p.grad for p in model.parameters()],
            history.loss, history.accuracy, chosen.step_count, chosen.state(),
        )  # fmt: skip
    engine, c = trained["engine"], trained["c"]
    if BIT_FOR_BIT:
        assert c == engine
    else:
        assert same(c[0], engine[0], 1e-12) and same(c[2], engine[2], 1e-12)


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits", "bce", "mse"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_fit_on_the_flat_buffer_counts_the_engines_accuracy(loss, batch_size, monkeypatch):
    """Two classes: the accuracy of each step, counted in C, is binary_accuracy's, step by
    step (bce's threshold is 0.5: a count at 0 would say 50% every step)."""
    from autograd_lite.program.c_backend import CReplay

    counted = []
    real = CReplay.binary_correct
    monkeypatch.setattr(CReplay, "binary_correct",
                        lambda self, *a: counted.append(1) or real(self, *a))  # fmt: skip
    points, labels = data.moons(40, 0.1, 0)
    targets = [max(t, 0) for t in labels] if loss.startswith("bce") else labels
    histories = {}
    for backend in ("engine", "c"):
        model = MLP(2, [8, 1], seed=0, output_activation="sigmoid" if loss == "bce" else "linear")
        history = fit(model, points, targets, loss=loss, epochs=8, progress=False,
                      batch_size=batch_size, optimizer=SGD(model.parameters(), lr=0.3),
                      backend=backend)  # fmt: skip
        histories[backend] = history.accuracy
    assert histories["c"] == histories["engine"]
    if loss == "mse":  # regression: no accuracy, and nothing counted
        assert set(histories["c"]) == {None} and not counted
    else:
        assert len(set(histories["c"])) > 2  # it learns: the counts do change
        assert len(counted) == len(histories["c"])  # every step counted in C


def test_the_c_count_of_two_classes_is_binary_accuracys_at_the_edges():
    """An output at the threshold is not above it; -0.0 is not above 0; targets -1, 0 are
    negative, 0.5 and 2 positive (binary_accuracy: target > 0)."""
    from autograd_lite.nn.metrics import binary_accuracy
    from autograd_lite.program.c_backend import weights_array

    values = [0.0, -0.0, 0.5, 0.5000000000000001, -1e-300, 3.0, 0.4999999999999999]
    targets = [0, 1, 1, 1, -1, 0.5, 2]
    leaves = [Value(v) for v in values]
    w = Value(1.0, label="w")
    outputs = [w * x for x in leaves]
    step = replay(trace(sum_values(outputs), params=[w], inputs=leaves, outputs=outputs), "c")
    step.step()
    assert step.buffers.outputs.tolist() == values
    positive = weights_array([1.0 if 0 < t else 0.0 for t in targets])
    for threshold in (0.0, 0.5, -1.0):
        expected = binary_accuracy(values, targets, threshold)
        assert step.binary_correct(positive, threshold) / len(values) == expected
    assert step.binary_correct(positive, 0.0) == 6  # all but -0.0 (not above 0) for a 1
    with pytest.raises(ValueError, match=r"binary_correct: needs one target sign per output"):
        step.binary_correct(weights_array([1.0, 0.0]), 0.0)


def test_fit_on_the_flat_buffer_traces_again_where_softmax_needs_it():
    """A huge step sends the logits far from those traced: the replay refuses, fit traces
    that batch again (with the weights of the buffer) and goes on as the engine does."""
    points, targets = data.spiral(10, 3, 0.2, 0)
    runs = {}
    for backend in ("engine", "c"):
        model = MLP(2, [8, 3], activation="relu", seed=0)
        history = fit(model, points, targets, loss="softmax_cross_entropy", epochs=5,
                      progress=False, optimizer=SGD(model.parameters(), lr=150.0),
                      backend=backend)  # fmt: skip
        runs[backend] = ([p.data for p in model.parameters()], history.loss)
    assert max(runs["engine"][1]) > 100  # the logits did go far
    # softmax's shift is a number recorded at trace time: within 1e-12, not bit for bit
    assert same(runs["c"][0], runs["engine"][0], 1e-12)
    assert same(runs["c"][1], runs["engine"][1], 1e-12)


def test_on_step_sees_the_model_as_it_is_and_may_change_it():
    points, labels = data.moons(20, 0.1, 0)
    runs = {}
    for backend in ("engine", "c"):
        model = MLP(2, [4, 1], activation="relu", seed=0)
        seen: list[list[float]] = []

        def watch(step: TrainingStep, model=model, seen=seen) -> None:
            seen.append([p.data for p in step.model.parameters()])
            if step.step == 2:
                model.layers[0].neurons[0].b.data = 0.5  # a change the next step must see

        fit(model, points, labels, epochs=5, progress=False, backend=backend, on_step=watch)
        runs[backend] = (seen, [p.data for p in model.parameters()])
    assert runs["c"][0][3][4] != runs["c"][0][2][4]  # the bias moved on from 0.5
    if BIT_FOR_BIT:
        assert runs["c"] == runs["engine"]


def test_a_flat_fit_diverges_as_the_engine_path_does():
    points, targets = [[1.0], [2.0]], [1.0, -1.0]
    outcomes = []
    for backend in ("engine", "c"):
        model = MLP(1, [1], output_activation="linear", seed=0)
        with pytest.raises(DivergenceError) as caught:
            fit(model, points, targets, loss="mse", optimizer=SGD(model.parameters(), lr=5.0),
                epochs=50, progress=False, backend=backend)  # fmt: skip
        outcomes.append((caught.value.step, str(caught.value),
                         [p.data for p in model.parameters()]))  # fmt: skip
    assert outcomes[0] == outcomes[1]


def test_an_update_that_overflows_is_undone_as_on_the_engine_path():
    """A weight that would become infinite: the optimizer's own message, and the weights of
    the last sound step, on both paths."""
    outcomes = []
    for backend in ("engine", "c"):
        model = MLP(1, [1], output_activation="linear", seed=0)
        with pytest.raises(DivergenceError, match="became -inf") as caught:
            fit(model, [[1.0]], [0.0], loss="mse", epochs=3, progress=False,
                optimizer=SGD(model.parameters(), lr=1e308), backend=backend)  # fmt: skip
        outcomes.append((str(caught.value), [p.data for p in model.parameters()]))
    assert outcomes[0] == outcomes[1]


def test_the_optimizers_rule_is_compiled_as_written():
    """The C update is the rule read off as an expression, one operation at a time."""
    source = update_source(SGD.rule, SGD.running, SGD.settings_names)
    assert "(w - (lr * ((momentum * velocity) + (g + (weight_decay * w)))))" in source
    assert "sqrt(" in update_source(Adam.rule, Adam.running, Adam.settings_names)
    assert "-ffp-contract=off" in FLAGS  # no fused multiply-add: two roundings, as Python


def test_the_c_sum_node_is_math_fsum_even_where_a_tie_or_cancellation_decides():
    """The c replay's exact sum takes a fast path (a running sum and its rounding errors)
    where it can be sure, and CPython's partials elsewhere: math.fsum's number either way."""
    rng = random.Random(5)
    for n in (1, 2, 3, 17, 300):
        leaves = [Value(0.0) for _ in range(n)]
        step = replay(trace(sum_values(leaves), params=[], inputs=leaves), "c")
        cases = [
            [rng.uniform(-1, 1) * 10.0 ** rng.randint(-20, 20) for _ in range(n)],
            [1.0] + [2.0**-53] * (n - 1),  # a tie at every step
            [(-1) ** k * 1e16 for k in range(n - 1)] + [1.0],  # everything cancels but 1
            [-0.0] * n,  # math.fsum gives +0.0
            [rng.choice([1e308, -1e308, 5e-324, 1.0]) for _ in range(n)],
        ]
        for xs in cases:
            try:
                want = math.fsum(xs)
            except OverflowError:  # fsum gives up: the engine adds left to right
                want = sum(xs)
            got = step.run(xs).loss
            assert got == want and math.copysign(1, got) == math.copysign(1, want), (n, xs[:3])
