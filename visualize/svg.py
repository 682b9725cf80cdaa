"""The SVG of a picture, made ready for a page that rewrites its numbers.

``svg_of(digraph, ...)`` asks Graphviz's ``dot`` for the SVG (None and a hint without
``dot``). ``prepare_svg(svg, titles)`` readies it for a page: tooltips, which would
show stale numbers, become ``titles``; each number row the page rewrites is found by its
own id and marked with a class (``data``, ``grad``, ``params``) and the text around the
number (``data-prefix``); each node's outline gets the class ``shape``.

A row has an id when ``draw_graph(..., row_ids=True)`` drew it: Graphviz keeps a table
cell's ``ID`` when the cell also has an ``HREF`` (``<TD ID="x" HREF="#">`` becomes
``<g id="a_x">`` around a link); the link is unwrapped here, so nothing is clickable.

>>> from autograd_lite import Value
>>> from autograd_lite.visualize.graph import draw_graph
>>> x = Value(2.0, label="x")
>>> svg = svg_of(draw_graph(x * x, row_ids=True), "example", "no picture")
>>> page, drawn = prepare_svg(svg, {"node0": "x"}) if svg else ("", set())
>>> svg is None or ('class="grad" data-prefix="grad "' in page and "node0" in drawn)
True
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ElementTree

import graphviz

from autograd_lite.visualize.render import INSTALL_HINT

__all__ = ["ROW_FIELDS", "prepare_svg", "row_id", "svg_of"]

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
ElementTree.register_namespace("", SVG[1:-1])
ElementTree.register_namespace("xlink", XLINK[1:-1])
ROW_FIELDS = ("data", "grad", "params")  # the number rows a page rewrites, top to bottom


def row_id(node_id: str, field: str) -> str:
    """The id of one number row of a node's box, as given to Graphviz.

    In the SVG, Graphviz puts ``a_`` before it.

    >>> row_id("node3", "grad")
    'node3_grad'
    """
    return f"{node_id}_{field}"


def svg_of(digraph: graphviz.Digraph, operation: str, instead: str) -> str | None:
    """The SVG drawn by ``dot``, or None (and a hint on stderr) when Graphviz is missing."""
    try:
        return digraph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        print(
            f"{operation}: Graphviz's `dot` program was not found, so {instead}.\n  {INSTALL_HINT}",
            file=sys.stderr,
        )
        return None


def prepare_svg(svg: str, titles: dict[str, str]) -> tuple[str, set[str]]:
    """Ready an SVG of Graphviz for the page; returns it and the ids of its nodes and edges.

    ``titles`` maps a node or edge id to its tooltip. In each node drawn with row ids, the
    number rows get their field as class and the words before the number as
    ``data-prefix``, so the page writes a new number after the same words.
    """
    tree = ElementTree.fromstring(svg)
    drawn = set()
    for group in tree.iter(f"{SVG}g"):
        kind, name = group.get("class"), group.get("id", "")
        if kind not in ("node", "edge"):
            continue
        drawn.add(name)
        for link in group.iter(f"{SVG}a"):
            link.attrib.pop(f"{XLINK}title", None)
        title = group.find(f"{SVG}title")
        if title is not None:
            title.text = titles.get(name, "")
        if kind == "node":
            _mark_rows(group, name)
    graph_title = tree.find(f"{SVG}g/{SVG}title")
    if graph_title is not None:
        graph_title.text = ""
    return ElementTree.tostring(tree, encoding="unicode"), drawn


def _mark_rows(group: ElementTree.Element, node_id: str) -> None:
    """Class, prefix and centring of the number rows of one node's box."""
    ids = {f"a_{row_id(node_id, field)}": field for field in ROW_FIELDS}
    rows = [(ids[row.get("id")], row) for row in group.iter(f"{SVG}g") if row.get("id") in ids]
    shape = next((el for el in group.iter() if el.tag in (f"{SVG}path", f"{SVG}polygon")), None)
    if not rows or shape is None:
        return
    shape.set("class", "shape")
    points = re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", shape.get("d") or shape.get("points"))
    xs = [float(x) for x in points[0::2]]
    for field, row in rows:
        _unwrap_links(row)
        text = row.find(f"{SVG}text")
        if text is None or " " not in (text.text or ""):
            continue
        text.set("class", field)
        # every number row is "words number": "grad 0.5", "3 params, grad norm 0.2"; a
        # number format may pad the number with spaces of its own (" .4g")
        text.set("data-prefix", text.text[: text.text.rindex(" ")].rstrip() + " ")
        text.set("text-anchor", "middle")  # new numbers stay centred in the box
        text.set("x", f"{(min(xs) + max(xs)) / 2:.2f}")


def _unwrap_links(row: ElementTree.Element) -> None:
    """Put the children of the row's ``<a>`` (there only to keep the id) in its place."""
    for position, child in enumerate(list(row)):
        if child.tag == f"{SVG}a":
            row.remove(child)
            for offset, grandchild in enumerate(child):
                row.insert(position + offset, grandchild)
