"""The ``autograd-lite`` command. Each subcommand lives in a module of its own here:

* ``demo``  -- train a network on a built-in dataset (the main job);
* ``graph`` -- write example pictures of a computation graph and of a network;
* ``step``  -- step through backpropagation one chain-rule application at a time;
* ``export`` -- write a training step as a standalone Python, C or JavaScript file;
* ``play``  -- write the live training page, with the chain rule inside.

Each module has ``register(subcommands)``, which adds its parser and sets ``run``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from autograd_lite.cli import demo, export, graph, play, step

COMMANDS = (demo, graph, step, export, play)
BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE, as `yes | head`


def _version() -> str:
    try:
        return version("autograd-lite")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Backpropagation you can read: train, draw and step through small networks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad options, as argparse does)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code = args.run(args) or 0
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader left (`autograd-lite step --no-pause | head -1`): stop quietly, as Unix
        # tools do; stdout goes to devnull so Python's own flush at exit has nowhere to fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except OSError as error:  # a folder that cannot be made, a full disk: one line, no traceback
        print(f"autograd-lite {args.command}: cannot write: {error}", file=sys.stderr)
        return 1
