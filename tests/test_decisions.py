"""Every decision the forward pass took by looking at numbers is checked at each replay:
comparisons of Values (user code, max, a clip; relu's and abs's rules under
grad(create_graph=True)) and softmax's shift. A replay whose numbers decide otherwise raises
a DecisionError naming the decision and its node; one whose numbers decide the same gives
the engine's numbers. Random graphs with branches (Hypothesis) hold to the same."""

from __future__ import annotations

import math
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite.engine import RULE_CONDITIONS, taken_on, topological_order
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
from autograd_lite.program.guards import engine_forward
from autograd_lite.sums import sum_values


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


# --- ** and sqrt: special cases their rules state on Values (engine.taken_on) ---------------


def power_slopes(x: Value, p: Value) -> Value:
    """d(x^p)/dx + d(x^p)/dp, built with create_graph: its gradient holds second derivatives."""
    dx, dp = grad(x**p, [x, p], create_graph=True)
    return dx + dp


def hand_made(loss: Value) -> bool:
    """Does the engine's graph hold a number its own op refuses (sqrt's slope 0.5 / 0 = inf at
    0, x^(y-1) at x = 0 for y < 1: written by the rule)? No replay can compute it."""
    for node in topological_order(loss):
        if node.op:
            try:
                engine_forward(node.op, [v.data for v in node.inputs])
            except (ArithmeticError, ValueError):
                return True
    return False


def test_power_traced_at_base_0_is_a_decision_error_at_a_positive_base(backend):
    """x^p is flat in p at x = 0: the slope's constant 0 would replay at x > 0 as d/dp = 0."""
    x, p = Value(0.0, "x"), Value(2.0, "p")
    program = trace(power_slopes(x, p), params=[p], inputs=[x])  # no block needed
    assert [d.what for d in program.decisions] == ["**'s derivative rule: x <= 0.0"]
    step = replay(program, backend)
    for new in (0.0, -1.0, -2.5):  # x <= 0: the same branch, the engine's numbers
        engine_p = Value(2.0)
        engine = power_slopes(Value(new), engine_p)
        engine.backward()
        result = step.run([new], [2.0])
        assert close(result.loss, engine.data, backend)
        assert close(result.gradients[0], engine_p.grad, backend)
    with pytest.raises(DecisionError) as caught:
        step.run([1.5], [2.0])
    message = str(caught.value)
    assert "decided **'s derivative rule: x <= 0.0 (True when traced)" in message
    assert re.search(r"1\.5 <= 0\.0 is false, at node \d+ \(leaf 'x'\)", message)
    assert caught.value.numbers == (1.5, 0.0)


def test_power_traced_at_a_positive_base_replays_as_the_engine_and_names_the_rule_at_0(backend):
    x, p = Value(2.0, "x"), Value(1.5, "p")
    program = trace(power_slopes(x, p), params=[x, p])
    step = replay(program, backend)
    for new_x, new_p in ((0.5, 1.5), (3.0, 2.0), (1.0, 0.25), (7.0, -1.0), (1e-3, 3.0)):
        result = step.run(params=[new_x, new_p])
        # d/dx (p x^(p-1) + x^p ln x) and d/dp of it, by hand
        ln = math.log(new_x)
        by_hand_x = new_p * (new_p - 1) * new_x ** (new_p - 2) + new_x ** (new_p - 1) * (
            new_p * ln + 1
        )
        by_hand_p = new_x ** (new_p - 1) * (1 + new_p * ln) + new_x**new_p * ln * ln
        for got, want in zip(result.gradients, (by_hand_x, by_hand_p)):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        engine_x, engine_p = Value(new_x), Value(new_p)
        engine = power_slopes(engine_x, engine_p)
        engine.backward()
        assert close(result.loss, engine.data, backend)
        assert close(result.gradients[0], engine_x.grad, backend)
        assert close(result.gradients[1], engine_p.grad, backend)
    # at x = 0 the engine's d/dp is the constant 0: the replay names the branch, not log's 0
    with pytest.raises(DecisionError, match=r"\*\*'s derivative rule: x <= 0\.0 \(False") as caught:
        step.run(params=[0.0, 2.0])
    assert isinstance(caught.value.__cause__, ReplayError)  # log refused first
    assert "log" in str(caught.value.__cause__)


def test_power_at_0_to_the_0_states_its_flat_slope_in_x_too(backend):
    """At x = 0, y = 0, d/dx is the constant 0 (the rule's special case): it holds for x = 0
    and y = 0 only."""
    x, p = Value(0.0, "x"), Value(0.0, "p")
    program = trace(grad(x**p, [x], create_graph=True)[0], params=[x, p])
    assert sorted(d.what for d in program.decisions) == [
        "**'s derivative rule: p <= 0.0",
        "**'s derivative rule: x <= 0.0",
        "**'s derivative rule: x >= 0.0",
    ]
    step = replay(program, backend)
    engine_x, engine_p = Value(0.0), Value(0.0)
    grad(engine_x**engine_p, [engine_x], create_graph=True)[0].backward()
    got = step.run(params=[0.0, 0.0]).gradients
    assert [float(g) for g in got] == [engine_x.grad, engine_p.grad] == [0.0, 0.0]
    with pytest.raises(DecisionError, match=r"x <= 0\.0 \(True"):
        step.run(params=[1.0, 0.0])  # d/dp of y x^(y-1) is 1 here, not the constant's 0
    with pytest.raises(DecisionError, match=r"x >= 0\.0 \(True"):
        step.run(params=[-1.0, 0.0])
    with pytest.raises(DecisionError, match=r"p <= 0\.0 \(True"):
        step.run(params=[0.0, 0.5])  # the slope is vertical there


def test_a_constant_exponent_states_nothing_the_loss_uses(backend):
    """(x - t)^2 under create_graph: the exponent's slope is flat where x - t <= 0, but the
    loss never uses it, so a residual that changes sign replays as the engine."""

    def model(w: Value, x: Value) -> Value:
        [slope] = grad((w * x - 1.0) ** 2.0, [w], create_graph=True)
        return slope * slope

    w, x = Value(0.5, "w"), Value(1.0, "x")  # residual -0.5
    with record_decisions() as made:
        loss = model(w, x)
    program = trace(loss, params=[w], inputs=[x], decisions=made)
    assert program.decisions == ()
    step = replay(program, backend)
    for new_x in (3.0, -2.0, 1.0, 0.0):
        engine_w = Value(0.5)
        engine = model(engine_w, Value(new_x))
        engine.backward()
        result = step.run([new_x])
        assert close(result.loss, engine.data, backend)
        assert close(result.gradients[0], engine_w.grad, backend)


def sqrt_slope(x: Value) -> Value:
    [slope] = grad((x * 1.0).sqrt(), [x], create_graph=True)
    return slope


def test_sqrt_traced_at_0_replays_the_formula_elsewhere(backend):
    """sqrt's slope at 0 is the node 0.5 / sqrt(x) written as inf (the formula's own node):
    replays at x > 0 compute the formula; at 0 "/" refuses 0.5 / 0, never a number."""
    x = Value(0.0, "x")
    program = trace(sqrt_slope(x), params=[x])
    assert program.decisions == ()
    step = replay(program, backend)
    for new in (1.5, 4.0, 1e-100):
        result = step.run(params=[new])
        by_hand = (0.5 / math.sqrt(new), -0.25 / new**1.5)  # 1/(2 sqrt x), -1/(4 x^1.5)
        assert result.loss == pytest.approx(by_hand[0], rel=1e-15)
        assert result.gradients[0] == pytest.approx(by_hand[1], rel=1e-15)
        engine_x = Value(new)
        engine = sqrt_slope(engine_x)
        engine.backward()
        assert close(result.loss, engine.data, backend)
        assert close(result.gradients[0], engine_x.grad, backend)
    assert hand_made(sqrt_slope(Value(0.0)))
    with pytest.raises(ReplayError, match="refuses"):
        step.run(params=[0.0])


def test_sqrt_traced_above_0_is_a_decision_error_at_0(backend):
    x = Value(2.0, "x")
    program = trace(sqrt_slope(x), params=[x])
    assert [d.what for d in program.decisions] == ["sqrt's derivative rule: sqrt(x * 1.0) <= 0.0"]
    step = replay(program, backend)
    engine_x = Value(0.25)
    engine = sqrt_slope(engine_x)
    engine.backward()
    result = step.run(params=[0.25])
    assert close(result.loss, engine.data, backend)
    assert close(result.gradients[0], engine_x.grad, backend)
    with pytest.raises(DecisionError, match=r"sqrt's derivative rule: sqrt\(x \* 1\.0\) <= 0\.0"):
        step.run(params=[0.0])  # the engine writes inf there: no replay computes it


POWER_POINTS = [(0.0, 2.0), (0.0, 0.5), (0.0, 0.0), (0.0, 1.0), (2.0, 2.0), (2.0, 0.5),
                (0.5, 0.0), (-1.5, 2.0), (-1.5, 3.0), (-1.5, 0.5), (1.0, -1.0)]  # fmt: skip
POWER_CASES = {"numbers": 0, "decided otherwise": 0, "refused": 0}


@pytest.mark.parametrize("traced", POWER_POINTS, ids=str)
def test_power_slopes_replay_as_the_engine_or_refuse_never_other_numbers(traced, backend):
    """Every traced point against every other: the engine's numbers, or a ReplayError; a
    DecisionError where the engine has numbers and a constant of the rule's would replay:
    d/dp's 0 where x <= 0, d/dx's 0 at x = p = 0."""

    def at_0_to_the_0(point: tuple[float, float]) -> bool:
        return point[0] == point[1] == 0.0

    x, p = Value(traced[0], "x"), Value(traced[1], "p")
    try:
        loss = power_slopes(x, p)
    except (ArithmeticError, ValueError):
        return  # the engine refuses the traced numbers: nothing to trace
    if hand_made(loss):
        return  # the engine wrote a number no replay can compute, even at these numbers
    step = replay(trace(loss, params=[x, p]), backend)
    for new in POWER_POINTS:
        engine_x, engine_p = Value(new[0]), Value(new[1])
        try:
            engine = power_slopes(engine_x, engine_p)
            refused = hand_made(engine)
        except (ArithmeticError, ValueError):
            engine, refused = None, True
        flat_side = (new[0] <= 0.0) != (traced[0] <= 0.0)
        if engine is not None and (flat_side or at_0_to_the_0(traced) != at_0_to_the_0(new)):
            # (from y x^(y-1) to 0^0: the replay's ** refuses 0^-1 first, a refusal)
            if at_0_to_the_0(new) and not flat_side:
                with pytest.raises(ReplayError, match=r"\*\* at node \d+ refuses"):
                    step.run(params=list(new))
                POWER_CASES["refused"] += 1
                continue
            with pytest.raises(DecisionError, match=r"\*\*'s derivative rule: [xp] [<>]= 0\.0"):
                step.run(params=list(new))
            POWER_CASES["decided otherwise"] += 1
        elif refused:
            with pytest.raises(ReplayError):
                step.run(params=list(new))
            POWER_CASES["refused"] += 1
        else:
            engine.backward()
            result = step.run(params=list(new))
            assert close(result.loss, engine.data, backend)
            assert close(result.gradients[0], engine_x.grad, backend)
            assert close(result.gradients[1], engine_p.grad, backend)
            POWER_CASES["numbers"] += 1


def test_power_cases_were_all_met():
    """Run after the grid above (same module, file order): each kind of case occurred."""
    if not any(POWER_CASES.values()):
        pytest.skip("run with the grid above")
    print(f"power slopes, traced against replayed: {POWER_CASES}")
    assert all(POWER_CASES.values()), POWER_CASES


def test_a_rule_condition_on_numbers_changed_after_it_was_stated_is_refused():
    x, p = Value(0.0, "x"), Value(2.0, "p")
    loss = power_slopes(x, p)
    x.data = 3.0  # the graph was built for x = 0
    with pytest.raises(ValueError, match=r"the decision x <= 0\.0 was True when made"):
        trace(loss, params=[x, p])


def test_taken_on_checks_its_test_and_skips_numbers():
    with pytest.raises(ValueError, match=r"taken_on\('\*\*'\): test must be one of .* got '=='"):
        taken_on("**", 0.0, (Value(1.0), "==", 0.0))
    partial = taken_on("**", 0.0, (2.0, "<=", 0.0))  # a number cannot change
    assert partial.data == 0.0 and RULE_CONDITIONS[partial] == []


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

UNARY = ["tanh", "sigmoid", "relu", "abs", "exp", "log", "sqrt", "neg", "square"]
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
            if op in ("neg", "square"):  # x ** 2.0: its d/dy's branch, which no loss uses
                values.append(-values[a] if op == "neg" else values[a] ** 2.0)
            else:
                values.append(getattr(values[a], op)())
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
    its code took (their taken values, in order: its comparisons, then the conditions the
    rules stated in the loss's graph, engine.taken_on)."""
    with record_decisions() as made:
        try:
            loss, leaves = run_program(steps, numbers)
        except (ArithmeticError, ValueError) as error:
            return error, [t[3] for t in made.taken]
    stated = [c[3] for node in topological_order(loss) for c in RULE_CONDITIONS.get(node, ())]
    if hand_made(loss):  # sqrt's slope at 0: a number no replay can compute
        return ValueError("a number the engine's own op refuses"), [t[3] for t in made.taken]
    loss.backward()
    return (loss, leaves), [t[3] for t in made.taken] + stated


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
