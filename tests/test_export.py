"""Exported files run on their own and print the engine's numbers, digit for digit.

Each exported file is run -- Python with ``exec``, C compiled with the system compiler
(``cc``), JavaScript with ``node`` -- and its printed error, gradients and error after one
step of gradient descent are compared with the engine's numbers as the files write them
(``printed``: Python's repr, 0.0 for -0.0), as text. Python's ``math`` and a C file call
the same C library; JavaScript's Math.exp, Math.log, Math.tanh and Math.pow are V8's own,
which may round a last bit differently: a JavaScript file that calls them is held to 1e-12
relative instead. The 2-2-2 example is also checked against the hand-worked numbers of the
classic walk-through.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lite import Value, sum_values, weighted_sum
from autograd_lite.export import (
    LANGUAGES,
    export_example,
    export_graph,
    export_model,
    identifier,
)
from autograd_lite.export.languages import printed
from autograd_lite.nn import (
    MLP,
    binary_cross_entropy_with_logits,
    hinge_loss,
    mean_squared_error,
    softmax_cross_entropy,
)
from autograd_lite.stepping import (
    CLASSIC_INPUTS,
    CLASSIC_TARGETS,
    classic_network,
    labelled_error,
)

LR = 0.5
LINE = re.compile(r"(.+?) = (\S+)")


def shown(output: str) -> dict[str, str]:
    """``name = number`` lines -> {name: the number as printed}; any other line fails."""
    numbers = {}
    for line in output.splitlines():
        match = LINE.fullmatch(line)
        assert match, f"unexpected line in the output: {line!r}"
        numbers[match[1]] = match[2]
    return numbers


def parse(output: str) -> dict[str, float]:
    """``name = number`` lines -> {name: number}; any other line fails the test."""
    return {name: float(text) for name, text in shown(output).items()}


def run_python(source: str, tmp_path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "exported.py", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def run_c(source: str, tmp_path) -> str:
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler: `cc` is not on PATH (apt-get install gcc)")
    path, program = tmp_path / "exported.c", tmp_path / "exported"
    path.write_text(source, encoding="utf-8")
    built = subprocess.run(
        [compiler, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-o", str(program), str(path),
         "-lm"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert built.stderr == "", f"the compiler warns:\n{built.stderr}"
    return subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout


def run_javascript(source: str, tmp_path) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no JavaScript runtime: `node` is not on PATH (apt-get install nodejs)")
    path = tmp_path / "exported.js"
    path.write_text(source, encoding="utf-8")
    return subprocess.run([node, str(path)], capture_output=True, text=True, check=True).stdout


RUN = {"python": run_python, "c": run_c, "javascript": run_javascript}


def engine_numbers(error: Value, parameters: list[Value], again) -> dict[str, float]:
    """What the file should print, from the engine: E, ∂E/∂p for each parameter, and E
    after p -= lr * ∂E/∂p (``again()`` rebuilds the error from the updated parameters)."""
    error.backward()
    expected = {"E": error.data}
    for p in parameters:
        expected[f"dE/d{identifier(p.label)}"] = p.grad
    for p in parameters:
        p.data -= LR * p.grad
    expected["E after one step"] = again().data
    return expected


# V8's own Math.exp, Math.log, Math.tanh, and Math.pow but for a square (x * x, exactly)
LIBM = re.compile(r"Math\.(exp|log|tanh)\(|Math\.pow\([^,]+, (?!2\.0\))")


def exact(language: str, source: str) -> bool:
    """True when the file must print the engine's digits exactly (see the module's doc)."""
    return language != "javascript" or not LIBM.search(source)


def assert_same(
    output: str, expected: dict[str, float], exactly: bool = True, close: tuple[str, ...] = ()
) -> None:
    """The file printed ``expected`` as the files print numbers (every digit), or, where
    not ``exactly`` and for the names in ``close``, to 1e-12 relative."""
    numbers = shown(output)
    assert numbers.keys() == expected.keys()
    for name, value in expected.items():
        if exactly and name not in close:
            assert numbers[name] == printed(value), (
                f"{name}: the file printed {numbers[name]}, the engine gives {printed(value)}"
            )
        else:
            assert math.isclose(float(numbers[name]), value, rel_tol=1e-12, abs_tol=1e-300), (
                f"{name}: the file printed {numbers[name]}, the engine gives {value!r}"
            )


# --- the 2-2-2 example ---------------------------------------------------------------------

# The classic walk-through's numbers, worked by hand: E before learning, and ∂E/∂w for
# w1..w8 (w_i's new value there is w_i - 0.5 * ∂E/∂w_i).
HAND = {
    "E": 0.298371109,
    "dE/dL0_n0_w0": 0.000438568,  # w1
    "dE/dL0_n0_w1": 0.000877136,  # w2
    "dE/dL0_n1_w0": 0.000497713,  # w3
    "dE/dL0_n1_w1": 0.000995425,  # w4
    "dE/dL1_n0_w0": 0.082167041,  # w5
    "dE/dL1_n0_w1": 0.082667628,  # w6
    "dE/dL1_n1_w0": -0.022602540,  # w7
    "dE/dL1_n1_w1": -0.022740242,  # w8
}


def classic_expected() -> dict[str, float]:
    model = classic_network()
    error = labelled_error(model(list(CLASSIC_INPUTS)), CLASSIC_TARGETS)

    def again() -> Value:
        return labelled_error(model(list(CLASSIC_INPUTS)), CLASSIC_TARGETS)

    return engine_numbers(error, model.parameters(), again)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_example_prints_the_worked_numbers(language, tmp_path):
    source = export_example(language)
    output = RUN[language](source, tmp_path)
    assert_same(output, classic_expected(), exact(language, source))
    numbers = parse(output)
    for name, value in HAND.items():
        assert abs(numbers[name] - value) < 1e-9, name
    assert numbers["E after one step"] < numbers["E"]  # one step of learning helps


# --- saved MLPs: several layers, activations and losses ------------------------------------

MODELS = {
    "tanh-tanh-linear": dict(nin=3, nouts=[4, 3, 2], activation="tanh", output_activation="linear"),
    "relu-sigmoid": dict(nin=2, nouts=[5, 1], activation="relu", output_activation="sigmoid"),
    "leaky-relu-linear": dict(nin=3, nouts=[4, 4, 3], activation="leaky_relu"),
    "sigmoid-op-by-op": dict(nin=2, nouts=[3, 2], activation="sigmoid", op_by_op=True),
}
INPUTS = {2: [0.7, -1.3], 3: [0.5, -0.25, 1.5]}
# loss, targets per number of outputs
LOSSES = {
    "E": (labelled_error, {1: [0.3], 2: [0.2, -0.4], 3: [0.1, 0.5, -0.9]}),
    "mse": (mean_squared_error, {1: [0.3], 2: [0.2, -0.4], 3: [0.1, 0.5, -0.9]}),
    "softmax-ce": (softmax_cross_entropy, {2: 1, 3: 2}),
    "bce-logits": (binary_cross_entropy_with_logits, {1: [1.0], 2: [1.0, 0.0]}),
    "hinge": (hinge_loss, {1: [-1.0]}),
}
CASES = [
    ("tanh-tanh-linear", "E"),
    ("tanh-tanh-linear", "softmax-ce"),
    ("tanh-tanh-linear", "bce-logits"),
    ("relu-sigmoid", "mse"),
    ("relu-sigmoid", "hinge"),
    ("leaky-relu-linear", "softmax-ce"),
    ("leaky-relu-linear", "mse"),
    ("sigmoid-op-by-op", "E"),
]


def saved_model(name: str, tmp_path) -> MLP:
    model = MLP(**MODELS[name], seed=3)
    for k, p in enumerate(model.parameters()):  # biases away from 0, some relus off
        if p.label.endswith(".b"):
            p.data = 0.1 * ((k % 5) - 2)
    return MLP.load(model.save(tmp_path / f"{name}.json"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("model_name", "loss_name"), CASES)
def test_a_saved_mlp_prints_the_engines_numbers(language, model_name, loss_name, tmp_path):
    model = saved_model(model_name, tmp_path)
    loss, targets_by_outputs = LOSSES[loss_name]
    inputs, targets = INPUTS[model.nin], targets_by_outputs[model.nouts[-1]]
    source = export_model(model, inputs, targets, language, loss, LR)
    output = RUN[language](source, tmp_path)

    engine = saved_model(model_name, tmp_path)  # a fresh copy: the export left it as it was
    expected = engine_numbers(
        loss(engine(inputs), targets), engine.parameters(), lambda: loss(engine(inputs), targets)
    )
    # softmax's shift by the largest logit is written as the number it was for the traced
    # weights; after the step the engine shifts by the new largest: the same error, up to
    # rounding
    close = ("E after one step",) if loss_name == "softmax-ce" else ()
    assert_same(output, expected, exact(language, source), close)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reads", [(2, 1, 0), (1, 0, 2)])
def test_hidden_gradients_add_up_in_the_engines_order(language, reads, tmp_path):
    # ∂E/∂a_in sums a share from each neuron of the next layer, and a sum of rounded numbers
    # depends on its order: the file goes through the neurons as the engine does, last
    # first in a hidden layer, and in the output layer as the error reads the outputs.
    # relu, linear and a squared error: every language rounds these alike, digit for digit.
    def model() -> MLP:
        return MLP(3, [5, 4, 3], activation="relu", output_activation="linear", seed=5)

    def loss(outputs, targets):
        return mean_squared_error([outputs[k] for k in reads], [targets[k] for k in reads])

    inputs, targets = [0.9, -0.35, 1.25], [0.3, -0.8, 0.45]
    source = export_model(model(), inputs, targets, language, loss, LR)
    engine = model()
    expected = engine_numbers(
        loss(engine(inputs), targets), engine.parameters(), lambda: loss(engine(inputs), targets)
    )
    assert_same(RUN[language](source, tmp_path), expected, exactly=True)


def test_the_loop_form_stays_short_at_any_size():
    def code_lines(model: MLP) -> int:
        source = export_model(model, [0.1] * 64, [0.0] * 10, "c")
        # the lines that are not rows of numbers (weights)
        return sum(not re.fullmatch(r"\s*[-\d.e, {}]*", line) for line in source.splitlines())

    narrow = code_lines(MLP(64, [8, 8, 10], seed=0))
    wide = code_lines(MLP(64, [128, 128, 10], seed=0))
    # the code does not grow with the layers, only the rows of weights do (and the bias
    # arrays, which wrap onto lines of their own past the width)
    assert abs(wide - narrow) <= 2 * 3


# --- a small arbitrary graph that uses every op --------------------------------------------


def many_ops(a: Value, b: Value, c: Value, s: Value) -> Value:
    """A graph with each op of the engine, each at an ordinary point of its rule."""
    z = weighted_sum([a, b], [c, s], 0.5)
    parts = [
        (a * b + c - s) / (a + 2.0),
        (a**2.0) ** 0.5 + (c**a),
        -a + b.exp() + (c * c + 1.0).log() + (a * a + 1.0).sqrt(),
        z.tanh() + z.sigmoid() + (-z).sigmoid() + c.relu() + (-c).relu(),
        (-b).leaky_relu(s) + b.leaky_relu(0.2) + (a - b).abs() + (b - a).abs(),
    ]
    return sum_values(parts) * 0.5


def many_ops_leaves() -> list[Value]:
    return [Value(0.8, "a"), Value(-0.6, "b"), Value(1.7, "c"), Value(0.05, "slope")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_arbitrary_graph_prints_the_engines_numbers(language, tmp_path):
    leaves = many_ops_leaves()
    source = export_graph(many_ops(*leaves), leaves, language, LR)
    output = RUN[language](source, tmp_path)
    engine = many_ops_leaves()
    expected = engine_numbers(many_ops(*engine), engine, lambda: many_ops(*engine))
    assert_same(output, expected, exact(language, source))
    helpers = ["sigmoid_forward", "relu_forward", "leaky_relu_forward", "abs_derivative"]
    # x ** 0.5 keeps the power rule's helper (its slope is infinite at 0); x ** 2.0 does not
    assert all(f"{name}(" in source for name in [*helpers, "power_derivative_x"])
    assert "2 * a * " in source


def at_the_edges(p: Value, q: Value) -> Value:
    """Every rule that special-cases a point, at that point: p = 0 is the kink of relu, abs
    and leaky_relu, the base 0 of a power; q > 0 is a base whose exponent is learned."""
    parts = [p.relu(), p.abs(), p.leaky_relu(0.1), p.sigmoid(), p.tanh(), p**2.0, q**p]
    return sum_values([*parts, (q * q).sqrt()]) * 0.5


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rules_at_their_edges_match_the_engine(language, tmp_path):
    leaves = [Value(0.0, "p"), Value(1.5, "q")]
    source = export_graph(at_the_edges(*leaves), leaves, language, LR)
    output = RUN[language](source, tmp_path)
    engine = [Value(0.0, "p"), Value(1.5, "q")]
    expected = engine_numbers(at_the_edges(*engine), engine, lambda: at_the_edges(*engine))
    assert_same(output, expected, exact(language, source))


# Numbers a plain format prints differently in each language: exponents (1e-07, 1e+16,
# 5e-324), a plain fraction (0.0001), 17 digits, a whole number below 1e16, a negative
# zero, and powers of two whose nearest decimal of the fewest digits does not read back
# (2^-24 is 5.960464477539063e-08, its nearest 16-digit decimal ...062e-08 is not it).
SHOWN = [1e-07, 1.5e-05, 0.0001, 0.1 + 0.2, 1e16, 9999999999999998.0, 1.2345678901234568e17,
         5e-324, -0.0, 1e150, 2.0 / 3.0, 2.0**-24, 2.0**89]  # fmt: skip


def exact_ops(leaves: list[Value]) -> Value:
    """A graph of operations every language rounds alike (+ − × ÷, sqrt, abs, relu, a
    square, the exact sum), whose gradients include each of ``SHOWN``."""
    *ps, q, r = leaves
    terms = [p * c for p, c in zip(ps, SHOWN)]
    terms += [q**2.0, (r / 3.0).abs(), (q * r + 1.0).sqrt(), (-r).relu(), r.leaky_relu(0.01)]
    return sum_values(terms)


def exact_ops_leaves() -> list[Value]:
    return [Value(1.0 + k / 8, f"p{k}") for k in range(len(SHOWN))] + [
        Value(1.7, "q"), Value(-0.45, "r"),
    ]  # fmt: skip


def test_every_language_prints_the_same_text(tmp_path):
    given = exact_ops_leaves()
    outputs = {
        language: RUN[language](export_graph(exact_ops(given), given, language, LR), tmp_path)
        for language in LANGUAGES
    }
    assert outputs["c"] == outputs["python"]
    assert outputs["javascript"] == outputs["python"]
    engine = exact_ops_leaves()
    expected = engine_numbers(exact_ops(engine), engine, lambda: exact_ops(engine))
    assert outputs["python"] == "".join(f"{name} = {printed(v)}\n" for name, v in expected.items())
    gradients = [line.split(" = ")[1] for line in outputs["python"].splitlines()[1:14]]
    assert gradients == ["1e-07", "1.5e-05", "0.0001", "0.30000000000000004", "1e+16",
                         "9999999999999998.0", "1.2345678901234568e+17", "5e-324", "0.0",
                         "1e+150", "0.6666666666666666", "5.960464477539063e-08",
                         "6.189700196426902e+26"]  # fmt: skip


def test_an_exported_python_file_is_lint_clean(tmp_path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install ruff)")
    leaves = many_ops_leaves()
    for name, source in [
        ("example.py", export_example("python")),
        ("graph.py", export_graph(many_ops(*leaves), leaves, "python")),
    ]:
        (tmp_path / name).write_text(source, encoding="utf-8")
    # pycodestyle and pyflakes, as a learner's editor would run them (long formulas allowed)
    done = subprocess.run(
        [ruff, "check", "--isolated", "--preview", "--select", "E,F,W", "--ignore", "E501",
         str(tmp_path)], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("language", LANGUAGES)
def test_labels_that_clash_with_the_files_names_are_renamed(language, tmp_path):
    def graph(leaves):
        first, second, third = leaves
        return (first * second + third).tanh()

    labels = ["E", "lr", "int"]  # the loss's name, the learning rate's, a C keyword
    leaves = [Value(v, label) for v, label in zip([0.3, -0.7, 0.2], labels)]
    printed = parse(RUN[language](export_graph(graph(leaves), leaves, language), tmp_path))
    engine = [Value(v) for v in [0.3, -0.7, 0.2]]
    graph(engine).backward()
    gradients = [value for name, value in printed.items() if name.startswith("dE/d")]
    assert gradients == pytest.approx([p.grad for p in engine], rel=1e-12)


def test_a_large_arbitrary_graph_is_refused_with_the_way_out():
    model = MLP(2, [16, 16, 1], seed=0)
    error = mean_squared_error(model([0.5, 0.5]), 1.0)
    with pytest.raises(ValueError, match=r"nodes.*loop form"):
        export_graph(error, model.parameters(), "c")


# --- readability and refusals --------------------------------------------------------------


def test_names_come_from_the_labels_and_comments_speak_the_notes():
    source = export_example("python")
    assert "L0_w[j][i]" in source and "dE_dL1_z[j]" in source
    # the code multiplies in the comment's order, the power rule of e1^2 reads 2 * e1
    assert (
        "dE_dL1_z[j] = L1_a[j] * (1.0 - L1_a[j]) * dE_dL1_a[j]  # ∂E/∂z = ∂a/∂z × ∂E/∂a\n" in source
    )
    assert "dE_de1 = 2 * e1 * dE_de1_2  # ∂E/∂e1 = ∂(e1^2)/∂e1 × ∂E/∂(e1^2)\n" in source
    assert "power_derivative" not in source
    assert "# w_new = w_old − lr × ∂E/∂w" in source
    assert "t0 = 0.01  # target t0 of the error" in source  # a target is not "a constant"
    body = source[source.index("def forward") :]
    for line in body.splitlines():  # every line that computes something says what, in math
        if re.match(r"\s+(dE_)?\w+(\[\w+\])* (\+|-)?= ", line) and "= 0.0" not in line:
            assert "#" in line or line.strip() in ("L0_z[j] = z", "L1_z[j] = z"), line
    assert "e0_2 = math.pow(e0, 2.0)  # e0^2\n" in source  # an unnamed node: not "e0^2 = e0^2"
    comments = [line.split("  # ")[1] for line in body.splitlines() if "  # " in line]
    assert not [c for c in comments if c.count(" = ") == 1 and len(set(c.split(" = "))) == 1]


def test_bad_arguments_are_refused_where_they_enter():
    with pytest.raises(ValueError, match="unknown language 'rust'"):
        export_example("rust")
    with pytest.raises(ValueError, match=r"export_model: lr must be > 0, got 0.0"):
        export_example("c", lr=0.0)
    with pytest.raises(TypeError, match=r"export_model: lr must be a number, got str '1'"):
        export_example("c", lr="1")
    with pytest.raises(ValueError, match=r"export_model: lr must be finite, got nan"):
        export_example("c", lr=float("nan"))
    with pytest.raises(TypeError, match="expected an MLP"):
        export_model("model", [1.0], [1.0])
    with pytest.raises(ValueError, match="expected 2 inputs"):
        export_model(classic_network(), [1.0], [1.0])


def test_a_loss_that_reads_the_weights_is_refused():
    from autograd_lite.nn import l2_penalty

    model = classic_network()
    with pytest.raises(ValueError, match="reads the parameter"):
        export_model(
            model, CLASSIC_INPUTS, CLASSIC_TARGETS,
            loss=lambda out, t: labelled_error(out, t) + l2_penalty(model.parameters(), 0.1),
        )  # fmt: skip


def test_the_docs_show_the_file_as_it_is_written():
    docs = (Path(__file__).parent.parent / "docs" / "export.md").read_text(encoding="utf-8")
    excerpt = re.search(r"```text\n(def forward.*?)```", docs, re.S)[1]
    assert excerpt in export_example("python")
    # each python block followed by a text block prints exactly that text
    pairs = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", docs, re.S)
    assert len(pairs) == 2
    for code, text in pairs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "export.md", "exec"), {"__name__": "__main__"})
        assert out.getvalue() == text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sum_that_overflows_halfway_gives_the_engines_inf_not_an_error(language, tmp_path):
    # 1e308 + 1e308 is past the largest float before -1e308 comes: math.fsum raises there,
    # the engine's sum (and so the file's) gives inf; the gradients are 1 each all the same.
    def overflowing(a: Value, b: Value, c: Value) -> Value:
        return sum_values([a, b, c]) * 0.5

    def leaves() -> list[Value]:
        return [Value(1e308, "a"), Value(1e308, "b"), Value(-1e308, "c")]

    given = leaves()
    source = export_graph(overflowing(*given), given, language, LR)
    output = RUN[language](source, tmp_path)
    numbers = shown(output)
    assert numbers["E"] == "inf"
    assert numbers["dE/da"] == numbers["dE/db"] == numbers["dE/dc"] == "0.5"
    engine = leaves()
    expected = engine_numbers(overflowing(*engine), engine, lambda: overflowing(*engine))
    assert_same(output, expected)
