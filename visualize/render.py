"""Write a picture to a file with Graphviz's ``dot``, or the DOT source when there is no ``dot``.

>>> graphviz_available() in (True, False)
True
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import graphviz

from autograd_lite.checks import check_choice, check_path, wrong_kind

FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = (
    "Install Graphviz to get pictures: Debian/Ubuntu `sudo apt-get install graphviz`, "
    "macOS `brew install graphviz`, Windows https://graphviz.org/download/"
)


def graphviz_available() -> bool:
    """True when Graphviz's ``dot`` program is on the PATH (the Python package cannot draw)."""
    return shutil.which("dot") is not None


def render(
    digraph: graphviz.Digraph | graphviz.Graph | graphviz.Source,
    path: str | Path,
    format: str = "svg",
    *,
    quiet: bool = False,
) -> Path:
    """Draw ``digraph`` into ``path`` (its suffix becomes ``.svg``, ``.png`` or ``.pdf``).

    Returns the path written. Without ``dot`` it writes the DOT source next to it
    (``.dot``), says on stderr how to install Graphviz (unless ``quiet``: for callers that
    say it once for many pictures), and returns the ``.dot`` path.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> written = render(graphviz.Digraph(), f"{folder}/empty")
    >>> written.suffix in (".svg", ".dot")
    True
    """
    if not isinstance(digraph, (graphviz.Digraph, graphviz.Graph, graphviz.Source)):
        requirement = "a graphviz Digraph (from draw_graph or draw_network)"
        raise wrong_kind("render", "digraph", requirement, digraph)
    check_path("render", "path", path)
    check_choice("render", "format", format, FORMATS)
    target = Path(path).with_suffix(f".{format}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        picture = digraph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        source = target.with_suffix(".dot")
        source.write_text(digraph.source, encoding="utf-8")
        if quiet:
            return source
        print(
            f"render: Graphviz's `dot` program was not found, so {source} holds the DOT source "
            f"instead of the picture {target}.\n  {INSTALL_HINT}; then run: "
            f"dot -T{format} {source} -o {target}",
            file=sys.stderr,
        )
        return source
    target.write_bytes(picture)
    return target
