"""One self-contained HTML file: a body from ``visualize/page/``, the data as JSON, the script
and the style, all inline (no network needed; open it with a double-click).

>>> html_path("export_html", "steps").name
'steps.html'
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from autograd_lite.checks import check_instance, check_path

__all__ = ["check_title", "html_path", "write_page"]

PAGE_FILES = Path(__file__).with_name("page")


def html_path(operation: str, path: object, add_suffix: bool = True) -> Path:
    """``path`` as a Path ending in ``.html`` (or ``.htm``), refusing what is not a path;
    with ``add_suffix=False``, exactly ``path`` (as the command line writes what it is given).
    The one place that decides a page's file name.

    >>> html_path("export_html", "steps.htm").name, html_path("p", "steps", False).name
    ('steps.htm', 'steps')
    >>> html_path("export_html", "")
    Traceback (most recent call last):
    ...
    ValueError: export_html: path must name a file, got ''
    """
    name = os.fspath(check_path(operation, "path", path))
    if not name.strip():  # Path("") would be ".", the current folder
        raise ValueError(f"{operation}: path must name a file, got {path!r}")
    target = Path(name)
    if add_suffix and target.suffix.lower() not in (".html", ".htm"):
        target = target.with_name(target.name + ".html")
    return target


def check_title(operation: str, title: object) -> None:
    """Refuse a page title that is not a str (None: the page makes its own).

    >>> check_title("export_html", 7)
    Traceback (most recent call last):
    ...
    TypeError: export_html: title must be a str or None, got int 7
    """
    check_instance(operation, "title", title, (str, type(None)), "a str or None")


def _fill(template: str, parts: dict[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``parts[name]`` (one pass, so the
    inserted script and style are never scanned again)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda match: parts[match.group(1)], template)


def _asset(name: str) -> str:
    return (PAGE_FILES / name).read_text(encoding="utf-8")


def write_page(
    target: Path,
    mode: str,
    title: str,
    parts: dict[str, str],
    data: dict,
    *,
    assets: str = "page",
    max_bytes: int | None = None,
) -> Path:
    """Put the body (``page/{mode}.html`` filled with ``parts``), the data, the script and
    the style (``page/{assets}.js`` and ``.css``) into one file; returns ``target``. A page
    over ``max_bytes`` is refused (a RuntimeError) before anything is written.

    >>> import tempfile
    >>> from pathlib import Path
    >>> page = write_page(Path(tempfile.mkdtemp()) / "p.html", "training", "A title",
    ...                   dict.fromkeys(["subtitle", "network", "chart", "parameters",
    ...                                  "samples", "rule"], ""), {"epochs": []})
    >>> "<title>A title</title>" in page.read_text(encoding="utf-8")
    True
    """
    # "<" escaped: no text in the data can close the <script> element that holds it
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    body = _fill(_asset(f"{mode}.html"), {**parts, "title": html.escape(title)})
    page = _fill(
        _asset("page.html"),
        {
            "title": html.escape(title),
            "mode": mode,
            "style": _asset(f"{assets}.css"),
            "body": body,
            "data": blob,
            "script": _asset(f"{assets}.js"),
        },
    )
    size = len(page.encode("utf-8"))
    if max_bytes is not None and size > max_bytes:
        raise RuntimeError(f"write_page: the page would be {size} bytes, over {max_bytes}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
