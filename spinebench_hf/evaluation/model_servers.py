"""Starting and stopping a model server for the sweep: any command, a URL that answers once it is ready, a timeout.

`vllm serve MODEL ...` is one such command (vLLM does the batching; nothing here reimplements it); a test starts a
small local server the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from ..errors import SpineBenchError


class ServerError(SpineBenchError):
    """The model server did not start, or stopped, before it answered."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free when asked (another process may take it before it is used)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Whether `url` answers within 2 s with a status below 500 (a 4xx counts: the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def running_server(command: list[str], ready_url: str, *, timeout: float, log: Path) -> Iterator[subprocess.Popen]:
    """The server started with `command`, once `ready_url` answers; stopped (its process group) on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as output:
        try:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise ServerError(f"cannot start {command[0]!r}: {exc}") from None
        try:
            deadline = time.monotonic() + timeout
            while not answers(ready_url):
                if process.poll() is not None:
                    raise ServerError(
                        f"{' '.join(command)} exited with {process.returncode} before {ready_url} "
                        f"answered; its output is in {log}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{ready_url} did not answer within {timeout:g} s of starting "
                        f"{' '.join(command)}; its output is in {log}"
                    )
                time.sleep(0.2)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process's group, then SIGKILL it if it has not exited within `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
