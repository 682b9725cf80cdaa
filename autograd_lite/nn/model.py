"""Neurons, layers and multi-layer perceptrons, built from scalar Values.

A neuron does three things (the notation of the notes):

    z = w1*a1 + ... + wn*an + b     its weighted input: one graph node, op "weighted_sum"
    a = activation(z)               its output signal: one node (none for "linear")

Every parameter is a leaf Value labelled with where it lives, matching the attribute path:
``model.layers[l].neurons[j].w[i]`` is labelled ``L{l}.n{j}.w{i}``, the bias ``L{l}.n{j}.b``.
After a call, ``neuron.z`` and ``neuron.a`` hold that call's nodes (``L{l}.n{j}.z`` and
``L{l}.n{j}.a``), so after ``backward()`` ``neuron.z.grad`` is dE/dz.

>>> model = MLP(2, [3, 1], activation="tanh", seed=0)
>>> out = model([0.5, -1.0])
>>> out.label, len(model.parameters())
('L1.n0.z', 13)
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path

from autograd_lite import names
from autograd_lite.checks import check_count, check_path, check_seed, is_number, shown, wrong_kind
from autograd_lite.engine import Value
from autograd_lite.sums import weighted_sum, weighted_sums

# name -> the Value method that applies it (None: the neuron's output is z itself)
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,
    "linear": None,
}
# The output layer's activation when none is chosen, in the API and on every command line:
# linear, so an output is a raw score the loss reads (a regression value, a logit, a margin).
DEFAULT_OUTPUT_ACTIVATION = "linear"


def _check_activation(where: str, name: object) -> None:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"{where}: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        )


def initial_weight_bound(activation: str, fan_in: int, fan_out: int) -> float:
    """Half-width of the uniform range the initial weights are drawn from.

    He for the relu family (keeps the signal's variance through layers of relu), Glorot/Xavier
    for sigmoid, tanh and linear.

    >>> round(initial_weight_bound("tanh", 2, 16), 4)
    0.5774
    """
    if activation in ("relu", "leaky_relu"):
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))


def _settings(activation: str, op_by_op: bool) -> str:
    """'sigmoid', or 'sigmoid, op_by_op=True': how a layer or a neuron computes."""
    return f"{activation}, op_by_op=True" if op_by_op else activation


class Module:
    """What every model part has: its parameters, and a way to reset their gradients."""

    def parameters(self) -> list[Value]:
        """Every weight and bias, as leaf Values (each part lists its own).

        >>> [p.label for p in Neuron(2, name="L0.n0").parameters()]
        ['L0.n0.w0', 'L0.n0.w1', 'L0.n0.b']
        """
        return []

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (leaf gradients accumulate otherwise).

        >>> neuron = Neuron(1)
        >>> neuron.b.grad = 0.5
        >>> neuron.zero_grad(); neuron.b.grad
        0.0
        """
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """One neuron: weights ``w``, bias ``b``, an activation.

    >>> n = Neuron(2, activation="sigmoid", seed=1)
    >>> n.w[0].data = 0.15; n.w[1].data = 0.20; n.b.data = 0.35
    >>> round(n([0.05, 0.10]).data, 6)      # σ(0.15*0.05 + 0.20*0.10 + 0.35)
    0.59327
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        bound: float | None = None,
        name: str = "n0",
        op_by_op: bool = False,
    ) -> None:
        check_count("Neuron", "nin", nin)
        _check_activation("Neuron", activation)
        rng = rng or random.Random(check_seed("Neuron", "seed", seed))
        bound = initial_weight_bound(activation, nin, 1) if bound is None else bound
        self.name = name
        self.activation = activation
        self.op_by_op = op_by_op
        self.w = [Value(rng.uniform(-bound, bound), names.weight(name, i)) for i in range(nin)]
        self.b = Value(0.0, names.bias(name))
        self.z: Value | None = None  # weighted input of the latest call
        self.a: Value | None = None  # activation of the latest call
        self._z_label, self._a_label = names.weighted_input(name), names.activation(name)

    def __call__(self, inputs: Sequence[Value | float]) -> Value:
        self.check_length(inputs)
        if self.op_by_op:  # every product and sum its own node: b + w0*a0 + w1*a1 + ...
            z = self.b
            for w, a in zip(self.w, inputs):
                z = z + w * a
        else:
            z = weighted_sum(self.w, inputs, self.b)
        return self.activate(z)

    def check_length(self, inputs: Sequence[Value | float]) -> None:
        """Raise unless there is one input per weight."""
        if len(inputs) != len(self.w):
            raise ValueError(f"{self.name}: expected {len(self.w)} inputs, got {len(inputs)}")

    def activate(self, z: Value) -> Value:
        """Name the weighted input ``z``, apply the activation, remember both (``.z``, ``.a``)."""
        # The labels are names.py's strings: written to the slot, past the checking property
        # (a Python call per node, ~10% of a training step).
        z._label = self._z_label
        apply = ACTIVATIONS[self.activation]
        a = z if apply is None else apply(z)
        if apply is not None:
            a._label = self._a_label
        self.z, self.a = z, a
        return a

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        """``Neuron(inputs -> 1, activation)``, as a layer shows its neurons.

        >>> Neuron(3, activation="relu")
        Neuron(3 -> 1, relu)
        """
        return f"Neuron({len(self.w)} -> 1, {_settings(self.activation, self.op_by_op)})"


class Layer(Module):
    """A row of neurons that all see the same inputs.

    >>> layer = Layer(2, 3, activation="relu", seed=0)
    >>> [v.label for v in layer([1.0, 2.0])]
    ['L0.n0.a', 'L0.n1.a', 'L0.n2.a']
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        name: str = "L0",
        op_by_op: bool = False,
    ) -> None:
        check_count("Layer", "nout", nout)
        _check_activation("Layer", activation)
        rng = rng or random.Random(check_seed("Layer", "seed", seed))
        bound = initial_weight_bound(activation, nin, nout)
        self.name = name
        self.activation = activation
        self.neurons = [
            Neuron(
                nin,
                activation,
                rng=rng,
                bound=bound,
                name=names.neuron_name(name, j),
                op_by_op=op_by_op,
            )
            for j in range(nout)
        ]

    def __call__(self, inputs: Sequence[Value | float]) -> list[Value]:
        if self.neurons[0].op_by_op:
            return [neuron(inputs) for neuron in self.neurons]
        self.neurons[0].check_length(inputs)
        # one weighted_sum node per neuron, reading the inputs once for all of them
        zs = weighted_sums([n.w for n in self.neurons], inputs, [n.b for n in self.neurons])
        return [neuron.activate(z) for neuron, z in zip(self.neurons, zs)]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        """``Layer(inputs -> neurons, activation)``: the line an ``MLP`` shows for it.

        >>> Layer(2, 3, activation="relu", op_by_op=True)
        Layer(2 -> 3, relu, op_by_op=True)
        """
        first = self.neurons[0]
        settings = _settings(self.activation, first.op_by_op)
        return f"Layer({len(first.w)} -> {len(self.neurons)}, {settings})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation``, the last layer ``output_activation`` (by default
    ``DEFAULT_OUTPUT_ACTIVATION``, linear: the command line shares it). Called with a
    list of numbers or Values, it returns a Value when the last layer has one neuron, else
    a list of Values. ``op_by_op=True`` builds each weighted sum from ``*`` and ``+`` nodes
    instead of one node per neuron (same numbers, a bigger graph that shows every product).

    >>> model = MLP(2, [4, 4, 1], activation="relu", seed=42)
    >>> [len(layer.neurons) for layer in model.layers]
    [4, 4, 1]
    >>> model([1.0, -1.0]).label
    'L2.n0.z'
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str = DEFAULT_OUTPUT_ACTIVATION,
        seed: int | None = None,
        op_by_op: bool = False,
    ) -> None:
        check_count("MLP", "nin", nin)
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for size in nouts:
            check_count("MLP", "each layer size in nouts", size)
        _check_activation("MLP", activation)
        _check_activation("MLP", output_activation)
        rng = random.Random(check_seed("MLP", "seed", seed))
        sizes = [nin, *nouts]
        self.nin = nin
        self.nouts = list(nouts)
        self.activation = activation
        self.output_activation = output_activation
        self.seed = seed
        self.op_by_op = op_by_op
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[l],
                sizes[l + 1],
                output_activation if l == last else activation,
                rng=rng,
                name=names.layer_name(l),
                op_by_op=op_by_op,
            )  # fmt: skip
            for l in range(len(nouts))  # noqa: E741 (l for layer, as in the notes)
        ]
        self._input_labels = [names.input_name(i) for i in range(nin)]

    def check_input(self, inputs: Sequence[Value | float]) -> None:
        """Raise unless ``inputs`` is one sample for this model: ``nin`` numbers or Values.

        >>> MLP(2, [1]).check_input([1.0])
        Traceback (most recent call last):
        ...
        ValueError: MLP: expected 2 inputs, got 1
        >>> MLP(2, [1])(3.0)
        Traceback (most recent call last):
        ...
        TypeError: MLP call: inputs must be a list of 2 numbers or Values, got float 3.0
        """
        # any sized, indexable container (list, tuple, NumPy array), but not text
        if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__len__"):
            requirement = f"a list of {self.nin} numbers or Values"
            raise wrong_kind("MLP call", "inputs", requirement, inputs)
        if len(inputs) != self.nin:
            raise ValueError(f"MLP: expected {self.nin} inputs, got {len(inputs)}")
        for i, v in enumerate(inputs):
            if not (isinstance(v, Value) or is_number(v)):
                raise wrong_kind("MLP call", f"inputs[{i}]", "a number or a Value", v)

    def __call__(self, inputs: Sequence[Value | float]) -> Value | list[Value]:
        self.check_input(inputs)
        x = [
            v if isinstance(v, Value) else Value(v, label)
            for v, label in zip(inputs, self._input_labels)
        ]
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        """Every layer on its own line, under the name its nodes carry (``L0.n1.w0`` ...),
        in the manner of PyTorch's printout of a module.

        >>> MLP(2, [16, 16, 1], activation="relu")
        MLP(
          (L0): Layer(2 -> 16, relu)
          (L1): Layer(16 -> 16, relu)
          (L2): Layer(16 -> 1, linear)
        )
        """
        # layer.name is names.layer_name(l), the prefix of the labels of the layer's nodes
        lines = [f"  ({layer.name}): {layer!r}" for layer in self.layers]
        return "\n".join(["MLP(", *lines, ")"])

    def describe(self) -> str:
        """The model on one line, as the call that builds its architecture (for messages).

        >>> MLP(2, [16, 16, 1], activation="relu").describe()
        "MLP(2, [16, 16, 1], activation='relu', output_activation='linear')"
        """
        op_by_op = ", op_by_op=True" if self.op_by_op else ""
        return (
            f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}{op_by_op})"
        )

    # --- saving and loading: JSON only, never pickle -----------------------------------

    def to_dict(self) -> dict:
        """The architecture and every weight, as plain JSON-ready data.

        >>> model = MLP(1, [1], seed=0)
        >>> model.layers[0].neurons[0].w[0].data = 0.5
        >>> model.to_dict()["layers"]
        [[{'w': [0.5], 'b': 0.0}]]
        """
        return {
            "format": SAVE_FORMAT,
            "version": SAVE_VERSION,
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "op_by_op": self.op_by_op,
            "layers": [
                [{"w": [w.data for w in n.w], "b": n.b.data} for n in layer.neurons]
                for layer in self.layers
            ],
        }

    @classmethod
    def from_dict(cls, saved: object, source: str = "model") -> MLP:
        """Rebuild a model from ``to_dict()`` data, checking every field first.

        Anything wrong raises a ``ValueError`` that starts with ``source`` and names the
        field, e.g. ``model: layers[0][1].w[0] must be a finite number, got 'abc'``.

        >>> copy = MLP.from_dict(MLP(2, [3, 1], seed=0).to_dict())
        >>> [len(layer.neurons) for layer in copy.layers]
        [3, 1]
        """
        return _model_from_checked(cls, _checked_save(saved, source))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` as JSON; returns the path. A weight that is not a
        finite number raises the ``ValueError`` that ``load()`` would give, and nothing is
        written.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
        >>> model = MLP(2, [3, 1], seed=0)
        >>> loaded = MLP.load(model.save(path))
        >>> loaded([0.5, 0.5]).data == model([0.5, 0.5]).data
        True
        """
        path = Path(check_path("MLP.save", "path", path))
        saved = _checked_save(self.to_dict(), str(path))  # load() would refuse a NaN weight
        path.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLP:
        """Read a model written by ``save()``. A bad file raises ``ValueError`` naming the
        file and the problem, in one line: not JSON, nested deeper than a model, a number
        no float holds (``1e400``, an int of 400 digits), a wrong key, type or shape. The
        file is only parsed as JSON, nothing in it is executed.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "deep.json"
        >>> _ = path.write_text("[" * 1000 + "]" * 1000)
        >>> MLP.load(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: .../deep.json: nested 1000 levels deep; a model file is 5 levels deep
        """
        check_path("MLP.load", "path", path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except ValueError as error:  # not UTF-8 text
            raise ValueError(f"{path}: not a valid JSON model file: {error}") from None
        return cls.from_dict(_parse(text, str(path)), source=str(path))


SAVE_FORMAT = "autograd_lite.MLP"
SAVE_VERSION = 1
_SAVE_KEYS = {
    "format",
    "version",
    "nin",
    "nouts",
    "activation",
    "output_activation",
    "op_by_op",
    "layers",
}


# --- reading a file: JSON, refusing what a model cannot hold before it is built -----------

_MODEL_DEPTH = 5  # object > layers > layer > neuron > weights
_MAX_DEPTH = 32  # deeper is refused before parsing (json would recurse up to ~1000 levels)
# A JSON string (an unterminated one runs to the end: a linear scan whatever the text), and
# what is not a bracket: removed, they leave the brackets whose nesting is measured.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class _OutOfRange:
    """A number written in a model file that no float holds (``1e400``, an int of 400
    digits): kept as the file's text, so that the field check names it as written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        digits = self.text.lstrip("-")
        if digits.isdigit():  # an int: its size, as checks.shown writes a big int
            sign, size = "-" * self.text.startswith("-"), len(digits)
            written = f"{sign}{digits[0]}.{digits[1:3]}e+{size - 1}, an int of {size} digits"
        else:
            written = self.text if len(self.text) <= 40 else f"{self.text[:37]}..."
        return f"{written} (beyond float range, |x| <= 1.8e308)"


def _file_float(text: str) -> float | _OutOfRange:
    number = float(text)
    return number if math.isfinite(number) else _OutOfRange(text)  # 1e400 reads as inf


def _file_int(text: str) -> int | _OutOfRange:
    if len(text.lstrip("-")) > 309:  # beyond 1.8e308 (and Python's 4300-digit int limit)
        return _OutOfRange(text)
    number = int(text)
    try:
        float(number)
    except OverflowError:
        return _OutOfRange(text)
    return number


def _parse(text: str, source: str) -> object:
    """The JSON value of a model file's ``text``, or a ValueError naming ``source``."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
    if depth > _MAX_DEPTH:
        raise ValueError(
            f"{source}: nested {depth} levels deep; a model file is {_MODEL_DEPTH} levels deep"
        )
    try:
        # NaN and Infinity (not JSON, but Python writes and reads them) become floats here,
        # so the field check names the weight, as save() does
        return json.loads(text, parse_float=_file_float, parse_int=_file_int)
    except RecursionError:  # not expected after the scan above; still one clear line
        raise ValueError(f"{source}: nested too deep to be a model file") from None
    except ValueError as error:  # not JSON
        raise ValueError(f"{source}: not a valid JSON model file: {error}") from None


def _checked_save(saved: object, source: str) -> dict:
    """Check the structure of saved model data; returns it unchanged when it is sound."""

    def fail(message: str) -> ValueError:
        return ValueError(f"{source}: {message}")

    if not isinstance(saved, dict):
        raise fail(f"expected a JSON object, got {type(saved).__name__}")
    if saved.get("format") != SAVE_FORMAT:
        raise fail(f"format must be {SAVE_FORMAT!r}, got {shown(saved.get('format'))}")
    version = saved.get("version")
    if type(version) is not int or version != SAVE_VERSION:  # true and 1.0 are not 1 here
        raise fail(f"unsupported version {shown(version)} (this library reads {SAVE_VERSION})")
    missing = sorted(_SAVE_KEYS - saved.keys())
    if missing:
        raise fail(f"missing key(s): {', '.join(missing)}")
    # from_dict may get keys of any type, a file's may be a whole text: named, never long
    unknown = sorted(k if isinstance(k, str) and k.isprintable() and len(k) <= 40 else shown(k, 40)
                     for k in saved.keys() - _SAVE_KEYS)  # fmt: skip
    if unknown:
        raise fail(f"unexpected key(s): {', '.join(unknown)}")
    nin, nouts = saved["nin"], saved["nouts"]
    if not _is_positive_int(nin):
        raise fail(f"nin must be a positive integer, got {shown(nin)}")
    if not isinstance(nouts, list) or not nouts or not all(map(_is_positive_int, nouts)):
        raise fail(f"nouts must be a non-empty list of positive integers, got {shown(nouts)}")
    for key in ("activation", "output_activation"):
        if not isinstance(saved[key], str) or saved[key] not in ACTIVATIONS:
            raise fail(f"unknown {key} {shown(saved[key])}; choose one of {', '.join(ACTIVATIONS)}")
    if not isinstance(saved["op_by_op"], bool):
        raise fail(f"op_by_op must be true or false, got {shown(saved['op_by_op'])}")
    layers = saved["layers"]
    if not isinstance(layers, list) or len(layers) != len(nouts):
        raise fail(f"layers must be a list of {len(nouts)} layers (one per entry of nouts)")
    fan_in = nin
    for l, (neurons, size) in enumerate(zip(layers, nouts)):  # noqa: E741
        if not isinstance(neurons, list) or len(neurons) != size:
            raise fail(f"layers[{l}] must be a list of {size} neurons")
        for j, neuron in enumerate(neurons):
            where = f"layers[{l}][{j}]"
            if not isinstance(neuron, dict) or set(neuron) != {"w", "b"}:
                raise fail(f"{where} must be an object with exactly the keys 'w' and 'b'")
            if not isinstance(neuron["w"], list) or len(neuron["w"]) != fan_in:
                raise fail(f"{where}.w must be a list of {fan_in} weights")
            for i, weight in enumerate(neuron["w"]):
                _check_weight(fail, f"{where}.w[{i}]", weight)
            _check_weight(fail, f"{where}.b", neuron["b"])
        fan_in = size
    return saved


def _is_positive_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1


def _check_weight(fail: Callable[[str], ValueError], where: str, x: object) -> None:
    try:  # an int too large for a float (10**400) is no weight either
        finite = is_number(x) and math.isfinite(float(x))  # type: ignore[arg-type]
    except OverflowError:
        finite = False
    if not finite:
        raise fail(f"{where} must be a finite number, got {shown(x)}")


def _model_from_checked(cls: type[MLP], saved: dict) -> MLP:
    model = cls(
        saved["nin"],
        saved["nouts"],
        activation=saved["activation"],
        output_activation=saved["output_activation"],
        op_by_op=saved["op_by_op"],
    )
    for layer, saved_layer in zip(model.layers, saved["layers"]):
        for neuron, saved_neuron in zip(layer.neurons, saved_layer):
            for w, value in zip(neuron.w, saved_neuron["w"]):
                w.data = float(value)
            neuron.b.data = float(saved_neuron["b"])
    return model
