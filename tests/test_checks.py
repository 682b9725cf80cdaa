"""The argument checks: one order (operation, name, value), one message format, the right error
type, and the same words wherever a check is used."""

from __future__ import annotations

import fractions
import math
import re

import pytest
from graphviz import Digraph

from autograd_lite import Value, gradcheck
from autograd_lite.checks import (
    check_callable,
    check_choice,
    check_count,
    check_format,
    check_instance,
    check_number,
    describe_operands,
    is_number,
    refuse_operand,
)
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.visualize import export_html, render

# {operation}: {name} must be {requirement}, got {type} {value!r}   (TypeError)
# {operation}: {name} must be {requirement}, got {value!r}          (ValueError)
FORMAT = re.compile(r"^[\w.]+: [\w ]+ must be .+, got .+$")


def test_is_number_takes_real_numbers_and_nothing_else():
    for yes in (0, -3, 2.5, math.inf, math.nan, fractions.Fraction(1, 3)):
        assert is_number(yes), yes
    for no in (True, False, "1", None, 1j, [1.0], Value(1.0)):
        assert not is_number(no), no


def test_check_number_returns_a_float_and_refuses_with_the_right_error():
    assert check_number("op", "x", 3) == 3.0 and type(check_number("op", "x", 3)) is float
    assert check_number("op", "x", fractions.Fraction(1, 4)) == 0.25
    assert check_number("op", "x", math.inf, finite=False) == math.inf
    assert check_number("op", "x", 0.0, minimum=0.0) == 0.0
    cases = [
        (("SGD", "lr", "fast"), {}, TypeError, "SGD: lr must be a number, got str 'fast'"),
        (("SGD", "lr", True), {}, TypeError, "SGD: lr must be a number, got bool True"),
        (("fit", "l2", math.nan), {}, ValueError, "fit: l2 must be finite, got nan"),
        (("fit", "l2", -1), {"minimum": 0.0}, ValueError, "fit: l2 must be >= 0.0, got -1"),
        (("g", "eps", 0.0), {"above": 0.0}, ValueError, "g: eps must be > 0.0, got 0.0"),
        (("g", "eps", math.nan), {"above": 0.0, "finite": False}, ValueError, "must be > 0.0"),
        (("g", "t", -math.inf), {"minimum": 0, "finite": False}, ValueError, "must be >= 0"),
    ]
    for args, options, error, message in cases:
        with pytest.raises(error) as caught:
            check_number(*args, **options)
        assert str(caught.value) == message or message in str(caught.value), args
        assert FORMAT.match(str(caught.value)), str(caught.value)


def test_check_count_wants_an_int_not_a_bool_nor_a_float():
    assert check_count("Layer", "nout", 3) == 3
    assert check_count("decision_map", "width", 0, minimum=0) == 0
    for bad, error, message in [
        (2.0, TypeError, "Layer: nout must be an int, got float 2.0"),
        (True, TypeError, "Layer: nout must be an int, got bool True"),
        (0, ValueError, "Layer: nout must be >= 1, got 0"),
    ]:
        with pytest.raises(error, match=f"^{re.escape(message)}$"):
            check_count("Layer", "nout", bad)


def test_choice_callable_instance_and_format():
    assert check_choice("render", "format", "svg", ("svg", "png")) == "svg"
    with pytest.raises(ValueError, match=r"^render: format must be one of svg, png, got 'gif'$"):
        check_choice("render", "format", "gif", ("svg", "png"))
    assert check_callable("register_hook", "hook", print) is print
    with pytest.raises(TypeError, match=r"^register_hook: hook must be callable, got int 3$"):
        check_callable("register_hook", "hook", 3)
    value = Value(1.0)
    assert check_instance("grad", "output", value, Value, "a Value") is value
    with pytest.raises(TypeError, match=r"^grad: output must be a Value, got float 1.0$"):
        check_instance("grad", "output", 1.0, Value, "a Value")
    assert check_format("draw_graph", "number_format", ".3e") == ".3e"
    for bad in ("%q", 4, None):
        with pytest.raises(ValueError, match="draw_graph: number_format must be a float format"):
            check_format("draw_graph", "number_format", bad)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: Value("1"), TypeError, "Value: data must be a number, got str '1'"),
        (lambda: Value(1.0).backward("one"), TypeError, "backward: seed must be a number"),
        (lambda: SGD([Value(1.0)], lr=-1), ValueError, "SGD: lr must be >= 0.0, got -1"),
        (lambda: MLP(2, [0]), ValueError, "MLP: each layer size in nouts must be >= 1, got 0"),
        (lambda: data.moons(10, noise="x"), TypeError, "moons: noise must be a number, got str"),
        (lambda: gradcheck(lambda x: x, [1.0], eps=0), ValueError, "gradcheck: eps must be > 0"),
        (lambda: Value(1.0).register_hook(None), TypeError, "register_hook: hook must be callable"),
        (lambda: render(Digraph(), 42), TypeError, "render: path must be a str or a Path, got int"),
        (lambda: export_html(Value(1.0), 42), TypeError, "export_html: path must be a str or a"),
        (lambda: export_html(Value(1.0), "p", title=7), TypeError, "export_html: title must be"),
    ],
)
def test_every_part_of_the_project_speaks_the_same_format(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value).startswith(message)
    assert FORMAT.match(str(caught.value)), str(caught.value)


def test_the_engine_accepts_every_real_number_and_keeps_nan_and_inf():
    assert Value(fractions.Fraction(1, 2)).data == 0.5
    assert math.isnan(Value(math.nan).data) and Value(-math.inf).data == -math.inf
    x = Value(2.0)
    x.backward(fractions.Fraction(1, 2))  # a seed is any real number
    assert x.grad == 0.5


def test_an_operator_leaves_a_foreign_operand_to_answer_from_the_right():
    class Reflects:
        def __rmul__(self, other: object) -> str:
            return "answered"

    assert refuse_operand("*", Reflects()) is NotImplemented
    assert Value(2.0) * Reflects() == "answered"  # Python asked the other operand
    with pytest.raises(TypeError, match=r"^\*: unsupported operand NoneType None; expected a"):
        refuse_operand("*", None)  # None has no __rmul__: nobody else would answer
    with pytest.raises(TypeError, match=r"^leaky_relu: unsupported operand Reflects"):
        refuse_operand("leaky_relu", Reflects())  # not an operator: no one else to ask


def test_operands_are_described_with_their_labels_and_values():
    assert describe_operands([Value(2.0, label="a"), Value(-1.5)]) == "a=2.0, -1.5"
    with pytest.raises(ValueError, match=r"^log: needs x > 0; got x=-1.0$"):
        Value(-1.0, label="x").log()
