"""Signing a child ``carecal`` in to an emulator the way a person would: ``accounts add
<provider> --no-browser --all`` prints the sign-in address and this process follows it as a
browser would, the emulator approving at once.

Runs on the test's thread (the output is read on a helper thread); raises AssertionError when
the command fails."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.integration.cli_client import PROJECT_ROOT

SIGN_IN_TIMEOUT_S = 120.0


def sign_in_by_address(
    data_dir: Path, env: dict[str, str], provider: str, address: str, *extra_args: str
) -> str:
    """Run ``carecal accounts add <provider> --no-browser --all <extra_args>`` in ``env`` and
    follow the first printed address matching the pattern ``address``. Returns the command's
    output."""
    cmd = [
        sys.executable, "-m", "carecal", "--data-dir", str(data_dir),
        "accounts", "add", provider, "--no-browser", "--all", *extra_args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []

    def follow() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            found = re.search(address, line)
            if found:
                with httpx.Client(follow_redirects=True, timeout=30) as http:
                    http.get(found.group(0))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=SIGN_IN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, f"sign-in exited {code}:\n{''.join(lines)}\n{err[-3000:]}"
    return "".join(lines)
