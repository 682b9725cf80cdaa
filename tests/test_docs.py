"""The documentation keeps its word: every ``python`` block of README.md and docs/*.md runs on
its own (a fresh namespace, in an empty folder, as a reader pasting that one block would), and a
``text`` block right after one is exactly what that block prints.

A block marked ``<!-- excerpt of the source -->`` is a quotation of the package instead: each of
its lines must still be in the source. Other fences (``bash``, ``text`` on their own, ``c``) are
read, not run. (The demo's output in the README is checked by tests/test_cli_demo.py, which runs
the demo anyway.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
TEXT = README.read_text(encoding="utf-8")  # tests/test_cli_demo.py reads the demo's output here
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
DEMO_OUTPUT = "<!-- demo output: tests/test_cli_demo.py runs the demo and compares -->"
EXCERPT = "<!-- excerpt of the source -->"


class Block(NamedTuple):
    page: Path
    line: int  # of the opening fence, 1-based, for the test's id
    code: str
    expected: str | None  # what it prints: the text block right after it, if any
    excerpt: bool


def blocks_of(page: Path) -> list[Block]:
    """Every python block of one page, with the text block that follows it."""
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        after = fences[i + 1] if i + 1 < len(fences) else None
        adjacent = after is not None and not text[fence.end() : after.start()].strip()
        output = after.group(2) if adjacent and after.group(1) == "text" else None
        excerpt = text[: fence.start()].rstrip().endswith(EXCERPT)
        line = text.count("\n", 0, fence.start()) + 1
        found.append(Block(page, line, fence.group(2), output, excerpt))
    return found


BLOCKS = [block for page in PAGES for block in blocks_of(page)]
RUNNABLE = [block for block in BLOCKS if not block.excerpt]
EXCERPTS = [block for block in BLOCKS if block.excerpt]


# What a block needs beyond `.[dev]`, read off its text: where it is missing the block skips
# with a one-line reason (CI has everything, and there a skip fails the run).
NEEDS = [
    (re.compile(r"\btorch\b"), "torch", 'the torch extra: pip install ".[torch]"'),
    (re.compile(r"digits\("), "sklearn", 'the datasets extra: pip install ".[datasets]"'),
    (re.compile(r"numpy"), "numpy", 'the numpy extra: pip install ".[numpy]"'),
]
DRAWS = re.compile(r"\b(render|export_html|export_training_html)\(")


REPLAYS_IN_C = re.compile(r"""replay\([^)]*["']c["']\)""")  # the c backend: a compiler


def skip_unless_installed(code: str) -> None:
    for pattern, module, what in NEEDS:
        if pattern.search(code) and importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {what}")
    if REPLAYS_IN_C.search(code) and not any(map(shutil.which, ("cc", "gcc", "clang"))):
        pytest.skip("needs a C compiler (cc, gcc or clang) for the c replay")
    if DRAWS.search(code) and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot: apt-get install graphviz")


def block_id(block: Block) -> str:
    return f"{block.page.relative_to(ROOT)}:{block.line}"


@pytest.mark.parametrize("block", RUNNABLE, ids=block_id)
def test_the_block_runs_alone_and_prints_what_the_page_shows(block, tmp_path, monkeypatch):
    skip_unless_installed(block.code)
    monkeypatch.chdir(tmp_path)  # blocks write model.json, pictures, pages
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.code, block_id(block), "exec"), {"__name__": "__docs__"})  # noqa: S102
    if block.expected is not None:
        assert out.getvalue() == block.expected


@pytest.mark.parametrize("block", EXCERPTS, ids=block_id)
def test_an_excerpt_is_still_in_the_source(block):
    package = ROOT / "autograd_lite"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    for line in block.code.splitlines():
        assert line.strip() in sources, line


def test_the_readme_is_a_short_path_with_tested_examples():
    assert len(TEXT.splitlines()) < 250
    readme = [block for block in RUNNABLE if block.page == README]
    assert len(readme) >= 4 and all(block.expected is not None for block in readme)


def test_every_docs_page_is_linked_from_the_readme():
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in TEXT, page.name


def test_the_runner_finds_blocks_outputs_and_excerpts(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(1)\n```\n\n```text\n1\n```\n"
        "```python\nx = 2\n```\nprose\n```text\nnot its output\n```\n"
        f"{EXCERPT}\n```python\ndef f(): ...\n```\n",
        encoding="utf-8",
    )
    first, second, third = blocks_of(page)
    assert (first.code, first.expected, first.excerpt) == ("print(1)\n", "1\n", False)
    assert second.expected is None and not second.excerpt  # prose between: not its output
    assert third.excerpt and third.line == 16


def test_the_set_up_commands_are_kept():
    assert "pip install . && autograd-lite demo" in TEXT
    assert 'pip install ".[dev]" && python -m pytest -q' in TEXT
    assert "python3 -m venv .venv" in TEXT
