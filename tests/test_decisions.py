"""Every decision the forward pass took by looking at numbers is checked at each replay:
comparisons of Values (user code, max, a clip; relu's and abs's rules under
grad(create_graph=True)) and softmax's shift. A replay whose numbers decide otherwise raises
a DecisionError naming the decision and its node; one whose numbers decide the same gives
the engine's numbers. Random graphs with branches (Hypothesis) hold to the same."""

from __future__ import annotations

import math
import threading

import pytest
from helpers import needs_extra
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite.gradients import grad
from autograd_lite.nn.losses import softmax, softmax_cross_entropy
from autograd_lite.program import (
    DecisionError,
    ReplayError,
    record_decisions,
    replay,
    trace,
)
from autograd_lite.program.c_backend import find_compiler
from autograd_lite.sums import sum_values


@pytest.fixture(params=["python", "numpy", "c"])
def backend(request) -> str:
    if request.param == "numpy":
        needs_extra("numpy")
    if request.param == "c" and find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on the PATH: the c backend cannot build")
    return request.param


def close(got: float, want: float, backend: str, scale: float = 0.0) -> bool:
    """Bit for bit for python and c (they add in the engine's order), within 1e-12 for
    numpy (which adds in its own)."""
    got = float(got)
    if math.isnan(want):
        return math.isnan(got)
    if backend != "numpy" or math.isinf(want):
        return got == want
    return abs(got - want) <= 1e-12 * max(abs(want), scale, 1e-300)


# --- a model whose branch flips, and one whose branch never does ---------------------------


def clipped_model(w: Value, b: Value, x: Value) -> Value:
    """A user's clip written with comparisons: z = w x + b kept within [-1, 1]."""
    z = w * x + b
    if z > 1.0:
        z = Value(1.0)
    elif z < -1.0:
        z = Value(-1.0)
    return (z - 0.5) ** 2


def test_a_branch_that_flips_is_a_decision_error_naming_it(backend):
    w, b, x = Value(0.5, "w"), Value(0.1, "b"), Value(0.8, "x")
    with record_decisions() as made:
        loss = clipped_model(w, b, x)
    program = trace(loss, params=[w, b], inputs=[x], decisions=made)
    assert [d.what for d in program.decisions] == ["(w * x) + b > 1.0", "(w * x) + b < -1.0"]
    step = replay(program, backend)
    # in the clip's range: the engine's numbers
    for new_x in (0.0, 1.5, -1.9):
        engine = clipped_model(w, b, Value(new_x))
        engine.backward()
        result = step.run([new_x])
        assert close(result.loss, engine.data, backend)
        assert all(close(g, p.grad, backend) for g, p in zip(result.gradients, (w, b)))
        w.grad = b.grad = 0.0
    # beyond it the code would clip: the replay says so instead of the old branch's numbers
    with pytest.raises(DecisionError) as caught:
        step.run([4.0])
    message = str(caught.value)
    assert message.startswith("replay: the traced code decided (w * x) + b > 1.0 (False")
    assert "2.1 > 1.0 is true" in message and "trace again" in message
    assert caught.value.decision.what == "(w * x) + b > 1.0"
    assert caught.value.numbers == (2.1, 1.0)
    assert isinstance(caught.value, ReplayError)


def test_a_branch_that_never_flips_replays_as_the_engine(backend):
    """abs written with a comparison, on inputs that stay positive: every replay is the
    engine's, and the program has its one decision."""
    w, x = Value(1.5, "w"), Value(2.0, "x")

    def model(w: Value, x: Value) -> Value:
        z = w * x
        magnitude = z if z >= 0.0 else -z
        return (magnitude - 1.0) ** 2

    with record_decisions() as made:
        loss = model(w, x)
    step = replay(trace(loss, params=[w], inputs=[x], decisions=made), backend)
    for new_x in (0.0, 0.25, 3.0, 1e-300, 7.5):
        for new_w in (1.5, 0.1):
            engine = model(Value(new_w), Value(new_x))
            leaf = engine
            while leaf.inputs:
                leaf = leaf.inputs[0]
            engine.backward()
            result = step.run([new_x], [new_w])
            assert close(result.loss, engine.data, backend)
            assert close(result.gradients[0], leaf.grad, backend)


def test_a_program_without_decisions_checks_nothing():
    w = Value(2.0, "w")
    with record_decisions() as made:
        loss = (w * 3.0).tanh()  # no comparison
    program = trace(loss, params=[w], decisions=made)
    assert program.decisions == () and program.guard_nodes == ()
    assert replay(program)._guards is None  # run() is the backend's alone


def test_decisions_on_numbers_no_input_changes_are_left_out():
    w, x = Value(2.0, "w"), Value(1.0, "x")
    c = Value(5.0, "c")  # a constant of the graph
    with record_decisions() as made:
        k = 2.0 if c > 3.0 else 1.0  # decided on a constant: cannot change
        loss = w * x * k if w > 0.0 else w  # decided on a parameter: checked
    assert len(made) == 2
    program = trace(loss, params=[w], inputs=[x], decisions=made)
    assert [d.what for d in program.decisions] == ["w > 0.0"]
    with pytest.raises(DecisionError, match=r"w > 0\.0 \(True when traced\)"):
        replay(program).run([1.0], [-1.0])


def test_the_loser_of_max_is_computed_outside_the_graph(backend):
    """max(a, b) keeps one of them; the other is a guard node, computed from the program's
    nodes at each replay so the decision can be checked."""
    u, v, x = Value(1.0, "u"), Value(-2.0, "v"), Value(3.0, "x")
    with record_decisions() as made:
        loss = max(u * x, v * x).tanh()
    program = trace(loss, params=[u, v], inputs=[x], decisions=made)
    assert [g.op for g in program.guard_nodes] == ["*"]  # v * x, which max dropped
    step = replay(program, backend)
    assert close(step.run([0.5]).loss, math.tanh(0.5), backend)
    with pytest.raises(DecisionError, match=r"v \* x > u \* x \(False when traced\)") as caught:
        step.run([-0.5])
    assert "guard node" in str(caught.value) and "outside the loss's graph" in str(caught.value)


def test_outputs_keep_their_meaning_with_decisions(backend):
    w, x = Value(0.5, "w"), Value(2.0, "x")
    with record_decisions() as made:
        z = w * x
        out = z.relu() if z > -5.0 else z
        loss = out * out
    program = trace(loss, params=[w], inputs=[x], outputs=[z], decisions=made)
    result = replay(program, backend).run([4.0])
    assert [float(v) for v in result.outputs] == [2.0]  # z only, not the decisions' nodes


def test_a_refusal_of_the_old_branch_is_reported_as_the_decision(backend):
    """log(x) was the branch for x > 0: at x = -1 the replay's log refuses first, and what
    run says is the decision that changed (the refusal is its cause)."""
    x = Value(2.0, "x")
    with record_decisions() as made:
        loss = x.log() if x > 0.0 else -x
    step = replay(trace(loss, params=[x], decisions=made), backend)
    with pytest.raises(DecisionError, match=r"x > 0\.0 \(True when traced\)") as caught:
        step.run(params=[-1.0])
    assert isinstance(caught.value.__cause__, ReplayError)
    assert "log" in str(caught.value.__cause__)


def test_a_refusal_with_every_decision_unchanged_stays_the_refusal():
    x = Value(5.0, "x")
    with record_decisions() as made:
        loss = (x - 3.0).log() if x > 0.0 else -x
    step = replay(trace(loss, params=[x], decisions=made))
    with pytest.raises(ReplayError, match=r"^replay: log at node \d+ refuses") as caught:
        step.run(params=[1.0])  # x > 0 still; log(-2) is refused, as the engine refuses it
    assert not isinstance(caught.value, DecisionError)


# --- rules whose special case grad(create_graph=True) bakes into the graph -----------------


@pytest.mark.parametrize("op", ["relu", "abs", "leaky_relu"])
def test_create_graph_through_a_kinked_rule_is_guarded(op, backend):
    """relu's derivative is the constant 1 or 0 in the graph create_graph builds: a replay
    on the other side of the kink raises, one on the same side is the engine's."""

    def second_order(x: Value) -> Value:
        y = getattr(x * x * x, op)()
        [dy] = grad(y, [x], create_graph=True)
        return dy * dy

    x = Value(1.5, "x")
    with record_decisions() as made:
        loss = second_order(x)
    program = trace(loss, params=[x], decisions=made)
    assert all(d.what.startswith(f"{op}'s derivative rule: ") for d in program.decisions)
    step = replay(program, backend)
    for new in (0.5, 2.0, 1e-3):
        engine_x = Value(new)
        engine = second_order(engine_x)
        engine.backward()
        result = step.run(params=[new])
        assert close(result.loss, engine.data, backend)
        assert close(result.gradients[0], engine_x.grad, backend)
    with pytest.raises(DecisionError, match=rf"{op}'s derivative rule: \(x \* x\) \* x > 0\.0"):
        step.run(params=[-1.0])


# --- softmax's shift ---------------------------------------------------------------------


def test_softmax_shift_is_a_decision_checked_at_each_replay(backend):
    logits = [Value(v, f"z{i}") for i, v in enumerate([0.1, 2.0, -1.0])]
    program = trace(softmax_cross_entropy(logits, 1), params=logits)  # no block needed
    assert len(program.decisions) == 4
    step = replay(program, backend)
    for new in ([5.0, -3.0, 100.0], [-300.0, -301.0, -299.5], [702.0, 1.0, 0.0]):
        engine_logits = [Value(v) for v in new]
        engine = softmax_cross_entropy(engine_logits, 1)
        engine.backward()
        result = step.run(params=new)
        scale = max(abs(z.grad) for z in engine_logits)
        assert abs(result.loss - engine.data) <= 1e-12 * max(abs(engine.data), 1.0)
        for g, z in zip(result.gradients, engine_logits):
            assert abs(g - z.grad) <= 1e-12 * scale
    # far above the shift: exp would overflow; far below: every exp underflows to 0
    with pytest.raises(DecisionError, match=r"softmax's shift .* keeps z - shift <= 700"):
        step.run(params=[800.0, 0.0, 1.0])
    with pytest.raises(DecisionError, match=r"keeps Σ exp\(z - shift\) >= e\^-700"):
        step.run(params=[-800.0, -900.0, -1000.0])
    # many logits just below exp's overflow: the sum would overflow to inf (no exp refuses)
    many = [Value(0.0) for _ in range(40)]
    wide = replay(trace(softmax_cross_entropy(many, 0), params=many), backend)
    with pytest.raises(DecisionError, match="softmax's shift"):
        wide.run(params=[705.0] * 40)


def test_softmax_probabilities_state_the_shift_too():
    z = [Value(1.0, "a"), Value(3.0, "b")]
    probabilities = softmax(z)
    program = trace(probabilities[1], params=z)
    assert {d.what.split(" keeps")[0] for d in program.decisions} == {"softmax's shift (the "
        "largest logit when traced)", "softmax's shift"}  # fmt: skip
    with pytest.raises(DecisionError):
        replay(program).run(params=[1.0, 900.0])


# --- the recording itself ----------------------------------------------------------------


def test_outside_a_block_nothing_is_recorded_and_blocks_nest():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    assert (a < b) is True  # no block: a plain comparison
    with record_decisions() as outer:
        _ = a < b
        with record_decisions() as inner:
            _ = a > b
        _ = a >= 0
    assert [t[1] for t in inner.taken] == [">"]
    assert [t[1] for t in outer.taken] == ["<", ">", ">="]
    assert repr(outer) == "<3 decisions recorded: a < b, a > b, a >= 0.0>"


def test_a_block_records_its_own_thread_only():
    a = Value(1.0, "a")
    seen = []

    def elsewhere() -> None:
        seen.append(a > 0.0)

    with record_decisions() as made:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        _ = a < 2.0
    assert seen == [True] and [t[1] for t in made.taken] == ["<"]


def test_trace_refuses_decisions_it_cannot_check():
    w = Value(1.0, "w")
    with pytest.raises(TypeError, match=r"trace\(decisions\): expected what record_decisions"):
        trace(w * w, params=[w], decisions=[("w", ">", 0.0)])
    with record_decisions() as made:
        z = w * 2.0
        loss = z if z > 1.0 else -z
    z.data = -5.0  # changed after the comparison: the recorded decision no longer matches
    with pytest.raises(ValueError, match=r"the decision w \* 2\.0 > 1\.0 was True when made"):
        trace(loss, params=[w], decisions=made)


# --- random graphs with branches (Hypothesis) ---------------------------------------------

UNARY = ["tanh", "sigmoid", "relu", "abs", "exp", "log", "sqrt", "neg"]
BINARY = ["+", "-", "*", "/"]
TESTS = ["<", "<=", ">", ">="]


@st.composite
def branchy_programs(draw) -> list[tuple]:
    """A random straight-line program over 2 inputs and 2 parameters with branches: each
    step a unary or binary op of earlier values, a branch (``p if a TEST b else q``), a max,
    or the derivative of an earlier value with create_graph (its rules' branches)."""
    steps = []
    for k in range(draw(st.integers(1, 8))):
        have = 4 + k
        pick = st.integers(0, have - 1)
        kind = draw(st.sampled_from(["unary", "binary", "branch", "branch", "max", "grad"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(UNARY)), draw(pick)))
        elif kind == "binary":
            steps.append(("binary", draw(st.sampled_from(BINARY)), draw(pick), draw(pick)))
        elif kind == "branch":
            threshold = draw(st.sampled_from([0.0, 0.5, -1.0]))
            steps.append(("branch", draw(st.sampled_from(TESTS)), draw(pick), threshold,
                          draw(pick), draw(pick)))  # fmt: skip
        elif kind == "max":
            steps.append(("max", draw(pick), draw(pick)))
        else:
            steps.append(("grad", draw(pick), draw(st.integers(2, 3))))
    return steps


def run_program(steps: list[tuple], numbers: list[float]) -> tuple[Value, list[Value]]:
    """The loss of ``steps`` on inputs/parameters ``numbers``: (loss, [x0, x1, w0, w1])."""
    leaves = [Value(v, name) for v, name in zip(numbers, ["x0", "x1", "w0", "w1"])]
    values = list(leaves)
    for step in steps:
        kind = step[0]
        if kind == "unary":
            _, op, a = step
            values.append(-values[a] if op == "neg" else getattr(values[a], op)())
        elif kind == "binary":
            _, op, a, b = step
            x, y = values[a], values[b]
            values.append({"+": x + y, "-": x - y, "*": x * y}[op] if op != "/" else x / y)
        elif kind == "branch":
            _, test, a, threshold, p, q = step
            taken = {"<": values[a] < threshold, "<=": values[a] <= threshold,
                     ">": values[a] > threshold, ">=": values[a] >= threshold}[test]  # fmt: skip
            values.append(values[p] * 2.0 if taken else values[q] - 1.0)
        elif kind == "max":
            values.append(max(values[step[1]], values[step[2]]))
        else:
            _, a, leaf = step
            [d] = grad(values[a], [leaves[leaf]], create_graph=True)
            values.append(d)
    # every value reaches the loss: what the code computed and the loss does not use would
    # not be replayed (the compared values are: they are the decisions' guard nodes)
    loss = sum_values([values[-1] * values[-1], *values[4:]])
    return loss, leaves


def engine_on(steps, numbers) -> tuple[object, list[bool]]:
    """The engine at ``numbers``: (loss, leaves) or the engine's error, and the decisions
    its code took (their taken values, in order)."""
    with record_decisions() as made:
        try:
            loss, leaves = run_program(steps, numbers)
        except (ArithmeticError, ValueError) as error:
            return error, [t[3] for t in made.taken]
    loss.backward()
    return (loss, leaves), [t[3] for t in made.taken]


NUMBER = st.floats(-3.0, 3.0, allow_nan=False).map(lambda v: round(v, 2))
CASES = {"same branch": 0, "decided otherwise": 0, "refused": 0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=branchy_programs(),
    traced=st.lists(NUMBER, min_size=4, max_size=4),
    others=st.lists(st.lists(NUMBER, min_size=4, max_size=4), min_size=1, max_size=4),
    backend=st.sampled_from(["python", "numpy", "c"]),
)
def test_random_graphs_with_branches_give_the_engine_numbers_or_a_decision_error(
    steps, traced, others, backend
):
    if backend == "numpy":
        pytest.importorskip("numpy")
    if backend == "c" and find_compiler() is None:
        backend = "python"
    built, taken = engine_on(steps, traced)
    if isinstance(built, Exception):
        return  # nothing to trace: the engine refuses the traced numbers themselves
    loss, leaves = built
    with record_decisions() as made:
        loss, leaves = run_program(steps, traced)
    program = trace(loss, params=leaves[2:], inputs=leaves[:2], decisions=made)
    step = replay(program, backend)
    for numbers in others:
        engine, now = engine_on(steps, numbers)
        if isinstance(engine, Exception) or now != taken:
            # refused by the engine, or another branch: never numbers
            with pytest.raises(ReplayError) as caught:
                step.run(numbers[:2], numbers[2:])
            if not isinstance(engine, Exception):
                assert isinstance(caught.value, DecisionError), caught.value
                CASES["decided otherwise"] += 1
            else:
                CASES["refused"] += 1
            continue
        CASES["same branch"] += 1
        want_loss, want_leaves = engine
        result = step.run(numbers[:2], numbers[2:])
        scale = max((abs(v.grad) for v in want_leaves[2:] if math.isfinite(v.grad)), default=0)
        assert close(result.loss, want_loss.data, backend, abs(want_loss.data))
        for g, leaf in zip(result.gradients, want_leaves[2:]):
            assert close(g, leaf.grad, backend, scale), (g, leaf.grad)


def test_random_branch_cases_were_all_met():
    """Run after the property above (same module, file order): each kind of case occurred."""
    if not any(CASES.values()):
        pytest.skip("run with the property test above")
    print(f"random graphs with branches: {CASES}")
    assert all(CASES.values()), CASES
