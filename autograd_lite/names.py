"""The one grammar of node names: build them, parse them, and lay out a weighted sum.

A model's nodes are named by where they live (0-based, the attribute path): the weight
``model.layers[l].neurons[j].w[i]`` is ``L{l}.n{j}.w{i}``, the bias ``L{l}.n{j}.b``, the
weighted input and the activation of one call ``L{l}.n{j}.z`` and ``L{l}.n{j}.a``; the
inputs are ``x{i}``. The error speaks the notes' language: for output k the target
``t{k}``, the error ``e{k} = t{k} − a_k``, its square ``e{k}^2``, its share
``E{k} = ½ e{k}^2``, and the whole error ``E``.

Every other module builds these names with the functions below and reads them with
``parse``, which returns a ``Name`` (a small frozen record with a ``Role``) or None for a
label outside the grammar (a user's own ``"w"``, ``"loss"``). ``str(name)`` writes it back.

>>> weight((1, 0), 2)
'L1.n0.w2'
>>> parse("L1.n0.w2")
Name(role=<Role.WEIGHT: 'weight w'>, layer=1, neuron=0, index=2)
>>> parse("L1.n0.w2").role is Role.WEIGHT, str(parse("e1^2")), parse("loss")
(True, 'e1^2', None)

This module imports only ``notation`` (which imports nothing of the project): the engine,
``nn``, narration, the stepper and the pictures may all use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Generic, TypeVar

from autograd_lite.checks import check_count
from autograd_lite.notation import ERROR  # the root of every narrated graph

__all__ = [
    "ERROR",
    "Name",
    "Role",
    "WeightedSumParts",
    "activation",
    "bias",
    "error_node",
    "input_name",
    "is_constant_or_target",
    "is_target",
    "layer_name",
    "neuron_name",
    "parse",
    "squared",
    "weight",
    "weighted_input",
    "split_weighted_sum",
    "weighted_sum_inputs",
    "weighted_sum_parts",
]


class Role(Enum):
    """What a named node is, in the notes' words (the value is how narration says it)."""

    WEIGHT = "weight w"
    BIAS = "bias b"
    WEIGHTED_INPUT = "weighted input z"
    ACTIVATION = "activation a"
    INPUT = "input"
    TARGET = "target t"
    ERROR_TERM = "error e"  # e_k = t_k − a_k
    SQUARED_ERROR = "squared error e²"
    ERROR_SHARE = "share of the error"  # E_k = ½ e_k²
    ERROR_SUM = "sum of the shares"  # ΣE = Σ_k E_k, which a mean divides by the count
    PENALTY_SUM = "sum of the squared parameters"  # Σw² of an L2 penalty
    PENALTY = "penalty P"  # P = λ Σw², added to the error
    ERROR = "error E"

    @property
    def in_neuron(self) -> bool:
        """True for the four roles that belong to a neuron: w, b, z and a.

        >>> Role.BIAS.in_neuron, Role.INPUT.in_neuron
        (True, False)
        """
        return self in _NEURON_PARTS

    @property
    def in_error(self) -> bool:
        """True for the nodes of the error: t, e, e², E_k and E.

        >>> Role.TARGET.in_error, Role.ACTIVATION.in_error
        (True, False)
        """
        return self in _ERROR_PARTS

    @property
    def is_parameter(self) -> bool:
        """True for what training changes: weights and biases.

        >>> Role.WEIGHT.is_parameter, Role.WEIGHTED_INPUT.is_parameter
        (True, False)
        """
        return self in (Role.WEIGHT, Role.BIAS)


# role -> the last part of a neuron's node name ("w" takes the weight's index)
_NEURON_PARTS = {Role.WEIGHT: "w", Role.BIAS: "b", Role.WEIGHTED_INPUT: "z", Role.ACTIVATION: "a"}
# role -> the name of output k's node, as a format
_ERROR_PARTS = {
    Role.TARGET: "t{}",
    Role.ERROR_TERM: "e{}",
    Role.SQUARED_ERROR: "e{}^2",
    Role.ERROR_SHARE: "E{}",
    Role.ERROR_SUM: "ΣE",
    Role.PENALTY_SUM: "Σw^2",
    Role.PENALTY: "P",
    Role.ERROR: "E",
}
_WITHOUT_K = (Role.ERROR, Role.ERROR_SUM, Role.PENALTY_SUM, Role.PENALTY)

_NUMBER = r"(0|[1-9][0-9]*)"  # no sign, no leading zeros: one spelling per number
_NEURON_NAME = re.compile(rf"L{_NUMBER}\.n{_NUMBER}\.(?:(w){_NUMBER}|(b|z|a))")
_OTHER_NAMES = (
    (re.compile(rf"x{_NUMBER}"), Role.INPUT),
    (re.compile(rf"t{_NUMBER}"), Role.TARGET),
    (re.compile(rf"e{_NUMBER}"), Role.ERROR_TERM),
    (re.compile(rf"e{_NUMBER}\^2"), Role.SQUARED_ERROR),
    (re.compile(rf"E{_NUMBER}"), Role.ERROR_SHARE),
)
_ROLE_OF_PART = {part: role for role, part in _NEURON_PARTS.items()}


@dataclass(frozen=True)
class Name:
    """A parsed node name: its role and where it lives.

    ``layer`` and ``neuron`` are set for w, b, z and a; ``index`` is the weight's input i,
    the input's i, or the output k of an error node (None for b, z, a and E).

    >>> name = parse("L0.n1.b")
    >>> name.role, name.layer, name.neuron, name.neuron_name, name.part
    (<Role.BIAS: 'bias b'>, 0, 1, 'L0.n1', 'b')
    >>> Name(Role.WEIGHT, 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: Name: a weight w needs layer, neuron and index, got layer=0 neuron=1 index=None
    """

    role: Role
    layer: int | None = None
    neuron: int | None = None
    index: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise TypeError(
                f"Name: role must be a Role, got {type(self.role).__name__} {self.role!r}"
            )
        wants_place = self.role.in_neuron
        wants_index = self.role in (Role.WEIGHT, Role.INPUT) or (
            self.role.in_error and self.role not in _WITHOUT_K
        )
        given = {"layer": self.layer, "neuron": self.neuron, "index": self.index}
        wanted = {"layer": wants_place, "neuron": wants_place, "index": wants_index}
        for field, value in given.items():
            if value is not None:
                check_count(f"Name({self.role.value})", field, value, minimum=0)
        if any((given[field] is None) == wanted[field] for field in given):
            needs = [field for field in given if wanted[field]]
            raise ValueError(
                f"Name: a {self.role.value} needs {_join(needs) or 'no numbers'}, got "
                + " ".join(f"{field}={value}" for field, value in given.items())
            )

    def __str__(self) -> str:
        if self.role.in_neuron:
            return f"{self.neuron_name}.{self.short}"
        if self.role is Role.INPUT:
            return f"x{self.index}"
        return _ERROR_PARTS[self.role].format(self.index)

    @property
    def neuron_name(self) -> str | None:
        """'L1.n0' for a neuron's node, else None."""
        if not self.role.in_neuron:
            return None
        return neuron_name(self.layer, self.neuron)  # type: ignore[arg-type]

    @property
    def short(self) -> str | None:
        """'w2', 'b', 'z' or 'a': a neuron's node named within its neuron, else None.

        >>> parse("L1.n0.w2").short, parse("L1.n0.b").short, parse("x0").short
        ('w2', 'b', None)
        """
        if not self.role.in_neuron:
            return None
        return self.part + (str(self.index) if self.role is Role.WEIGHT else "")

    @property
    def part(self) -> str | None:
        """'w', 'b', 'z' or 'a' for a neuron's node (without the weight's index), else None."""
        return _NEURON_PARTS.get(self.role)


def parse(label: str) -> Name | None:
    """The ``Name`` a label spells, or None when it is not in the grammar.

    >>> parse("x3")
    Name(role=<Role.INPUT: 'input'>, layer=None, neuron=None, index=3)
    >>> [parse(text) for text in ("L1.n0.w", "L01.n0.b", "x-1", "", "L1.n0.a ")]
    [None, None, None, None, None]
    """
    if not isinstance(label, str):
        raise TypeError(f"parse: label must be a str, got {type(label).__name__} {label!r}")
    if label == ERROR:
        return Name(Role.ERROR)
    for role in _WITHOUT_K[1:]:
        if label == _ERROR_PARTS[role]:
            return Name(role)
    found = _NEURON_NAME.fullmatch(label)
    if found:
        layer, neuron, w, index, other = found.groups()
        if w:
            return Name(Role.WEIGHT, int(layer), int(neuron), int(index))
        return Name(_ROLE_OF_PART[other], int(layer), int(neuron))
    for pattern, role in _OTHER_NAMES:
        found = pattern.fullmatch(label)
        if found:
            return Name(role, index=int(found.group(1)))
    return None


# --- building names ------------------------------------------------------------------------


def layer_name(layer: int) -> str:
    """'L{layer}': the prefix of a layer's nodes.

    >>> layer_name(2)
    'L2'
    """
    check_count("layer_name", "layer", layer, minimum=0)
    return f"L{layer}"


def neuron_name(layer: int | str, neuron: int) -> str:
    """'L{layer}.n{neuron}': the prefix of a neuron's nodes (``layer`` its number or its name).

    >>> neuron_name(1, 0), neuron_name("L2", 3)
    ('L1.n0', 'L2.n3')
    """
    check_count("neuron_name", "neuron", neuron, minimum=0)
    if isinstance(layer, str) and layer:
        return f"{layer}.n{neuron}"
    return f"{layer_name(layer)}.n{neuron}"


def weight(neuron: str | tuple[int, int], i: int) -> str:
    """The name of a neuron's weight ``i``; the neuron is its name or ``(layer, neuron)``.

    A neuron outside a model has a name of its own (``Neuron``'s default is ``n0``): its
    nodes follow it the same way, though only a model's names parse.

    >>> weight((1, 0), 2), weight("n0", 1)
    ('L1.n0.w2', 'n0.w1')
    """
    check_count("weight", "i", i, minimum=0)
    return f"{_neuron(neuron, 'weight')}.w{i}"


def bias(neuron: str | tuple[int, int]) -> str:
    """The name of a neuron's bias.

    >>> bias((0, 1))
    'L0.n1.b'
    """
    return f"{_neuron(neuron, 'bias')}.b"


def weighted_input(neuron: str | tuple[int, int]) -> str:
    """The name of a neuron's weighted input z (one call's node).

    >>> weighted_input((0, 1))
    'L0.n1.z'
    """
    return f"{_neuron(neuron, 'weighted_input')}.z"


def activation(neuron: str | tuple[int, int]) -> str:
    """The name of a neuron's activation a (one call's node).

    >>> activation("L3.n2")
    'L3.n2.a'
    """
    return f"{_neuron(neuron, 'activation')}.a"


def input_name(i: int) -> str:
    """The name of the model's input ``i``.

    >>> input_name(0)
    'x0'
    """
    check_count("input_name", "i", i, minimum=0)
    return f"x{i}"


@lru_cache(maxsize=4096)  # the losses name their nodes on every call: build each name once
def error_node(role: Role, k: int | None = None) -> str:
    """The name of a node of the error: of output k, the target t_k, the error
    e_k = t_k − a_k, its square e_k² and its share E_k (½ e_k² in the notes; a loss's
    term for output k in general); the sum of the shares ΣE, and the whole error E (no k);
    an L2 penalty's sum of squared parameters Σw^2 and the penalty P = λ Σw^2 (no k).

    >>> [error_node(role, 1) for role in (Role.TARGET, Role.ERROR_TERM, Role.SQUARED_ERROR)]
    ['t1', 'e1', 'e1^2']
    >>> error_node(Role.ERROR_SHARE, 0), error_node(Role.ERROR_SUM), error_node(Role.ERROR)
    ('E0', 'ΣE', 'E')
    """
    if not isinstance(role, Role) or not role.in_error:
        raise ValueError(f"error_node: role must be one of the error's roles, got {role!r}")
    return str(Name(role, index=k))


def squared(name: str) -> str:
    """The name of a node that squares the node ``name`` (an L2 penalty's w²).

    >>> squared("L0.n0.w1")
    'L0.n0.w1^2'
    """
    return f"{name}^2"


def is_constant_or_target(node: object) -> bool:
    """True for a leaf that is neither learnt nor fed: a number the graph was written with
    (the exponent 2, the ½ of the error) or a target t_k. Narrations hide the steps into
    them by default: their gradient is computed but nobody uses it.

    The one rule for "a constant or a target", used by ``backward_steps``, the stepper and
    the step page. ``node`` is anything with ``op`` and ``label`` (a ``Value``).

    >>> from types import SimpleNamespace as Node
    >>> labels = ("", "t0", "x0", "L0.n0.w0", "w")
    >>> [is_constant_or_target(Node(op="", label=label)) for label in labels]
    [True, True, False, False, False]
    >>> is_constant_or_target(Node(op="*", label=""))
    False
    """
    if node.op:  # type: ignore[attr-defined]
        return False
    label = node.label  # type: ignore[attr-defined]
    return not label or is_target(label)


def is_target(label: str) -> bool:
    """True for the label of a target t_k.

    >>> is_target("t0"), is_target("x0"), is_target("")
    (True, False, False)
    """
    name = parse(label)
    return name is not None and name.role is Role.TARGET


def _neuron(neuron: object, operation: str) -> str:
    if isinstance(neuron, tuple) and len(neuron) == 2:
        return neuron_name(*neuron)
    if isinstance(neuron, str) and neuron:
        return neuron
    raise TypeError(
        f"{operation}: neuron must be its name (like 'L1.n0') or (layer, neuron), "
        f"got {type(neuron).__name__} {neuron!r}"
    )


def _join(words: list[str]) -> str:
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


# --- the layout of a weighted sum ---------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class WeightedSumParts(Generic[T]):
    """The inputs of a ``weighted_sum`` node, by part: z = Σ weights[i] × activations[i] + bias."""

    weights: tuple[T, ...]
    activations: tuple[T, ...]
    bias: T


def weighted_sum_inputs(weights: Sequence[T], activations: Sequence[T], bias: T) -> tuple[T, ...]:
    """The one tuple a weighted sum keeps its inputs in: w_1..w_n, then a_1..a_n, then b.

    >>> weighted_sum_inputs(["w0", "w1"], ["x0", "x1"], "b")
    ('w0', 'w1', 'x0', 'x1', 'b')
    """
    if len(weights) != len(activations):
        raise ValueError(
            f"weighted_sum: got {len(weights)} weights but {len(activations)} inputs; "
            "they must match one to one"
        )
    return (*weights, *activations, bias)


def weighted_sum_parts(inputs: Sequence[T]) -> WeightedSumParts[T]:
    """Split a weighted sum's inputs (or anything laid out like them, such as its local
    derivatives or the names of its inputs) into weights, activations and bias.

    >>> parts = weighted_sum_parts(("w0", "w1", "x0", "x1", "b"))
    >>> parts.weights, parts.activations, parts.bias
    (('w0', 'w1'), ('x0', 'x1'), 'b')
    >>> weighted_sum_parts(("w0", "x0"))
    Traceback (most recent call last):
    ...
    ValueError: weighted_sum_parts: expected 2n + 1 inputs (n weights, n inputs, a bias), got 2
    """
    if len(inputs) % 2 != 1:
        raise ValueError(
            "weighted_sum_parts: expected 2n + 1 inputs (n weights, n inputs, a bias), "
            f"got {len(inputs)}"
        )
    weights, activations, bias = split_weighted_sum(inputs)
    return WeightedSumParts(tuple(weights), tuple(activations), bias)


def split_weighted_sum(seq: Sequence[T]) -> tuple[Sequence[T], Sequence[T], T]:
    """The layout itself, unchecked and fast (the engine's derivative rule calls it for every
    neuron): ``seq[:n]`` weights, ``seq[n:2n]`` activations, ``seq[2n]`` the bias, with
    ``n = (len(seq) - 1) // 2``; one item after the bias (a rule's output value) is ignored.

    >>> split_weighted_sum(("w0", "w1", "x0", "x1", "b", "out"))
    (('w0', 'w1'), ('x0', 'x1'), 'b')
    """
    n = (len(seq) - 1) // 2
    return seq[:n], seq[n : 2 * n], seq[2 * n]
