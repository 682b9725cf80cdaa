"""Pictures for image classifiers: small grey images with the model's guesses, and the
confusion counts, drawn as Graphviz tables (no plotting library needed).

* ``draw_images(images, captions, ...)`` -- each image a grid of grey cells (0 white, 1
  black) with its caption under it; a caption marked wrong gets a vermillion frame;
* ``draw_confusion(counts, ...)`` -- row = true class, column = predicted class, each
  cell its count, shaded by it: the diagonal (right answers) in blue, mistakes in
  vermillion.

Both return a ``graphviz.Digraph`` for ``render``.

>>> picture = draw_images([[0.0, 1.0, 1.0, 0.0]], ["3 (true 3)"], width=2)
>>> type(picture).__name__, "3 (true 3)" in picture.source
('Digraph', True)
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import graphviz

from autograd_lite.visualize import style

__all__ = ["draw_confusion", "draw_images"]


def _grey(value: float) -> str:
    level = round(255 * (1.0 - min(max(value, 0.0), 1.0)))
    return f"#{level:02x}{level:02x}{level:02x}"


def _picture(label: str) -> graphviz.Digraph:
    dot = graphviz.Digraph()
    dot.attr("node", shape="plaintext", fontname=style.FONT)
    dot.node("picture", f"<{label}>")
    return dot


def draw_images(
    images: Sequence[Sequence[float]],
    captions: Sequence[str],
    *,
    width: int = 8,
    wrong: Sequence[bool] | None = None,
    columns: int = 6,
    pixel: int = 12,
    title: str = "",
) -> graphviz.Digraph:
    """Grey images (values 0..1 read row by row, ``width`` per row) with captions under them.

    ``wrong[k]`` draws image k's frame and caption in vermillion (a wrong guess).
    """
    if len(images) != len(captions) or not images:
        raise ValueError(
            f"draw_images: needs as many captions as images (at least one); "
            f"got {len(images)} images and {len(captions)} captions"
        )
    if any(len(image) % width for image in images):
        raise ValueError(f"draw_images: every image must have a multiple of {width} pixels")
    wrong = list(wrong) if wrong is not None else [False] * len(images)
    cells = []
    for image, caption, is_wrong in zip(images, captions, wrong):
        colour = style.NEGATIVE if is_wrong else "#000000"
        rows = "".join(
            "<TR>"
            + "".join(
                f'<TD WIDTH="{pixel}" HEIGHT="{pixel}" FIXEDSIZE="TRUE" BGCOLOR="{_grey(v)}"></TD>'
                for v in image[start : start + width]
            )
            + "</TR>"
            for start in range(0, len(image), width)
        )
        grid = (
            f'<TABLE BORDER="{3 if is_wrong else 1}" COLOR="{colour}" CELLBORDER="0" '
            f'CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'
        )
        cells.append(
            f'<TD><TABLE BORDER="0" CELLSPACING="2"><TR><TD>{grid}</TD></TR>'
            f'<TR><TD><FONT COLOR="{colour}" POINT-SIZE="12">{html.escape(caption)}'
            "</FONT></TD></TR></TABLE></TD>"
        )
    body = "".join(
        "<TR>" + "".join(cells[start : start + columns]) + "</TR>"
        for start in range(0, len(cells), columns)
    )
    heading = f'<TR><TD COLSPAN="{columns}"><B>{html.escape(title)}</B></TD></TR>' if title else ""
    return _picture(f'<TABLE BORDER="0" CELLSPACING="6">{heading}{body}</TABLE>')


def draw_confusion(
    counts: Sequence[Sequence[int]],
    *,
    labels: Sequence[str] | None = None,
    title: str = "",
) -> graphviz.Digraph:
    """The confusion counts: ``counts[t][p]`` samples of true class t predicted as p.

    >>> "<B>5</B>" in draw_confusion([[5, 1], [0, 4]]).source
    True
    """
    size = len(counts)
    if not size or any(len(row) != size for row in counts):
        raise ValueError("draw_confusion: counts must be a square table (one row per class)")
    labels = [str(k) for k in range(size)] if labels is None else list(labels)
    # the diagonal and the mistakes each shaded against their own largest count, so that a
    # few mistakes still show beside 40 right answers
    largest_right = max(counts[k][k] for k in range(size)) or 1
    largest_wrong = max((c for t, row in enumerate(counts) for p, c in enumerate(row) if t != p),
                        default=0) or 1  # fmt: skip
    header = f'<TR><TD></TD><TD COLSPAN="{size}"><B>predicted</B></TD></TR>'
    header += "<TR><TD><B>true</B></TD>" + "".join(
        f"<TD><B>{html.escape(label)}</B></TD>" for label in labels
    ) + "</TR>"  # fmt: skip
    rows = []
    for t, row in enumerate(counts):
        cells = []
        for p, count in enumerate(row):
            shade = count / (largest_right if t == p else largest_wrong)
            if t == p:  # right answers: blue, stronger with more
                r, g, b = (round(255 + (c - 255) * shade) for c in (0x00, 0x72, 0xB2))
            else:  # mistakes: vermillion
                r, g, b = (round(255 + (c - 255) * shade) for c in (0xD5, 0x5E, 0x00))
            text_colour = "#FFFFFF" if shade > 0.5 else "#000000"
            number = f"<B>{count}</B>" if t == p else (str(count) if count else "·")
            cells.append(
                f'<TD WIDTH="34" HEIGHT="26" BGCOLOR="#{r:02x}{g:02x}{b:02x}">'
                f'<FONT COLOR="{text_colour}">{number}</FONT></TD>'
            )
        rows.append(f"<TR><TD><B>{html.escape(labels[t])}</B></TD>{''.join(cells)}</TR>")
    heading = f'<TR><TD COLSPAN="{size + 1}"><B>{html.escape(title)}</B></TD></TR>' if title else ""
    return _picture(
        f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" COLOR="#BBBBBB">'
        f"{heading}{header}{''.join(rows)}</TABLE>"
    )
