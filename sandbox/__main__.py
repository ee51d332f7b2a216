"""Command line: ``python -m sandbox serve --port 5005 --seed demo``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from sandbox.server import SEEDS, SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="A local AWS stand-in for the Ops Portal."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Serve the sandbox over HTTP until stopped.")
    serve.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=5005, help="Port to bind; 0 picks a free one.")
    serve.add_argument(
        "--seed", choices=SEEDS, default="demo", help="World to create at start (default demo)."
    )
    serve.add_argument(
        "--creating-seconds",
        type=float,
        default=5.0,
        help="How long a new endpoint stays Creating (default 5).",
    )
    serve.add_argument(
        "--updating-seconds",
        type=float,
        default=None,
        help="How long a weight/capacity update stays Updating (default half of creating).",
    )
    serve.add_argument(
        "--log-requests", action="store_true", help="Log every HTTP request to stderr."
    )
    return parser


def serve(arguments: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, then stop cleanly so the port is released at once."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server = SandboxServer(
        host=arguments.host,
        port=arguments.port,
        seed=arguments.seed,
        creating_seconds=arguments.creating_seconds,
        updating_seconds=arguments.updating_seconds,
        log_requests=arguments.log_requests,
    )
    try:
        server.start()
    except OSError as error:
        print(
            f"sandbox: cannot listen on {arguments.host}:{arguments.port}: {error}", file=sys.stderr
        )
        return 1
    print(f"Sandbox ready at {server.url} (seed: {arguments.seed})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "serve":
        return serve(arguments)
    return 2


if __name__ == "__main__":
    sys.exit(main())
