"""The visual encodings of both pictures, kept in one place so they always mean the same.

* **edge colour** -- the sign of the number the edge carries: blue when positive, vermillion
  when negative (the Okabe-Ito pair, which colour-blind readers tell apart too), grey and
  dashed when it is exactly zero;
* **edge thickness** -- its magnitude, relative to the largest in the picture: on a log scale
  for gradients (anything ``DECADES`` orders of magnitude below the largest is thinnest), on
  a linear scale for weights;
* **node fill** -- the node's ``|grad|``, white to yellow on the same log scale;
* **dead** node (grad 0, or ``|grad|`` at most ``dead_threshold`` times the largest in the
  picture: a relu that is off, a saturated sigmoid): grey, dashed, marked "✕ dead" --
  nothing upstream of it learns from this example;
* **exploding** node (``|grad| > explode_threshold``, or not a finite number): dark red
  double border, marked "▲ exploding".

>>> edge_attributes(-0.5, top=0.5)["color"] == NEGATIVE
True
>>> gradient_state(0.0, 1.0, dead_threshold=1e-8, explode_threshold=10.0)
'dead'
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

import graphviz

from autograd_lite import Value, notation

POSITIVE = "#0072B2"  # Okabe-Ito blue
NEGATIVE = "#D55E00"  # Okabe-Ito vermillion
ZERO = "#9A9A9A"  # an edge that carries exactly nothing
DEAD_FILL = "#E4E4E4"
DEAD_LINE = "#8C8C8C"
EXPLODING = "#A50026"  # dark red border; the mark and the double border carry it too
HOT = (0xF5, 0xD0, 0x20)  # node fill at the largest |grad| (white at none)
FONT = "Helvetica,Arial,sans-serif"

DECADES = 4  # a gradient this many powers of ten below the largest is drawn thinnest
THINNEST = 0.6  # penwidth range of edges
THICKEST = 6.0
DEAD_MARK = "✕ dead"
EXPLODING_MARK = "▲ exploding"


def fmt(x: float, number_format: str) -> str:
    """``x`` written with the picture's number format; never ``-0`` (an input at -0.0, a
    gradient that rounds to zero from below).

    >>> fmt(0.123456, ".3g"), fmt(float("nan"), ".3g"), fmt(-0.0, ".3g"), fmt(-1e-9, ".2f")
    ('0.123', 'nan', '0', '0.00')
    """
    return notation.shown(x, number_format)


def largest(magnitudes: Iterable[float]) -> float:
    """The largest finite absolute value, 0.0 if there is none: the top of every scale.

    >>> largest([0.5, -2.0, float("inf")])
    2.0
    """
    return max((abs(m) for m in magnitudes if math.isfinite(m)), default=0.0)


def grad_norm(values: Iterable[Value]) -> float:
    """sqrt(sum grad²) of some Values: one number for how much gradient a group of
    parameters (a neuron's, a layer's) received.

    >>> from autograd_lite import Value
    >>> w, b = Value(1.0), Value(2.0)
    >>> w.grad, b.grad = 3.0, -4.0
    >>> grad_norm([w, b])
    5.0
    """
    return norm(v.grad for v in values)


def norm(grads: Iterable[float]) -> float:
    """sqrt(sum grad²) of some gradients (``grad_norm`` of Values reads their ``grad``).

    >>> norm([3.0, -4.0])
    5.0
    """
    return math.sqrt(sum(g**2 for g in grads))


def sign(x: float) -> str:
    """A number's colour class on the pages: 'pos', 'neg', 'zero', or 'exploding' (inf, nan).

    >>> sign(0.5), sign(-0.0), sign(float("nan"))
    ('pos', 'zero', 'exploding')
    """
    if not math.isfinite(x):
        return "exploding"
    return "pos" if x > 0 else "neg" if x < 0 else "zero"


def strength(magnitude: float, top: float, scale: str = "log") -> float:
    """Where ``|magnitude|`` sits between nothing (0.0) and ``top`` (1.0).

    The log scale loses a quarter of the range per power of ten (with ``DECADES = 4``), so
    a gradient 100 times smaller than the largest sits half way.

    >>> strength(2.0, 2.0), strength(0.02, 2.0), strength(1e-9, 2.0), strength(1.0, 2.0, "linear")
    (1.0, 0.5, 0.0, 0.5)
    """
    magnitude = abs(magnitude)
    if not math.isfinite(magnitude):
        return 1.0
    if magnitude == 0.0 or top <= 0.0:
        return 0.0
    if scale == "linear":
        return min(magnitude / top, 1.0)
    return min(max(1.0 + math.log10(magnitude / top) / DECADES, 0.0), 1.0)


def penwidth(magnitude: float, top: float, scale: str = "log") -> float:
    """Edge thickness for ``magnitude``, from ``THINNEST`` to ``THICKEST``.

    >>> penwidth(1.0, 1.0), penwidth(0.0, 1.0)
    (6.0, 0.6)
    """
    return THINNEST + (THICKEST - THINNEST) * strength(magnitude, top, scale)


def edge_attributes(signed: float, top: float, scale: str = "log") -> dict[str, str]:
    """Graphviz attributes of an edge carrying ``signed`` (a gradient or a weight), ``top``
    the largest magnitude in the picture.

    >>> edge_attributes(0.0, top=1.0)["style"]
    'dashed'
    """
    if not math.isfinite(signed):
        return {"color": EXPLODING, "penwidth": f"{THICKEST:.2f}"}
    if signed == 0.0:
        return {"color": ZERO, "penwidth": f"{THINNEST:.2f}", "style": "dashed"}
    return {
        "color": POSITIVE if signed > 0 else NEGATIVE,
        "penwidth": f"{penwidth(signed, top, scale):.2f}",
    }


def gradient_state(
    grad: float, top: float, *, dead_threshold: float, explode_threshold: float
) -> str:
    """'dead', 'exploding' or 'ok' for a node's gradient, ``top`` the largest in the picture.

    Dead is relative: at most ``dead_threshold`` times the largest gradient, so exactly 0
    too (a network that fits its sample perfectly has tiny gradients everywhere, none of
    them dead); a negative ``dead_threshold`` marks none. Exploding is absolute: above
    ``explode_threshold``, or not a number.

    >>> [gradient_state(g, 2.0, dead_threshold=1e-8, explode_threshold=10.0)
    ...  for g in (0.0, 1e-9, 0.5, -25.0)]
    ['dead', 'dead', 'ok', 'exploding']
    """
    if not math.isfinite(grad) or abs(grad) > explode_threshold:
        return "exploding"
    if abs(grad) <= dead_threshold * top:
        return "dead"
    return "ok"


def fill_colour(grad: float, top: float) -> str:
    """White for no gradient, ``HOT`` yellow for the largest ``|grad|`` in the picture.

    >>> fill_colour(0.0, 1.0), fill_colour(1.0, 1.0)
    ('#ffffff', '#f5d020')
    """
    s = strength(grad, top)
    red, green, blue = (round(255 + (channel - 255) * s) for channel in HOT)
    return f"#{red:02x}{green:02x}{blue:02x}"


@dataclass(frozen=True)
class Encoding:
    """One picture's settings of the node encodings: number format, thresholds, fill scale.

    >>> looks = Encoding(".3g", dead_threshold=1e-8, explode_threshold=10.0, top_grad=2.0)
    >>> looks.state(0.0), looks.state(1.0), looks.state(-30.0)
    ('dead', 'ok', 'exploding')
    """

    number_format: str
    dead_threshold: float
    explode_threshold: float
    top_grad: float  # the largest |grad| in the picture: the top of the fill scale
    known: bool = True  # False before any backward pass: no gradient is judged

    def fmt(self, x: float) -> str:
        return fmt(x, self.number_format)

    def state(self, grad: float) -> str:
        """'dead', 'exploding', 'ok', or 'unknown' when no backward pass has run."""
        if not self.known:
            return "unknown"
        return gradient_state(
            grad,
            self.top_grad,
            dead_threshold=self.dead_threshold,
            explode_threshold=self.explode_threshold,
        )

    def node_attributes(self, grad: float, state: str) -> dict[str, str]:
        """Graphviz attributes of a node with gradient ``grad`` in ``state``."""
        if state == "unknown":
            return {"style": "rounded,filled", "fillcolor": "white", "color": "#555555"}
        if state == "dead":
            return {
                "style": "rounded,filled,dashed",
                "fillcolor": DEAD_FILL,
                "color": DEAD_LINE,
                "fontcolor": "#555555",
            }
        attributes = {"style": "rounded,filled", "fillcolor": fill_colour(grad, self.top_grad)}
        if state == "exploding":
            attributes.update(color=EXPLODING, penwidth="2.5", peripheries="2")
        else:
            attributes["color"] = "#555555"
        return attributes

    def mark_row(self, grad: float, state: str) -> str:
        """The HTML table row that names a dead or exploding node ('' otherwise)."""
        if state == "dead":
            why = "grad 0" if grad == 0.0 else f"|grad| ≤ {self.dead_threshold:g} × largest"
            text, colour = f"{DEAD_MARK}: {why}", "#555555"
        elif state == "exploding":
            finite = math.isfinite(grad)
            why = f"|grad| &gt; {self.explode_threshold:g}" if finite else f"grad {grad}"
            text, colour = f"{EXPLODING_MARK}: {why}", EXPLODING
        else:
            return ""
        return f'<TR><TD><FONT COLOR="{colour}"><B>{text}</B></FONT></TD></TR>'

    def legend(
        self,
        *,
        edge_lines: tuple[str, str, str],
        thickness_lines: tuple[str, str],
        fill_line: str,
        notes: Iterable[tuple[str, str]] = (),
        dead_line: str | None = None,
        faint_line: str | None = None,
        compact: bool = False,
    ) -> str:
        """The legend: one HTML table that shows every encoding next to what it means.

        ``edge_lines`` explain a positive, a negative and a zero edge; ``thickness_lines``
        the thickest and the thinnest; ``notes`` are extra (sample HTML, text) rows;
        ``dead_line`` replaces the meaning of the grey dashed swatch; ``faint_line`` adds a
        faint edge sample; ``compact`` keeps only the rows a small picture needs (no zero
        edge, no thinnest line, one fill swatch, no exploding row), so the legend is not
        larger than the picture.
        """

        def sample(text: str, colour: str = "black", size: int = 14) -> str:
            line = f'<FONT COLOR="{colour}" POINT-SIZE="{size}">━━━━</FONT>'
            return f'<TR><TD ALIGN="LEFT">{line}</TD><TD ALIGN="LEFT">{html.escape(text)}</TD></TR>'

        def swatch(fill: str, text: str, border: str = "#555555") -> str:
            return (
                f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{border}"> </TD>'
                f'<TD ALIGN="LEFT">{html.escape(text)}</TD></TR>'
            )

        rows = ['<TR><TD COLSPAN="2"><B>how to read this picture</B></TD></TR>']
        if not self.known:
            rows.append('<TR><TD COLSPAN="2">no gradients yet: call backward() first</TD></TR>')
        rows += [sample(edge_lines[0], POSITIVE), sample(edge_lines[1], NEGATIVE)]
        if not compact:
            rows.append(sample(edge_lines[2], ZERO, size=7))
        rows.append(sample(thickness_lines[0], size=14 if compact else 20))
        if not compact:
            rows.append(sample(thickness_lines[1], size=6))
        if faint_line:
            rows.append(sample(faint_line, POSITIVE + "55"))
        if self.known:
            for fraction in (1.0,) if compact else (1.0, 1e-2, 10.0**-DECADES):
                shown = self.fmt(self.top_grad * fraction)
                rows.append(swatch(fill_colour(fraction, 1.0), f"{fill_line} {shown}"))
            dead = (
                f"|grad| ≤ {self.dead_threshold:g} × largest, or 0: "
                "no blame gets through here for this input"
            )
            rows.append(swatch(DEAD_FILL, dead_line or f"{DEAD_MARK}: {dead}", DEAD_LINE))
            if not compact:
                exploding = f"{EXPLODING_MARK}: |grad| > {self.explode_threshold:g}"
                rows.append(swatch("white", exploding, EXPLODING))
            rows += [
                f'<TR><TD ALIGN="LEFT">{sample}</TD><TD ALIGN="LEFT">{text}</TD></TR>'
                for sample, text in notes
            ]
        return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'


def table(rows: Iterable[str]) -> str:
    """An HTML-like graphviz label: a borderless table of the given ``<TR>`` rows."""
    borderless = 'BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"'
    return f"<<TABLE {borderless}>{''.join(rows)}</TABLE>>"


def row(text: str, bold: bool = False, id: str | None = None) -> str:
    """One table row of plain text (escaped); ``id`` names its cell in the SVG (``a_{id}``).

    Graphviz keeps a cell's ID only when the cell is a link too, hence the ``HREF``.

    >>> row("grad 0", id="node1_grad")
    '<TR><TD ID="node1_grad" HREF="#">grad 0</TD></TR>'
    """
    text = html.escape(text)
    cell = f'<TD ID="{html.escape(id)}" HREF="#">' if id else "<TD>"
    return f"<TR>{cell}{'<B>' + text + '</B>' if bold else text}</TD></TR>"


def add_legend(dot: graphviz.Digraph, label: str, fontsize: str = "9") -> None:
    """Put the legend ``label`` in a framed box (DOT name and SVG id ``legend``) alone in
    the first rank of the layout (left of everything with ``rankdir="LR"``), where no edge
    of the picture can run over it."""
    with dot.subgraph(name="legend_rank") as first:
        first.attr(rank="source")
        first.node(
            "legend",
            label,
            id="legend",
            shape="box",
            style="rounded",
            color="#BBBBBB",
            margin="0.12,0.08",
            fontsize=fontsize,
        )
