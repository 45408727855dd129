"""``python -m carecal`` and the ``carecal`` command: the command line (GUI by default)."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point: run the command line and exit with its status. The main thread."""
    from carecal.cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
