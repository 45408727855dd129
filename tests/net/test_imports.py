"""What importing the network layer costs a process: httpx without its own command line."""

from __future__ import annotations

import subprocess
import sys


def test_httpx_comes_without_its_command_line() -> None:
    code = (
        "import sys; import carecal.net.blocking, httpx; "
        "loaded = [m for m in ('httpx._main', 'click', 'pygments') if sys.modules.get(m)]; "
        "sys.exit(repr(loaded) if loaded or not callable(httpx.main) else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
