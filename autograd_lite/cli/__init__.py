"""The ``autograd-lite`` command. Each subcommand lives in a module of its own here:

* ``demo``  -- train a network on a built-in dataset (the main job);
* ``graph`` -- write example pictures of a computation graph and of a network;
* ``step``  -- step through backpropagation one chain-rule application at a time;
* ``export`` -- write a training step as a standalone Python, C or JavaScript file.

Each module has ``register(subcommands)``, which adds its parser and sets ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from autograd_lite.cli import demo, export, graph, step

COMMANDS = (demo, graph, step, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Backpropagation you can read: train, draw and step through small networks.",
    )
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
        return args.run(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
