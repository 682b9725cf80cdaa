"""`autograd-lite demo`: (to be written)."""

from __future__ import annotations

import argparse


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("demo", help="(not written yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("autograd-lite demo: not written yet")
    return 1
