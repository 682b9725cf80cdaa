"""The README keeps its word: every ``python`` block runs (in order, in one namespace, as a
reader pasting them into one session would), and a ``text`` block right after one is what
that block prints. The two set-up commands are still there. (The demo's output shown in the
README is checked by tests/test_cli_demo.py, which runs the demo anyway.)"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
DEMO_OUTPUT = "<!-- demo output: tests/test_cli_demo.py runs the demo and compares -->"


EXCERPT = "<!-- excerpt of the source -->"


def blocks() -> list[tuple[str, str, int, int]]:
    """(language, code, start offset, end offset) of every fenced block, in order."""
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(TEXT)]


def python_blocks_with_output() -> list[tuple[str, str | None]]:
    """Each runnable python block and the text block right after it (None if none is)."""
    found = blocks()
    pairs = []
    for i, (language, code, start, end) in enumerate(found):
        if language != "python" or TEXT[:start].rstrip().endswith(EXCERPT):
            continue
        following = found[i + 1] if i + 1 < len(found) else None
        adjacent = following and not TEXT[end : following[2]].strip()
        pairs.append((code, following[1] if adjacent and following[0] == "text" else None))
    return pairs


def test_source_excerpts_are_still_in_the_source():
    package = Path(__file__).resolve().parent.parent / "autograd_lite"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    excerpts = [
        code for language, code, start, _ in blocks() if TEXT[:start].rstrip().endswith(EXCERPT)
    ]
    assert excerpts
    for code in excerpts:
        for line in code.splitlines():
            assert line.strip() in sources, line


def test_the_readme_has_tested_examples():
    pairs = python_blocks_with_output()
    assert len(pairs) >= 8 and sum(expected is not None for _, expected in pairs) >= 5


def test_every_python_block_runs_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write model.json, pictures, pages
    namespace: dict = {"__name__": "__readme__"}
    for code, expected in python_blocks_with_output():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
        if expected is not None:
            assert out.getvalue() == expected, code


def test_the_set_up_commands_are_kept():
    assert 'pip install ".[dev]" && autograd-lite demo' in TEXT
    assert "python -m pytest -q" in TEXT
    assert "python3 -m venv .venv" in TEXT and 'pip install -e ".[dev]"' in TEXT
