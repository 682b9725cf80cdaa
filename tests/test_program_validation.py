"""A program is validated before any backend runs it: random corruptions of real traced
programs each give a ValueError naming the node or the field, or -- when the corruption
leaves a well-formed program -- the numbers of the engine's own ops on that program, from
every backend (never a crash, never a read outside an array)."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from helpers import needs_extra
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite.engine import OPERATIONS, input_spans
from autograd_lite.nn import MLP
from autograd_lite.nn.losses import mean_squared_error, softmax_cross_entropy
from autograd_lite.program import (
    DecisionError,
    ReplayError,
    record_decisions,
    replay,
    trace,
    validate,
)
from autograd_lite.program.c_backend import find_compiler
from autograd_lite.program.decisions import TESTS
from autograd_lite.sums import sum_values, weighted_sum

BACKENDS = ["python", "numpy", "c"]


def _programs() -> dict[str, object]:
    """Real traced programs, of every op, one with decisions and guard nodes."""
    model = MLP(2, [3, 2], activation="tanh", seed=0)
    x = [Value(0.5, "x0"), Value(-1.0, "x1")]
    t = [Value(0.25, "t0"), Value(-0.5, "t1")]
    mlp = trace(mean_squared_error(model(x), t), params=model.parameters(), inputs=x + t)
    a, b, c = Value(0.7, "a"), Value(-1.3, "b"), Value(2.0, "c")
    every = (
        (a * b - c / (a + 3.0)) ** 2.0
        + (-a).exp()
        + c.log()
        + c.sqrt()
        + b.sigmoid()
        + b.relu()
        + b.leaky_relu(0.1)
        + b.abs()
        + sum_values([a, b, c])
        + weighted_sum([a, b], [b, c], c).tanh()
    )
    ops = trace(every, params=[a, b], inputs=[c])
    logits = [Value(v, f"z{i}") for i, v in enumerate([0.3, -1.0, 2.0])]
    w, x0 = Value(0.5, "w"), Value(2.0, "x")
    with record_decisions() as made:
        z = w * x0
        clipped = z if z < 3.0 else Value(3.0)
        larger = max(clipped, w)
        loss = larger * larger + softmax_cross_entropy(logits, 2)
    guarded = trace(loss, params=[w, *logits], inputs=[x0], decisions=made)
    assert guarded.decisions and guarded.guard_nodes
    return {"mlp": mlp, "ops": ops, "guarded": guarded}


PROGRAMS = _programs()


def _apply(op: str, inputs: list[Value]) -> Value:
    forward, lists = OPERATIONS[op]
    if True in lists:
        groups = [inputs[f : f + n] if many else inputs[f]
                  for many, (f, n) in zip(lists, input_spans(lists, len(inputs)))]  # fmt: skip
        return forward(*groups)
    return forward(*inputs)


def engine_numbers(program) -> tuple[float, list[float]] | str:
    """The engine's own ops on the program's graph: each node by its op's forward (the
    engine's local derivatives with it), then the chain rule in the program's order (the
    order the replays add in). "refused" where the engine raises, "decided" where a
    decision goes the other way."""
    nodes: list[Value] = []
    try:
        for i, (op, args) in enumerate(zip(program.ops, program.args)):
            leaf = Value(program.values[i])
            nodes.append(_apply(op, [nodes[j] for j in args]) if op else leaf)
        extra = list(nodes)
        for g in program.guard_nodes:
            extra.append(_apply(g.op, [extra[j] for j in g.args]) if g.op else Value(g.value))
    except (ArithmeticError, ValueError):
        return "refused"
    for d in program.decisions:
        if TESTS[d.test](extra[d.left].data, extra[d.right].data) != d.taken:
            return "decided"
    grads = [0.0] * len(nodes)
    grads[program.loss] = 1.0
    for i in range(len(nodes) - 1, -1, -1):
        for j, local in zip(program.args[i], nodes[i].local_grads):
            grads[j] += local * grads[i]
    return nodes[program.loss].data, [grads[i] for i in program.parameters]


def same(got: float, want: float, backend: str, scale: float) -> bool:
    got = float(got)
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if backend != "numpy" or math.isinf(want):
        return got == want
    return abs(got - want) <= 1e-9 * max(abs(want), scale, 1e-300)


def available(backend: str) -> bool:
    if backend == "numpy":
        try:
            import numpy  # noqa: F401
        except ImportError:
            return False
    return backend != "c" or find_compiler() is not None


def check_corrupted(program, backend: str) -> str:
    """Replay ``program`` as the user would: ``replay`` validates it first."""
    try:
        made = replay(program, backend)
    except ValueError as error:
        message = str(error)
        if isinstance(error, ReplayError):  # a backend that lacks an op: named
            assert "cannot run the op" in message or "numpy backend runs" in message, message
            return "unsupported"
        assert message.startswith("program: "), message
        assert "\n" not in message and len(message) < 400, message
        named = re.search(r"node \d+|guard node \d+|\b(ops|args|values|labels|parameters|"
                          r"inputs|outputs|loss|decisions|guard_nodes)\b", message)  # fmt: skip
        assert named, message
        return "invalid"
    want = engine_numbers(program)
    fed = [program.values[i] for i in program.inputs]
    params = [program.values[i] for i in program.parameters]
    if not all(map(math.isfinite, fed + params)):
        with pytest.raises(ValueError, match=r"^run: (inputs|params)\["):
            made.run(fed, params)
        return "refused input"
    if want in ("refused", "decided"):
        error = DecisionError if want == "decided" else ReplayError
        with pytest.raises(error):
            made.run(fed, params)
        return want
    result = made.run(fed, params)
    loss, grads = want
    scale = max((abs(g) for g in grads if math.isfinite(g)), default=0.0)
    assert same(result.loss, loss, backend, abs(loss) if math.isfinite(loss) else 0.0)
    assert all(same(g, w, backend, scale) for g, w in zip(result.gradients, grads)), (
        list(result.gradients),
        grads,
    )
    assert len(result.outputs) == len(program.outputs)
    return "ran"


# --- corruptions --------------------------------------------------------------------------

JUNK = [None, "3", True, 2, 2.5, -1, 10**30, [0], (0,), {0: 0}, math.nan]
OPS = ["", "+", "*", "-", "/", "**", "neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu",
       "leaky_relu", "abs", "sum", "weighted_sum", "nope", "max"]  # fmt: skip


@st.composite
def corruptions(draw) -> tuple[str, object]:
    name = draw(st.sampled_from(sorted(PROGRAMS)))
    p = PROGRAMS[name]
    n = len(p)
    i = draw(st.integers(0, n - 1))
    index = st.integers(-3, n + 3)
    kind = draw(st.sampled_from([
        "op", "arg", "arity", "value", "label", "role", "loss", "length", "swap", "field",
        "outputs", "decision", "guard node", "nothing",
    ]))  # fmt: skip
    ops, args, values = list(p.ops), list(p.args), list(p.values)
    changes: dict[str, object] = {}
    if kind == "op":
        ops[i] = draw(st.sampled_from(OPS))
        changes["ops"] = tuple(ops)
    elif kind == "arg" and args[i]:
        k = draw(st.integers(0, len(args[i]) - 1))
        new = list(args[i])
        new[k] = draw(st.one_of(index, st.sampled_from(JUNK)))
        args[i] = tuple(new)
        changes["args"] = tuple(args)
    elif kind == "arity":
        if args[i] and draw(st.booleans()):
            args[i] = args[i][:-1]
        else:
            args[i] = (*args[i], draw(st.integers(0, max(i - 1, 0))))
        changes["args"] = tuple(args)
    elif kind == "value":
        values[i] = draw(st.one_of(st.sampled_from(JUNK), st.floats(), st.just(-0.0)))
        changes["values"] = tuple(values)
    elif kind == "label":
        labels = list(p.labels)
        labels[i] = draw(st.sampled_from([None, 3, "", "E", "relu_derivative", "x y"]))
        changes["labels"] = tuple(labels)
    elif kind == "role":
        role = draw(st.sampled_from(["parameters", "inputs"]))
        entries = list(getattr(p, role))
        entry = draw(st.one_of(index, st.sampled_from(JUNK)))
        if entries and draw(st.booleans()):
            entries[draw(st.integers(0, len(entries) - 1))] = entry
        else:
            entries.append(entry)
        changes[role] = tuple(entries)
    elif kind == "loss":
        changes["loss"] = draw(st.one_of(index, st.sampled_from(JUNK)))
    elif kind == "length":
        field = draw(st.sampled_from(["ops", "args", "values", "labels"]))
        changes[field] = tuple(getattr(p, field))[: draw(st.integers(0, n - 1))]
    elif kind == "swap":
        j = draw(st.integers(0, n - 1))
        for field in draw(st.sets(st.sampled_from(["ops", "args", "values", "labels"]),
                                  min_size=1)):  # fmt: skip
            entries = list(getattr(p, field))
            entries[i], entries[j] = entries[j], entries[i]
            changes[field] = tuple(entries)
    elif kind == "field":
        field = draw(st.sampled_from(["ops", "args", "values", "labels", "parameters",
                                      "inputs", "outputs", "decisions"]))  # fmt: skip
        changes[field] = draw(st.sampled_from([None, 3, "abc", {}, list(getattr(p, field))]))
    elif kind == "outputs":
        changes["outputs"] = tuple(draw(st.lists(st.one_of(index, st.sampled_from(JUNK)),
                                                 max_size=3)))  # fmt: skip
    elif kind == "decision" and p.decisions:
        k = draw(st.integers(0, len(p.decisions) - 1))
        field = draw(st.sampled_from(["left", "test", "right", "taken", "what"]))
        total = n + len(p.guard_nodes)
        new = draw({
            "left": st.integers(-2, total + 2), "right": st.integers(-2, total + 2),
            "test": st.sampled_from(["<", ">=", "==", "", 3]),
            "taken": st.sampled_from([True, False, 1, None]), "what": st.sampled_from(["", 3]),
        }[field])  # fmt: skip
        decisions = list(p.decisions)
        decisions[k] = decisions[k]._replace(**{field: new})
        changes["decisions"] = tuple(decisions)
    elif kind == "guard node" and p.guard_nodes:
        k = draw(st.integers(0, len(p.guard_nodes) - 1))
        g = p.guard_nodes[k]
        field = draw(st.sampled_from(["op", "args", "value"]))
        new = draw({
            "op": st.sampled_from(OPS),
            "args": st.lists(st.integers(-2, n + k + 2), max_size=3).map(tuple),
            "value": st.one_of(st.floats(), st.sampled_from(JUNK)),
        }[field])  # fmt: skip
        nodes = list(p.guard_nodes)
        nodes[k] = g._replace(**{field: new})
        changes["guard_nodes"] = tuple(nodes)
    return f"{name}: {kind} {changes and sorted(changes)}", dataclasses.replace(p, **changes)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=corruptions())
def test_a_corrupted_program_is_refused_by_name_or_replayed_as_the_engine(backend, case):
    if not available(backend):
        pytest.skip(f"the {backend} backend cannot run here")
    _, program = case
    check_corrupted(program, backend)


def test_the_corruptions_reach_every_outcome():
    """The fuzzing above is not vacuous: over a fixed sample of corruptions, each outcome
    occurs (refused by name, replayed, refused by the engine, a decision that changed)."""
    outcomes: dict[str, int] = {}

    @settings(max_examples=600, deadline=None, database=None, derandomize=True)
    @given(case=corruptions())
    def collect(case):
        _, program = case
        outcome = check_corrupted(program, "python")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    collect()
    assert {"invalid", "ran", "refused", "decided"} <= set(outcomes), outcomes


# --- named, one by one --------------------------------------------------------------------


def test_the_real_programs_are_valid_and_validated_once():
    for program in PROGRAMS.values():
        assert validate(program) is program
    from autograd_lite.program import validate as module_function

    assert module_function(PROGRAMS["mlp"]) is PROGRAMS["mlp"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ops": ("", "*", "nope")}, "node 2 (nope): 'nope' is not an op of the engine"),
        ({"args": ((), (0,), (1,))}, "node 1 (*) reads 1 node; * takes 2 (x, y)"),
        ({"args": ((), (0, 2), (1,))}, "node 1 (*) reads node 2, which is not an earlier node"),
        ({"args": ((), (0, True), (1,))}, "node 1 (*) reads True, which is not a node index"),
        ({"values": (2.0, 4, 1.0)}, "node 1 (*): value must be a float, got int 4"),
        ({"loss": 1}, "loss must be the last node, 2"),
        ({"parameters": (1,)}, "parameters[0] is node 1 (*), which is computed"),
        ({"parameters": (0, 0)}, "parameters[1] is node 0 (leaf 'w'), already one of"),
        ({"outputs": (7,)}, "outputs[0] must be a node index below 3, got 7"),
        ({"labels": ("w", "")}, "labels has 2 entries for 3 nodes"),
        ({"ops": ("", "weighted_sum", "log")}, "weighted_sum reads n weights + n activations"),
        ({"ops": ("", "*", "log"), "args": ((), (0, 0), (0,))}, "node 1 (*) is not used by"),
        ({"ops": ()}, "it has no nodes"),
        ({"args": None}, "args must be a tuple, got NoneType"),
    ],
)
def test_each_malformation_is_a_value_error_naming_the_node(change, message):
    w = Value(2.0, label="w")
    program = trace((w * w).log(), params=[w])
    bad = dataclasses.replace(program, **change)
    for backend in ("python", "c"):
        with pytest.raises(ValueError, match=re.escape(message)):
            replay(bad, backend)


def test_a_program_that_is_not_one_is_a_type_error():
    with pytest.raises(TypeError, match="replay: program must be a Program"):
        replay("not a program")
    with pytest.raises(TypeError, match="program: expected a Program"):
        validate(None)


def test_an_index_past_the_end_never_reaches_the_c_arrays():
    """The memory-safety case of the issue: a hand-edited index that C would read far
    outside its arrays is refused before the interpreter is called."""
    if not available("c"):
        pytest.skip("no C compiler")
    program = PROGRAMS["mlp"]
    args = list(program.args)
    args[-1] = (10**6, *args[-1][1:])
    with pytest.raises(ValueError, match=r"reads node 1000000, which is not an earlier node"):
        replay(dataclasses.replace(program, args=tuple(args)), "c")


def test_numpy_backend_is_validated_too():
    needs_extra("numpy")
    program = PROGRAMS["ops"]
    with pytest.raises(ValueError, match=r"inputs\[1\] must be a node index"):
        replay(dataclasses.replace(program, inputs=(*program.inputs, -1)), "numpy")
