"""The ``news-assistant`` console script: the CLI of ``assistant.cli`` plus ``serve``, the one
command that needs the web UI (so ``assistant`` never imports ``ui``)."""

from __future__ import annotations

import argparse
import os
import sys

from assistant.cli import main as assistant_main
from assistant.cli import make_assistant


def cmd_serve(args: argparse.Namespace) -> int:
    """``news-assistant serve``: build the bot from the flags, then run the app for it."""
    from ui.app import parse_auth, serve

    auth = parse_auth(getattr(args, "auth", None) or os.environ.get("NEWS_ASSISTANT_AUTH"))
    serve(make_assistant(args), host=args.host, port=args.port, auth=auth,
          demo=bool(getattr(args, "demo", False)))
    return 0


def main(argv: list[str] | None = None) -> int:
    return assistant_main(argv, commands={"serve": cmd_serve})


if __name__ == "__main__":
    sys.exit(main())
