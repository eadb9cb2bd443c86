"""The ``port-bridge`` command line.

Each subcommand is one way of running the product: the intake service, the controller, both in
one pod, or the self-contained sandbox. This module parses arguments and hands over; the work
lives in the modules each command imports when it runs (nothing heavy is imported before a
command needs it, which also lets ``serve`` prepare prometheus-client's multiprocess directory
before anything imports it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from port_bridge import __version__
from port_bridge.settings import ConfigurationError

Command = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    from port_bridge.runners import serve

    return serve()


def _controller(args: argparse.Namespace) -> int:
    from port_bridge.runners import controller

    return controller()


def _run(args: argparse.Namespace) -> int:
    from port_bridge.runners import run_both

    return run_both()


def _apply(args: argparse.Namespace) -> int:
    from port_bridge.portmodel.command import run_apply

    return run_apply(dry_run=args.dry_run, prune=args.prune)


SANDBOX_ENTRY_POINTS = "port_bridge.sandbox"
SANDBOX_MISSING = (
    "the sandbox is not installed (it is a distribution of its own, kept out of the runtime image): "
    "run `make sandbox` in a clone, or `pip install ./sandbox` there"
)


def _sandbox(args: argparse.Namespace) -> int:
    """The sandbox is found by its entry point, so the product never imports it."""
    found = entry_points(group=SANDBOX_ENTRY_POINTS, name="run")
    if not found:
        raise ConfigurationError(SANDBOX_MISSING)
    run: Callable[..., int] = next(iter(found)).load()
    return run(era=args.era, keep_running=args.keep_running, speed=args.speed)


def _scorecards(args: argparse.Namespace) -> int:
    from port_bridge.scorecards.command import Options, run_scorecards

    options = Options(
        blueprint=args.blueprint, file=args.file, scorecards=args.scorecards, output=args.output
    )
    return run_scorecards(options, out=sys.stdout, err=sys.stderr)


def _generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from port_bridge.generate.command import run_generate

    return run_generate(
        args.promise, out=Path(args.out), namespaces=args.namespace or ["default"], force=args.force
    )


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number (2 = twice as fast)")
    return value


def _invoke(args: argparse.Namespace) -> int:
    from port_bridge.invoke.command import InvokeOptions, run_invoke
    from port_bridge.invoke.source import RunFlags
    from port_bridge.mapping.actions import parse_duration

    try:
        timeout = parse_duration(args.timeout) if args.timeout is not None else None
    except ValueError as error:
        raise ConfigurationError(f"--timeout: {error}") from None
    if not args.poll > 0:
        raise ConfigurationError(f"--poll: must be a number of seconds above 0, not {args.poll:g}")
    flags = RunFlags(
        port_context=args.port_context,
        port_payload=args.port_payload,
        run_id=args.run_id,
        action=args.action,
        inputs=args.inputs,
        entity=args.entity,
    )
    options = InvokeOptions(run=flags, wait=args.wait, timeout_seconds=timeout, poll_seconds=args.poll)
    return run_invoke(options)


def _add_invoke(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    invoke = commands.add_parser(
        "invoke",
        help="hand a Port run to port-bridge from a workflow step (GitHub Actions), optionally waiting",
        description=(
            "Check and store a Port run given by a workflow's inputs, as intake does for a webhook; "
            "the controller in the cluster takes it from there. With --wait, follow the run to its "
            "end. Exit status: 0 stored (with --wait: succeeded), 1 refused or failed, 2 a setting "
            "or option to fix, 3 --timeout passed first."
        ),
    )
    invoke.add_argument(
        "--port-context",
        metavar="JSON",
        help="the run as the action's port_context input (default: $PORT_CONTEXT)",
    )
    invoke.add_argument(
        "--port-payload",
        metavar="JSON",
        help="the run as the legacy port_payload envelope (or $PORT_PAYLOAD)",
    )
    invoke.add_argument("--run-id", metavar="ID", help="the Port run's id (replaces the context's)")
    invoke.add_argument("--action", metavar="IDENTIFIER", help="the Port action's identifier")
    invoke.add_argument("--inputs", metavar="JSON", help="the run's inputs, a JSON object")
    invoke.add_argument("--entity", metavar="JSON", help="the selected entity (DAY-2, DELETE), a JSON object")
    invoke.add_argument(
        "--wait", action="store_true", help="follow the run until port-bridge has reported its end to Port"
    )
    invoke.add_argument(
        "--timeout",
        metavar="DURATION",
        help="with --wait, stop waiting after this long (90s, 30m, 1h; default: the action's timeout + 5m)",
    )
    invoke.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="with --wait, read the run this often (default 2)",
    )
    invoke.set_defaults(command=_invoke)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="port-bridge",
        description=(
            "Backend for Port self-service actions on Kratix platforms: verifies Port's signed "
            "webhooks, turns each run into a Kratix resource request, follows Kratix until the "
            "request has really succeeded or failed, and reports the result to Port. Settings come "
            "from the environment (see the README)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run intake (the webhook Port calls) under gunicorn")
    serve.set_defaults(command=_serve)
    controller = commands.add_parser(
        "controller", help="run the controller (one active replica, Lease election)"
    )
    controller.set_defaults(command=_controller)
    run = commands.add_parser("run", help="run intake and the controller together (single-pod installs)")
    run.set_defaults(command=_run)
    apply = commands.add_parser(
        "apply",
        help="push blueprints/, actions/ and scorecards/ to Port, showing what changes",
        description=(
            "Make Port's blueprints, actions and scorecards what the files in PORT_BRIDGE_CONFIG_DIR "
            "say, printing the differences first. Never deletes what port-bridge did not create."
        ),
    )
    apply.add_argument("--dry-run", action="store_true", help="print the differences, write nothing")
    apply.add_argument(
        "--prune",
        action="store_true",
        help="also delete what port-bridge created that the files no longer have",
    )
    apply.set_defaults(command=_apply)
    sandbox = commands.add_parser(
        "sandbox",
        help="the whole flow on this machine: emulated Kubernetes, Kratix and Port, no accounts needed",
    )
    sandbox.add_argument(
        "--era",
        choices=("current", "2024", "legacy"),
        default="current",
        help="which Kratix release's status format the simulator writes (default: current)",
    )
    sandbox.add_argument(
        "--keep-running",
        action="store_true",
        help="keep everything serving after the demo, until interrupted",
    )
    sandbox.add_argument(
        "--speed",
        type=_positive_number,
        default=1.0,
        help="how fast simulated Kratix works (2 = twice as fast; default 1)",
    )
    sandbox.set_defaults(command=_sandbox)
    scorecards = commands.add_parser(
        "scorecards",
        help="the level each entity reaches on each scorecard, and every failing rule with its value",
    )
    scorecards.add_argument(
        "--blueprint",
        metavar="BP",
        help="only this blueprint's entities (default: every one with scorecards)",
    )
    scorecards.add_argument(
        "--file",
        metavar="ENTITIES.json",
        type=Path,
        help='entities from this file (a list, or Port\'s {"entities": [...]}) instead of from Port',
    )
    scorecards.add_argument(
        "--scorecards",
        metavar="DIR",
        help="scorecards from DIR/<blueprint>/*.json, or from Port with 'port' "
        "(default: $PORT_BRIDGE_CONFIG_DIR/scorecards)",
    )
    scorecards.add_argument("--output", choices=("table", "json"), default="table", help="default: table")
    scorecards.set_defaults(command=_scorecards)
    generate = commands.add_parser(
        "generate",
        help="write a Promise's blueprint and create/change/delete action files, from its request API",
    )
    generate.add_argument(
        "promise", metavar="PROMISE", help="a Promise file, or a Promise's name in the cluster"
    )
    generate.add_argument(
        "--out", default=".", metavar="DIR", help="where blueprints/ and actions/ go (default: .)"
    )
    generate.add_argument(
        "--namespace",
        action="append",
        metavar="NS",
        help="a namespace requests may go to (repeat for more; the first is the default; default: default)",
    )
    generate.add_argument("--force", action="store_true", help="replace files whose content differs")
    generate.set_defaults(command=_generate)
    _add_invoke(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command | None = args.command
    if command is None:
        parser.print_help()
        return 0
    try:
        return command(args)
    except KeyboardInterrupt:
        return 130
    except ConfigurationError as error:
        print(f"port-bridge: {' '.join(str(error).split())}", file=sys.stderr)  # one line, whatever it quotes
        return 2
