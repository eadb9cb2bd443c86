"""The ``port-bridge`` command line.

Each subcommand is one way of running the product (the intake service, the controller, both
together, the self-contained sandbox). This module only parses arguments and hands over; the
work lives in the modules named by each subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from port_bridge import __version__

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="port-bridge",
        description=(
            "Backend for Port self-service actions on Kratix platforms: verifies Port's signed "
            "webhooks, turns each run into a Kratix resource request, follows Kratix until the "
            "request has really succeeded or failed, and reports the result to Port."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(command=None)
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command | None = args.command
    if command is None:
        parser.print_help()
        return 0
    return command(args)
