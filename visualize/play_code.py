"""The JavaScript the play page trains with, written by the exporter (``export_model``).

The page lets a learner add layers and neurons while it runs, but ``export_model`` writes the
code of one network. So this module asks the exporter for the code of a few *probe* networks
and cuts it into pieces the page can put together again for any network:

* a probe with two hidden layers gives, per hidden activation and loss, the code of a first
  layer (it reads the features ``x``), a middle layer and the output layer;
* a probe with no hidden layer gives the code of a lone output layer, per loss.

Each piece keeps the exporter's text: the layer's index and its sizes become holes
(``⟪l⟫``, ``⟪n⟫`` ...) that the page fills, and the literal numbers of the probe (its
weights, its sample) become ``params.NAME``, read from what the page passes in. The page's
composer (``compose`` in ``page/play.js``) gives, for a network of any depth, the text that
``normalized(export_model(...))`` gives for it (tests/test_play_page.py checks it), except
that a middle layer of one or two neurons is walked from its last neuron (the order the
generator picks when it matters; with two terms or fewer, the sums are the same).

The loss of one sample is the loss of the batch divided by ``n``, the batch's size: so the
chain rule of each sample starts from ∂E/∂E_k = 1/n, as the engine's mean of a batch does,
and the page adds up the samples' gradients in the engine's order, digit for digit.

>>> program = normalized(export_model(MLP(2, [1], seed=0), [0.5, 0.5], [1.0], "javascript"))
>>> [line.split("  //")[0] for line in program.splitlines() if "params." in line]
['const L0_w = params.L0_w;', 'const L0_b = params.L0_b;', 'const x = params.x;',
 'let t0 = params.t0;', 'let lr = params.lr;']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from autograd_lite.batch_loss import LOSSES
from autograd_lite.engine import Value
from autograd_lite.export import export_model
from autograd_lite.nn import MLP

__all__ = [
    "ACTIVATIONS",
    "LOSS_NAMES",
    "ShapeError",
    "code_templates",
    "normalized",
    "page_loss",
]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")  # the page's hidden activations
LOSS_NAMES = ("mse", "hinge", "bce_with_logits")  # names of batch_loss.LOSSES: targets ±1/0-1
OUTPUT_ACTIVATION = "linear"  # a raw score the loss reads, as on the command line
BATCH_SIZE = "n"  # the label of the constant each sample's loss is divided by

# Sizes of the probes, chosen so that none of them, nor one less, reads as another number of
# the code (they become holes): features, first hidden layer, second hidden layer.
PROBE_SIZES = (11, 13, 17)

_LAYER = re.compile(r"L(\d+)(?=[._\[])")  # L1_w, dE_dL1_a[i], L1.nj.wi: a layer's index
_INDEX = re.compile(r"L(\d+)(?=[._\[])|\blayer (\d+)\b")


class ShapeError(RuntimeError):
    """The exporter's code no longer has the shape this module cuts into pieces."""


def page_loss(name: str) -> Callable[[object, object], Value]:
    """The loss of one sample as the page computes it: ``LOSSES[name]`` divided by the
    batch's size ``n`` (a constant the page sets before each step).

    >>> loss = page_loss("mse")
    >>> loss(Value(0.5), -1.0).data      # (−1 − 0.5)² / 4
    0.5625
    """
    if name not in LOSS_NAMES:
        raise ValueError(f"play page: unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
    function = LOSSES[name][0]

    def loss(outputs: object, targets: object) -> Value:
        return function(outputs, targets) / Value(4.0, BATCH_SIZE)  # the page sets n per batch

    return loss


def probe_target(loss: str) -> float:
    """A target the loss accepts (its value does not change the code)."""
    return 0.0 if loss == "bce_with_logits" else -1.0


# --- the exporter's file, as the page runs it -------------------------------------------------


@dataclass
class _Item:
    """Lines of code with the comment and blank lines before them."""

    lines: list[str]
    kind: str  # "declaration", "function", "statement", "loop"
    name: str = ""  # a function's or a declaration's name

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    @property
    def code(self) -> str:
        """The lines without comments: what names the item really uses."""
        return "\n".join(line.split("//")[0] for line in self.lines)


def _block_end(lines: list[str], start: int, indent: str) -> int:
    """The index of the line that closes the block opened at ``start``."""
    for end in range(start + 1, len(lines)):
        if lines[end] == indent + "}":
            return end
    raise ShapeError(f"no closing brace for {lines[start]!r}")


def _statement_end(lines: list[str], start: int) -> int:
    """The last line of a declaration (a matrix spans several lines)."""
    depth = 0
    for end in range(start, len(lines)):
        code = lines[end].split("//")[0]
        depth += code.count("[") + code.count("(") - code.count("]") - code.count(")")
        if depth == 0 and code.rstrip().endswith(";"):
            return end
    raise ShapeError(f"no end for the declaration {lines[start]!r}")


def _items(lines: list[str], indent: str) -> list[_Item]:
    """The statements of a block at ``indent``, each with the comments and blank lines
    before it."""
    items, pending, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            pending.append(line)
            i += 1
            continue
        if not line.startswith(indent) or line[len(indent)] == " ":
            raise ShapeError(f"unexpected indentation: {line!r}")
        head = line[len(indent) :]
        if head.startswith("function "):
            end = _block_end(lines, i, indent)
            kind, name = "function", head[len("function ") :].split("(")[0]
        elif head.startswith("for ("):
            end, kind, name = _block_end(lines, i, indent), "loop", ""
        elif head.startswith(("const ", "let ")):
            end, kind = _statement_end(lines, i), "declaration"
            name = re.split(r"[ =;,]", head.split(" ", 1)[1])[0]
        else:
            end, kind, name = i, "statement", ""
        items.append(_Item(pending + lines[i : end + 1], kind, name))
        pending = []
        i = end + 1
    if pending:
        items.append(_Item(pending, "statement"))
    return items


_PASSES = ("forward", "backward", "sgd_step")
_LITERAL = re.compile(r"^((?:const|let) (\w+) = )(\[[^;]*\]|-?[\d.]+(?:e[-+]?\d+)?);", re.DOTALL)


def _parameter_declaration(item: _Item) -> _Item:
    """``const L0_w = [...];`` -> ``const L0_w = params.L0_w;``: the numbers of the probe
    (weights, the sample, the learning rate) come from the page."""
    text = "\n".join(line for line in item.lines)
    comments = [line for line in item.lines if line.strip().startswith("//") or not line.strip()]
    body = text[len("\n".join(comments)) + (1 if comments else 0) :]
    found = _LITERAL.match(body)
    if not found:
        return item
    rest = body[found.end() :]
    line = f"{found.group(1)}params.{found.group(2)};{rest}"
    return _Item([*comments, line], item.kind, item.name)


def normalized(source: str) -> str:
    """A JavaScript file of ``export_model`` as the page runs it: the helpers, the
    declarations and ``forward``, ``backward`` and ``sgd_step``; numbers written in the file
    (weights, the sample, the learning rate) read from ``params``; no header, no ``main``.

    >>> w = normalized(export_model(MLP(1, [1], seed=0), [2.0], [1.0], "javascript"))
    >>> [line for line in w.splitlines() if line.startswith("const L0_w")]
    ['const L0_w = params.L0_w;']
    """
    lines = source.splitlines()
    try:
        start = lines.index('"use strict";') + 1
    except ValueError:
        raise ShapeError('the exported file has no "use strict" line') from None
    kept = []
    for item in _items(lines[start:], ""):
        if item.kind == "function" and item.name in ("main", "shortest"):
            continue
        if item.kind == "statement" and item.code.strip() in ("main();", ""):
            continue
        kept.append(_parameter_declaration(item) if item.kind == "declaration" else item)
    return "".join(item.text for item in kept)


# --- cutting the code into pieces --------------------------------------------------------------


def _layers_named(code: str) -> set[int]:
    return {int(found.group(1)) for found in _LAYER.finditer(code)}


def _zeroing(item: _Item) -> bool:
    """A loop that only sets values to 0: it opens the sums of the loop after it."""
    if item.kind != "loop":
        return False
    code = [line.split("//")[0].strip() for line in item.lines]
    code = [line for line in code if line]  # the comments and blank lines before it gone
    body = code[1:-1]  # between "for (...) {" and "}"
    return bool(body) and all(line.endswith("= 0.0;") for line in body)


def _pieces(items: list[_Item], layered: Callable[[_Item], bool]) -> list[tuple[int | None, str]]:
    """(layer or None, text) of each item, a loop that zeroes sums merged into the next."""
    pieces: list[tuple[int | None, str]] = []
    carried = ""
    for item in items:
        if _zeroing(item):
            carried += item.text
            continue
        layers = _layers_named(item.code) if layered(item) else set()
        pieces.append((max(layers) if layers else None, carried + item.text))
        carried = ""
    if carried:
        raise ShapeError("a loop that zeroes sums ends a function")
    return pieces


def _sections(program: str) -> list[tuple[int | None, str]]:
    """The program as (layer or None, text) pieces, in order."""
    lines = program.splitlines()
    top = _items(lines, "")
    pieces: list[tuple[int | None, str]] = []
    for item in top:
        if item.kind == "function" and item.name in _PASSES:
            head_end = next(i for i, line in enumerate(item.lines) if line.startswith("function "))
            pieces.append((None, "".join(line + "\n" for line in item.lines[: head_end + 1])))
            body = _items(item.lines[head_end + 1 : -1], "    ")
            pieces.extend(_pieces(body, lambda inner: inner.kind == "loop"))
            pieces.append((None, item.lines[-1] + "\n"))
        elif item.kind == "declaration":
            layers = _layers_named(item.code)
            if len(layers) > 1:
                raise ShapeError(f"a declaration names several layers: {item.code!r}")
            pieces.append((layers.pop() if layers else None, item.text))
        else:
            if _layers_named(item.code):
                raise ShapeError(f"a helper names a layer: {item.code!r}")
            pieces.append((None, item.text))
    return pieces


def _holes(text: str, this: int | None, sizes: dict[int, str]) -> str:
    """Layer indices and sizes of the probe replaced by the holes the page fills."""

    def layer(found: re.Match) -> str:
        index = int(found.group(1) or found.group(2))
        hole = {this: "⟪l⟫", None if this is None else this - 1: "⟪p⟫"}.get(index)
        if hole is None:
            raise ShapeError(f"layer {index} named in the code of layer {this}: {text!r}")
        return found.group(0).replace(str(index), hole)

    text = _INDEX.sub(layer, text)
    for number, hole in sizes.items():
        text = re.sub(rf"(?<![\w.]){number}(?![\w.])", hole, text)
    return text


@cache
def _template(activation: str, loss: str, hidden: bool) -> list:
    """The pieces of one probe: text, or ("up"/"down", {role: text}) for the runs of layers.

    Roles: "first", "middle", "output" (probe with two hidden layers), "only" (none)."""
    nin, first, second = PROBE_SIZES
    sizes = [first, second, 1] if hidden else [1]
    model = MLP(nin, sizes, activation=activation, output_activation=OUTPUT_ACTIVATION, seed=0)
    source = export_model(
        model, [0.5] * nin, [probe_target(loss)], "javascript", page_loss(loss), lr=0.1
    )
    program = normalized(source)
    last = len(sizes) - 1
    roles = ["first", "middle", "output"] if hidden else ["only"]
    fan_in = [nin, *sizes]
    holes = []  # per layer: size holes
    for l in range(last + 1):  # noqa: E741 (l for layer, as in the notes)
        own = {} if sizes[l] == 1 else {sizes[l]: "⟪n⟫", sizes[l] - 1: "⟪n1⟫"}
        holes.append({**own, fan_in[l]: "⟪m⟫"})
    template: list = []
    run: list[tuple[int, str]] = []

    def close_run() -> None:
        if not run:
            return
        order = []
        for l, _ in run:  # noqa: E741
            if not order or order[-1] != l:
                order.append(l)
        up, down = list(range(last + 1)), list(range(last, -1, -1))
        if order not in (up, down):
            raise ShapeError(f"layers come in the order {order}, not 0..{last} or back")
        texts = {}
        for layer in order:
            text = "".join(piece for k, piece in run if k == layer)
            texts[roles[layer]] = _holes(text, layer, holes[layer])
        template.append(("up" if order == up or last == 0 else "down", texts))
        run.clear()

    for layer, text in _sections(program):
        if layer is None:
            close_run()
            template.append(_outside_layers(text, last))
        else:
            run.append((layer, text))
    close_run()
    return template


def _outside_layers(text: str, last: int) -> str:
    """Code outside the layers (the error, helpers) with the output layer's index as a hole:
    the error reads the outputs ``L{last}_z``; no other layer may be named there."""

    def hole(found: re.Match) -> str:
        index = int(found.group(1) or found.group(2))
        if index != last:
            raise ShapeError(f"the code outside the layers names layer {index}: {text!r}")
        return found.group(0).replace(str(index), "⟪last⟫")

    return _INDEX.sub(hole, text)


def code_templates() -> dict:
    """Every piece of code the page needs, each text stored once.

    ``{"texts": [...], "deep": {"tanh/mse": [...], ...}, "flat": {"mse": [...], ...}}``: a
    template is a list of text numbers and ``[direction, {role: text number}]`` runs.

    >>> templates = code_templates()
    >>> sorted(templates["flat"]), len(templates["deep"])
    (['bce_with_logits', 'hinge', 'mse'], 12)
    """
    texts: list[str] = []
    number: dict[str, int] = {}

    def stored(text: str) -> int:
        if text not in number:
            number[text] = len(texts)
            texts.append(text)
        return number[text]

    def packed(template: list) -> list:
        return [
            stored(section)
            if isinstance(section, str)
            else [section[0], {role: stored(text) for role, text in section[1].items()}]
            for section in template
        ]

    deep = {
        f"{activation}/{loss}": packed(_template(activation, loss, True))
        for activation in ACTIVATIONS
        for loss in LOSS_NAMES
    }
    flat = {loss: packed(_template("linear", loss, False)) for loss in LOSS_NAMES}
    return {"texts": texts, "deep": deep, "flat": flat}
