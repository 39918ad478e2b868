"""`phoenix-verify`: one entry point, one module per subcommand (each exposes `register(subparsers)`)."""
from __future__ import annotations

import argparse
import importlib
import signal
import sys
from typing import NoReturn

from phoenix_model.inventory import InventoryError
from phoenix_verify.target import TargetError

SUBCOMMAND_MODULES = ("phoenix_verify.suite.check", "phoenix_verify.suite.cli", "phoenix_verify.diagnosis.cli", "phoenix_verify.gateway.cli", "phoenix_verify.nightly.cli",
                      "phoenix_verify.promotion.cli")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (the project's rule for bad input), not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {one_line(message)} (see --help)\n")


def one_line(text: str) -> str:
    """Control characters from user input (a newline in an argument or a path) shown escaped, never as new lines."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="phoenix-verify", description="Phoenix Hypervisor conformance suite")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly, as Unix tools do
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:           # pytest's own options follow: argparse must not see them
        from phoenix_verify.suite import check
        return check.run(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InventoryError, TargetError) as exc:
        print(f"phoenix-verify: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("phoenix-verify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
