"""Bad input, thrown at random where it enters: model files at ``MLP.load`` and at
``autograd-lite export FILE``, numbers at ``replay(...).run()`` for every backend.

For each case the answer is the engine's numbers, or a ``TypeError``/``ValueError`` (a
``ReplayError`` is one) whose one-line message names the call and the argument; never a
crash, a bare Python error (KeyError, IndexError, RecursionError, OverflowError, ...) or a
silent difference. The valid cases are checked against numbers computed here, independently
of what is checked: the file's own numbers, the engine's ``backward()`` on a fresh graph.

``CASES`` counts the examples run, per kind; ``pytest -s`` prints the count at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite.cli import main
from autograd_lite.elementary import exp
from autograd_lite.export import export_model
from autograd_lite.layers import layer_view
from autograd_lite.names import Name, bias
from autograd_lite.nn import ACTIVATIONS, MLP, l2_penalty, mean_squared_error
from autograd_lite.nn.losses import softmax_cross_entropy
from autograd_lite.program import replay, trace
from autograd_lite.program.c_backend import find_compiler

CASES: Counter = Counter()  # kind of case -> examples run
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _report_count():
    yield
    print(f"\nbad-input cases run: {sum(CASES.values())} ({dict(CASES)})")


# --- model files ---------------------------------------------------------------------------

# what a number of a valid file is replaced by: none of these is a weight, a size or a version
NOT_A_NUMBER = st.one_of(
    # an int no float holds, written out (more digits than Python's int() reads: 4300)
    st.integers(min_value=309, max_value=6000).map(lambda n: "1" + "0" * n),
    st.integers(min_value=309, max_value=6000).map(lambda n: "-" + "9" * n),
    st.sampled_from(["1e400", "-1e999", "NaN", "Infinity", "-Infinity"]),  # raw JSON text
    st.text(max_size=20).map(json.dumps),
    st.sampled_from(["true", "false", "null", "[]", "{}", "[1.0, 2.0]", '{"w": 1}']),
    st.integers(min_value=40, max_value=3000).map(lambda n: "[" * n + "]" * n),  # deep
    st.integers(min_value=40, max_value=3000).map(lambda n: '{"a": ' * n + "0" + "}" * n),
)


@st.composite
def model_files(draw):
    """(text of a model file, what was done to it, where); ``where`` is the field a
    mutation put a bad value in (None when the file may be valid)."""
    nin = draw(st.integers(1, 3))
    nouts = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    activations = st.sampled_from(sorted(ACTIVATIONS))
    model = MLP(nin, nouts, draw(activations), draw(activations), seed=draw(st.integers(0, 9)))
    saved = model.to_dict()
    kind = draw(st.sampled_from(["valid", "number", "key", "text", "size", "weights"]))
    if kind == "valid":  # a valid file with other numbers: ints, huge and tiny floats
        number = st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**300), 10**300)
        )
        for layer in saved["layers"]:
            for neuron in layer:
                neuron["w"] = [draw(number) for _ in neuron["w"]]
                neuron["b"] = draw(number)
        return json.dumps(saved), kind, None
    if kind == "number":  # one number of the file replaced by what is none
        marker = "__BAD__"
        spots = ["nin", "nouts", "version"] + [
            f"layers[{l}][{j}].{part}"
            for l, layer in enumerate(saved["layers"])  # noqa: E741
            for j, neuron in enumerate(layer)
            for part in [*(f"w[{i}]" for i in range(len(neuron["w"]))), "b"]
        ]
        where = draw(st.sampled_from(spots))
        if where in ("nin", "version"):
            saved[where] = marker
        elif where == "nouts":
            saved["nouts"][draw(st.integers(0, len(nouts) - 1))] = marker
        else:
            at, j, part = re.fullmatch(r"layers\[(\d+)\]\[(\d+)\]\.(.*)", where).groups()
            neuron = saved["layers"][int(at)][int(j)]
            if part == "b":
                neuron["b"] = marker
            else:
                neuron["w"][int(part[2:-1])] = marker
        bad = draw(NOT_A_NUMBER)
        if bad.count("[") + bad.count("{") >= 40:  # refused before parsing: no field yet
            where = "levels deep; a model file is 5 levels deep"
        return json.dumps(saved).replace(json.dumps(marker), bad), kind, where
    if kind == "key":  # a key removed or added, at the top or in a neuron
        neuron = saved["layers"][0][0]
        target = draw(st.sampled_from([saved, neuron]))
        if draw(st.booleans()) and target:
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.text(min_size=1, max_size=10))] = draw(st.integers())
            if target is saved and saved.keys() <= _VALID_KEYS:  # the text was a valid key
                return json.dumps(saved), kind, None
        return json.dumps(saved), kind, ""
    if kind == "size":  # nin or a layer size that the weights do not follow
        saved["nin"] = nin + draw(st.integers(1, 10**6))
        return json.dumps(saved), kind, "w must be a list of"
    if kind == "weights":  # a list nested where a weight list belongs
        saved["layers"][0][0]["w"] = [saved["layers"][0][0]["w"]]
        return json.dumps(saved), kind, "layers[0][0].w"
    # random damage to the text itself: cut, or a few characters replaced
    text = json.dumps(saved)
    at = draw(st.integers(0, len(text)))
    if draw(st.booleans()):
        return text[:at], kind, None
    return text[:at] + draw(st.text(max_size=5)) + text[at + 3 :], kind, None


_VALID_KEYS = set(MLP(1, [1]).to_dict())


def file_numbers(text: str) -> list[float]:
    """The weights and biases the file holds, in parameter order, read here without
    ``MLP.load``: Python's json, each number converted by float()."""
    saved = json.loads(text)
    return [float(v) for layer in saved["layers"] for n in layer for v in (*n["w"], n["b"])]


def one_line_naming(message: str, start: str) -> None:
    assert message.startswith(start), message
    assert "\n" not in message and len(message) < 400, message


@SETTINGS
@given(case=model_files())
def test_random_model_files_load_or_say_what_is_wrong(case, tmp_path_factory):
    text, kind, where = case
    CASES[f"MLP.load ({kind})"] += 1
    path = tmp_path_factory.mktemp("files") / "model.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        model = MLP.load(path)
    except ValueError as error:
        one_line_naming(str(error), f"{path}: ")
        if where:
            assert where in str(error), (where, str(error))
        return
    assert where is None, f"{kind} at {where} was accepted"
    # accepted: the file's numbers, exactly (floats, or ints converted by float())
    assert [p.data for p in model.parameters()] == file_numbers(text)


@SETTINGS
@given(case=model_files())
def test_random_model_files_on_the_command_line(case, tmp_path_factory):
    text, kind, where = case
    CASES[f"autograd-lite export ({kind})"] += 1
    path = tmp_path_factory.mktemp("cli") / "model.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        model = MLP.load(path)
    except ValueError as error:
        expected = f"autograd-lite export: error: {error}\n"
        model = None
    args = ["export", str(path), "--lang", "python", "--loss", "mse"]
    if model is not None:  # a sample the model takes
        args += ["--inputs", *["0.5"] * model.nin, "--targets", *["0.25"] * model.nouts[-1]]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as stop:
            code = stop.code
    if model is None:  # the API's line, once, and exit code 2
        assert (code, err.getvalue(), out.getvalue()) == (2, expected, "")
        return
    # a valid file: the source the API writes for it, or export's refusal (the weights so
    # large the forward pass overflows), with its usage, as a bad option is refused
    if code == 0:
        inputs, targets = [0.5] * model.nin, [0.25] * model.nouts[-1]
        assert out.getvalue() == export_model(
            model, inputs, targets, "python", mean_squared_error, 0.5
        )
    else:
        assert code == 2 and err.getvalue().count("\n") <= 6 and "Traceback" not in err.getvalue()


def test_the_files_the_issue_names_are_one_line_each(tmp_path, capsys):
    saved = MLP(2, [2, 2], seed=0).to_dict()
    files = {
        "1e400 as an int": json.dumps(saved).replace("0.0", "1" + "0" * 400, 1),
        "1e400 as a float": json.dumps(saved).replace("0.0", "1e400", 1),
        "a thousand levels deep": "[" * 1000 + "]" * 1000,
    }
    for what, text in files.items():
        path = tmp_path / "model.json"
        path.write_text(text)
        with pytest.raises(SystemExit) as stop:
            main(["export", str(path), "--lang", "c"])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.count("\n") == 1, what
        assert err.startswith(f"autograd-lite export: error: {path}: "), what
        assert re.search(r"beyond float range|nested 1000 levels deep", err), what


# --- numbers fed to a replay ---------------------------------------------------------------


def graph(xs: list[Value], ps: list[Value]) -> Value:
    """A small network's loss, with every op a model uses: x0, x1 and a target t in; two
    tanh neurons, a relu, a sigmoid out, the squared error."""
    x0, x1, t = xs
    a0 = (ps[0] * x0 + ps[1] * x1 + ps[2]).tanh()
    a1 = (ps[3] * x0 - ps[4] * x1).relu()
    out = (ps[5] * a0 + a1 * ps[6]).sigmoid()
    return (t - out) * (t - out)


TRACED_INPUTS, TRACED_PARAMS = [0.5, -1.0, 0.25], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, -0.7]


def engine(inputs: list[float], params: list[float]) -> tuple[float, list[float]]:
    """The engine's loss and gradients, on a graph built afresh from these numbers."""
    ps = [Value(p) for p in params]
    loss = graph([Value(x) for x in inputs], ps)
    loss.backward()
    return loss.data, [p.grad for p in ps]


_REPLAYS: dict = {}


def replayed(backend: str):
    if backend not in _REPLAYS:
        xs, ps = [Value(v) for v in TRACED_INPUTS], [Value(v) for v in TRACED_PARAMS]
        _REPLAYS[backend] = replay(trace(graph(xs, ps), params=ps, inputs=xs), backend)
    return _REPLAYS[backend]


try:
    import numpy as np
except ImportError:  # the arrays are left out; the numpy backend is skipped
    np = None


def available(backend: str) -> str:
    if backend == "numpy" and np is None:
        pytest.skip('needs the numpy extra: pip install ".[numpy]"')
    if backend == "c" and find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on the PATH: the c backend cannot build")
    return backend


# A number run() takes: a real number in the float range (moderate here: what the numbers
# do at the float range's edges is another test's subject), of any real type.
GOOD = st.one_of(
    st.floats(-1e6, 1e6),
    st.integers(-(10**6), 10**6),
    st.fractions(max_denominator=1000).filter(lambda f: abs(f) < 10**6),
    st.sampled_from([0.0, -0.0, 5e-324, -1e-300]),
)
BAD = st.one_of(
    st.booleans(),
    st.text(max_size=5),
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 1 + 2j, b"1", Fraction(10**400)]),
    st.integers(309, 5000).map(lambda n: 10**n),
    st.lists(st.floats(-1.0, 1.0), max_size=3),
    st.just({"x": 1.0}),
)


def is_good(v: object) -> bool:
    """Written here from the rules (real, not bool, in float range, finite), not imported."""
    if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


@st.composite
def fed(draw, count: int):
    """What a user might pass for ``count`` numbers: mostly the right count of mostly
    good numbers, in a list, a tuple, a generator, a NumPy array; sometimes not a list."""
    length = draw(st.one_of(st.just(count), st.integers(0, count + 2)))
    elements = draw(st.lists(st.one_of(GOOD, GOOD, GOOD, BAD), min_size=length, max_size=length))
    containers = ["list", "tuple", "generator", "other"] + ["array", "2d"] * (np is not None)
    container = draw(st.sampled_from(containers))
    if container == "other":
        # (None is not here: run(params=None) keeps the last parameters, as documented)
        return draw(st.sampled_from(["0.5", 0.5, b"0.5", {0.5: 1}, {0.5}])), "other"
    if container in ("array", "2d"):
        if not all(map(is_good, elements)):
            return elements, "list"
        array = np.array([float(v) for v in elements])
        return (array.reshape(1, -1) if container == "2d" else array), container
    if container == "tuple":
        return tuple(elements), container
    if container == "generator":
        return (v for v in elements), container
    return elements, container


def expected_refusal(values: object, container: str, count: int, role: str) -> str | None:
    """The start of the message the run must refuse ``values`` with, or None if valid."""
    if container == "other":
        return f"run: {role} must be a flat list of {count}"
    if container == "2d":
        return f"run: {role} must be a flat list of {count} number" + "s" * (count != 1)
    elements = list(values)
    if len(elements) != count:
        return f"run: {role} must be a flat list of {count}"
    for i, v in enumerate(elements):
        if not is_good(v):
            return f"run: {role}[{i}] must be "
    return None


def agrees(got: list[float], expected: list[float], backend: str) -> bool:
    if backend == "python":  # the engine's order, the engine's floats: every bit
        return got == expected
    scale = max([abs(e) for e in expected] + [1e-300])  # numpy and C: within 1e-12 of it
    return all(abs(g - e) <= 1e-12 * scale for g, e in zip(got, expected))


@pytest.mark.parametrize("backend", ["python", "numpy", "c"])
@SETTINGS
@given(data=st.data())
def test_random_numbers_fed_to_run(backend, data):
    program = replayed(available(backend))
    feed_params = data.draw(st.booleans())
    role, count = ("params", 7) if feed_params else ("inputs", 3)
    values, container = data.draw(fed(count))
    CASES[f"run {role} ({backend})"] += 1
    before = list(program.params)
    items = None  # the numbers fed, one by one, when in a container run() reads
    if container in ("list", "tuple", "generator"):
        items = list(values)
        values = iter(items) if container == "generator" else values
    elif container == "array":
        items = values.tolist()
    refusal = expected_refusal(values if items is None else items, container, count, role)
    try:
        if feed_params:
            result = program.run(TRACED_INPUTS, params=values)
        else:
            result = program.run(values)
    except (TypeError, ValueError) as error:
        assert refusal is not None, f"refused valid {values!r}: {error}"
        one_line_naming(str(error), refusal)
        assert list(program.params) == before  # a refused call changes nothing
        return
    assert refusal is None, f"accepted {values!r}, expected: {refusal}"
    numbers = [float(v) for v in items]
    inputs, params = (TRACED_INPUTS, numbers) if feed_params else (numbers, before)
    loss, gradients = engine(inputs, params)
    assert agrees([result.loss, *list(result.gradients)], [loss, *gradients], backend)
    if feed_params:
        program.params = TRACED_PARAMS  # the next example starts from the traced ones


# --- every TypeError names the call and the argument ---------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MLP(2, [1])(["a", 1.0]), r"^MLP call: inputs\[0\] must be a number or a Value, got str 'a'$"),  # noqa: E501
        (lambda: MLP(2, [1])(3.0), r"^MLP call: inputs must be a list of 2 numbers or Values, got float 3.0$"),  # noqa: E501
        (lambda: exp("x"), r"^exp: x must be a number, a Value or a symbol, got str 'x'$"),
        (lambda: l2_penalty([Value(1.0), 2.0], 0.1), r"^l2_penalty: parameters must be Values, got float 2.0$"),  # noqa: E501
        (lambda: layer_view(1.5), r"^layer_view: loss must be a Value, got float 1.5$"),
        (lambda: softmax_cross_entropy([[Value(1.0), Value(2.0)]], [1.0]),
         r"^softmax_cross_entropy: targets must be class numbers \(int\), got float 1.0$"),
        (lambda: Name("weight"), r"^Name: role must be a Role, got str 'weight'$"),
        (lambda: bias(3), r"^bias: neuron must be its name .* got int 3$"),
        (lambda: replay("program"), r"^replay: program must be a Program \(from trace\), got str"),
        (lambda: MLP.load(None), r"^MLP.load: path must be a str or a Path, got NoneType None$"),
    ],
)  # fmt: skip
def test_type_errors_name_the_call_and_the_argument(call, message):
    with pytest.raises(TypeError, match=message):
        call()
