"""Steps as data: backward_steps() against hand-derived numbers, finite differences and the
order of backward(); forward_steps(); the shared 2-2-2 example of the classic walk-through."""

from __future__ import annotations

import math

import pytest
from helpers import numeric_gradient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_lite import AnomalyError, Value, detect_anomaly, sum_values, weighted_sum
from autograd_lite.names import is_constant_or_target
from autograd_lite.nn import worked_example
from autograd_lite.stepping import backprop_example, forward_steps, labelled_error

# The classic walk-through's numbers (inputs 0.05/0.10, targets 0.01/0.99), derived by hand
# there; our labels for its w1..w8.
HAND = {
    "E": 0.298371109,
    "out_o1": 0.75136507,
    "out_o2": 0.772928465,
    "L1.n0.w0": 0.082167041,  # w5
    "L1.n0.w1": 0.082667628,  # w6
    "L1.n1.w0": -0.022602540,  # w7
    "L1.n1.w1": -0.022740242,  # w8
    "L0.n0.w0": 0.000438568,  # w1
    "L0.n0.w1": 0.000877135,  # w2
    "L0.n1.w0": 0.000497713,  # w3
    "L0.n1.w1": 0.000995425,  # w4
    "L1.n0.b": 0.138498562,  # ∂E/∂net_o1: the bias's gradient is the neuron's delta
}


# --- the 2-2-2 example --------------------------------------------------------------------


def test_classic_example_matches_the_walk_through_forward():
    example = backprop_example()
    assert [a.data for a in example.outputs] == pytest.approx(
        [HAND["out_o1"], HAND["out_o2"]], abs=1e-9
    )
    assert example.error.data == pytest.approx(HAND["E"], abs=1e-9)
    # E = Σ ½ (t − a)², computed here on floats from the outputs
    t, a = example.targets, [v.data for v in example.outputs]
    assert example.error.data == pytest.approx(sum(0.5 * (ti - ai) ** 2 for ti, ai in zip(t, a)))


def test_classic_example_steps_give_the_walk_through_gradients():
    example = backprop_example()
    for _ in example.error.backward_steps():
        pass
    params = {p.label: p for p in example.model.parameters()}
    for label, value in HAND.items():
        if label in params:
            assert params[label].grad == pytest.approx(value, abs=1e-9), label


def test_classic_example_gradients_match_finite_differences():
    example = backprop_example()
    list(example.error.backward_steps())
    params = example.model.parameters()
    for p in params:
        numeric = numeric_gradient(example.forward, p)
        assert p.grad == pytest.approx(numeric, rel=1e-5, abs=1e-9), p.label


def test_op_by_op_variant_of_the_worked_example_gives_the_walk_through_numbers():
    plain = backprop_example()
    split = backprop_example(worked_example(op_by_op=True).model)
    assert split.model.op_by_op and not plain.model.op_by_op
    weights = {p.label: p.data for p in plain.model.parameters()}
    assert {p.label: p.data for p in split.model.parameters()} == weights
    # per neuron: weighted_sum 5 + activation 1 = 6 steps, op by op 2 × (*) + 2 × (+) + 1 = 9;
    # the error: per output (t − a), e², ½ × e² = 6 steps, then the sum of the two = 2
    assert len(list(plain.error.backward_steps(show_constants=True))) == 4 * 6 + 2 * 6 + 2
    assert len(list(split.error.backward_steps(show_constants=True))) == 4 * 9 + 2 * 6 + 2
    for q in split.model.parameters():
        if q.label in HAND:
            assert q.grad == pytest.approx(HAND[q.label], abs=1e-9), q.label


def test_labelled_error_names_every_node_and_checks_its_arguments():
    a0, a1 = Value(0.25, "a0"), Value(0.5, "a1")
    error = labelled_error([a0, a1], [1.0, 0.0])
    assert error.data == pytest.approx(0.5 * 0.75**2 + 0.5 * 0.5**2)
    error.backward()
    assert (a0.grad, a1.grad) == pytest.approx((0.25 - 1.0, 0.5 - 0.0))  # ∂E/∂a = a − t
    labels = {v.label for v in forward_node_set(error)}
    assert {"E", "E0", "E1", "e0", "e1", "e0^2", "e1^2"} <= labels
    with pytest.raises(ValueError, match="squared_error: got 2 outputs but 1 targets"):
        labelled_error([a0, a1], [1.0])
    with pytest.raises(ValueError, match="each target must be finite, got nan"):
        labelled_error([a0], [math.nan])
    with pytest.raises(TypeError, match="outputs must be Values or numbers, got str"):
        labelled_error(["a"], [1.0])


def test_steps_into_constants_and_targets_are_hidden_unless_asked():
    # of the 38 steps of the 2-2-2 example, 6 go into what nobody learns: per output the
    # target t_k, the exponent 2 of e_k² and the ½ of E_k
    hidden, shown = backprop_example(), backprop_example()
    every = list(hidden.error.backward_steps(show_constants=True))
    into = sorted(
        s.input.label or repr(s.input.data) for s in every if is_constant_or_target(s.input)
    )
    assert into == ["0.5", "0.5", "2.0", "2.0", "t0", "t1"]
    steps = list(shown.error.backward_steps())
    assert len(steps) == 32 and [s.number for s in steps] == list(range(32))
    assert not any(is_constant_or_target(s.input) for s in steps)
    # the hidden steps still ran: every gradient as backward() leaves it, HAND's included
    for p, q in zip(hidden.model.parameters(), shown.model.parameters()):
        assert p.grad == q.grad
        if q.label in HAND:
            assert q.grad == pytest.approx(HAND[q.label], abs=1e-9), q.label
    # a user's labelled leaf is no constant: its step is shown
    x = Value(3.0, "x")
    assert [s.input for s in (x * 2.0).backward_steps()] == [x]


def forward_node_set(root):
    return {step.node for step in forward_steps(root)}


# --- backward_steps on small graphs, by hand ----------------------------------------------


def test_steps_follow_backward_order_with_hand_derived_numbers():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    ab = a * b
    c = ab + a  # c = ab + a: ∂c/∂a = b + 1 = -2, ∂c/∂b = a = 2
    steps = list(c.backward_steps())
    assert [(s.node, s.input, s.index) for s in steps] == [(c, ab, 0), (c, a, 1), (ab, a, 0),
                                                           (ab, b, 1)]  # fmt: skip
    assert [s.number for s in steps] == [0, 1, 2, 3]
    assert [s.local_grad for s in steps] == [1.0, 1.0, -3.0, 2.0]
    assert [s.upstream for s in steps] == [1.0, 1.0, 1.0, 1.0]
    assert [s.contribution for s in steps] == [1.0, 1.0, -3.0, 2.0]
    assert [s.input_grad for s in steps] == [1.0, 1.0, -2.0, 2.0]  # a: 1, then 1 + (-3)
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_upstream_is_complete_when_a_node_passes_blame_down():
    x = Value(0.5, "x")
    h = x.tanh()
    y = h * h + h  # h feeds two nodes: its gradient must be complete before h → x runs
    steps = list(y.backward_steps())
    [h_step] = [s for s in steps if s.node is h]
    assert h_step.upstream == pytest.approx(2 * h.data + 1)  # ∂y/∂h = 2h + 1
    assert x.grad == pytest.approx((2 * h.data + 1) * (1 - h.data**2))


def test_stopping_half_way_leaves_the_gradients_accumulated_so_far():
    example = backprop_example()
    steps = example.error.backward_steps()
    taken = [next(steps) for _ in range(16)]  # 22 with the 6 steps into constants
    w5 = example.model.layers[1].neurons[0].w[0]
    hidden = example.model.layers[0].neurons[0].w[0]
    assert taken[-1].input is w5 and w5.grad == pytest.approx(HAND["L1.n0.w0"], abs=1e-9)
    assert hidden.grad == 0.0  # not reached yet
    running: dict[Value, float] = {}
    for step in taken:
        running[step.input] = running.get(step.input, 0.0) + step.contribution
    for node, total in running.items():
        assert node.grad == total  # the steps taken, and nothing else, made these
    list(steps)  # the rest: now everything is as backward() leaves it
    assert hidden.grad == pytest.approx(HAND["L0.n0.w0"], abs=1e-9)


def test_backward_steps_checks_its_seed_and_runs_under_no_anomaly():
    x = Value(2.0, "x")
    with pytest.raises(TypeError, match="backward_steps: seed must be a number, got str 'one'"):
        (x * x).backward_steps("one")
    assert x.grad == 0.0
    steps = list((x * x).backward_steps(seed=3.0))
    assert x.grad == 12.0  # 3 × 2x
    assert steps[0].upstream == 3.0


def test_backward_steps_under_detect_anomaly_raises_before_any_change():
    x = Value(0.0, "x")
    x.grad = 5.0
    with detect_anomaly():
        y = (x * x).sqrt()  # slope of sqrt at 0 is inf; × 2x = 0 gives NaN
        with pytest.raises(AnomalyError, match="backward through sqrt"):
            y.backward_steps()
    assert x.grad == 5.0


# --- random graphs -------------------------------------------------------------------------

SMOOTH = {
    "+": (2, lambda x, y: x + y),
    "-": (2, lambda x, y: x - y),
    "*": (2, lambda x, y: x * y),
    "tanh": (1, lambda x: x.tanh()),
    "sigmoid": (1, lambda x: x.sigmoid()),
    "neg": (1, lambda x: -x),
    "square": (1, lambda x: x**2),
    "sum3": (3, lambda x, y, z: sum_values([x, y, z])),
    "neuron": (3, lambda w, a, b: weighted_sum([w], [a], b)),
}
KINKED = {**SMOOTH, "relu": (1, lambda x: x.relu()), "abs": (1, lambda x: abs(x))}


@st.composite
def programs(draw, ops):
    """Leaves, then ops whose arguments are any earlier value: shared nodes happen often."""
    leaves = draw(st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4))
    program = []
    for made in range(len(leaves), len(leaves) + draw(st.integers(1, 10))):
        op = draw(st.sampled_from(sorted(ops)))
        args = [draw(st.integers(0, made - 1)) for _ in range(ops[op][0])]
        program.append((op, args))
    return leaves, program


def build(leaves, program, ops):
    values = [Value(x, f"v{i}") for i, x in enumerate(leaves)]
    return values, build_from(values, program, ops)


def build_from(values, program, ops):
    made = list(values)
    for op, args in program:
        made.append(ops[op][1](*(made[i] for i in args)))
        assume(abs(made[-1].data) < 1e3)  # squaring a square of a square... gets huge
    return made[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(KINKED))
def test_stepping_equals_backward_on_random_graphs(case):
    leaves, program = case
    stepped_leaves, stepped_root = build(leaves, program, KINKED)
    plain_leaves, plain_root = build(leaves, program, KINKED)
    steps = list(stepped_root.backward_steps(show_constants=True))  # every edge
    plain_root.backward()
    for s, p in zip(stepped_leaves, plain_leaves):
        assert s.grad == p.grad  # the same arithmetic in the same order: bit for bit
    # every edge exactly once, and the contributions into a node add up to its gradient
    edges = sum(len(step.node.inputs) for step in forward_steps(stepped_root))
    assert len(steps) == edges
    totals: dict[Value, float] = {}
    for step in steps:
        assert step.local_grad == step.node.local_grads[step.index]
        assert step.input is step.node.inputs[step.index]
        assert step.contribution == step.local_grad * step.upstream
        assert step.upstream == step.node.grad  # complete when used, final afterwards
        totals[step.input] = totals.get(step.input, 0.0) + step.contribution
        assert step.input_grad == totals[step.input]
    for node, total in totals.items():
        assert node.grad == total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(SMOOTH))
def test_stepped_gradients_match_finite_differences(case):
    leaves, program = case
    values, root = build(leaves, program, SMOOTH)
    list(root.backward_steps())
    for leaf in values:
        numeric = numeric_gradient(lambda: build_from(values, program, SMOOTH), leaf)
        assert leaf.grad == pytest.approx(numeric, rel=1e-4, abs=1e-6)


# --- forward steps -------------------------------------------------------------------------

# op -> the same computation on floats, written from the math
FLOAT_OPS = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "**": lambda x, y: x**y,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "sum": lambda *xs: sum(xs),
    "weighted_sum": lambda *v: (
        sum(w * a for w, a in zip(v[: len(v) // 2], v[len(v) // 2 : -1])) + v[-1]
    ),
}


def test_forward_steps_replay_every_computed_node_after_its_inputs():
    example = backprop_example()
    steps = list(forward_steps(example.error))
    assert [s.number for s in steps] == list(range(len(steps)))
    assert steps[-1].node is example.error
    done = set()
    for step in steps:
        assert step.inputs == step.node.inputs and step.node.op
        for input_ in step.inputs:
            assert not input_.inputs or input_ in done  # leaves, or computed earlier
        done.add(step.node)
        recomputed = FLOAT_OPS[step.node.op](*(v.data for v in step.inputs))
        assert step.node.data == pytest.approx(recomputed, rel=1e-12)
    assert len(done) == len(steps) == 15  # 4 neurons × (z, a) + 2 × (e, e^2, E_k) + E
    assert str(steps[0]).startswith("L0.n0.z = L0.n0.w0×x0 + L0.n0.w1×x1 + L0.n0.b = ")


def test_forward_steps_of_a_leaf_and_of_a_non_value():
    assert list(forward_steps(Value(1.0))) == []
    with pytest.raises(TypeError, match="forward_steps\\(root\\): expected a Value, not float"):
        list(forward_steps(1.0))


def test_steps_after_a_backward_say_that_leaf_gradients_were_carried_over():
    # backward_steps() leaves what backward() leaves (leaf gradients add up), and the
    # narration says where a leaf's larger gradient comes from instead of presenting it as
    # this pass's.
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()  # x.grad = 6
    steps = list(y.backward_steps())
    assert [s.input_grad for s in steps] == [9.0, 12.0] and x.grad == 12.0
    assert [s.carried for s in steps] == [6.0, 0.0]  # only the first step into x
    assert "x.grad already held 6 from an earlier backward()" in str(steps[0])
    assert "already held" not in str(steps[1])
    x.grad = 0.0
    fresh = list(y.backward_steps())
    assert [s.carried for s in fresh] == [0.0, 0.0]
    assert all("already held" not in str(s) for s in fresh)


def test_break_on_steps_carry_the_same_note():
    x = Value(3.0, label="x")
    y = x * 2.0
    y.backward()
    stops = []
    y.backward(break_on="x", on_break=stops.append)
    assert stops[0].carried == 2.0 and "already held 2" in str(stops[0])
