"""The `qa` command with the process killed (SIGKILL) or stopped (SIGSTOP) at a named step of a
store write, for the crash tests: `python tests/crash_at.py kill|pause STEP qa-arguments...`.
The writers only announce their steps (qa.store.generations.write_step); this is the only
observer, and it lives with the tests."""
from __future__ import annotations

import os
import signal
import sys

from qa.store import generations


def main() -> None:
    action, step, *arguments = sys.argv[1:]
    sent = {"kill": signal.SIGKILL, "pause": signal.SIGSTOP}[action]
    generations.STEP_OBSERVERS.append(lambda name: os.kill(os.getpid(), sent) if name == step else None)
    sys.argv = ["qa", *arguments]
    from qa.faces.cli import main as qa

    qa()


if __name__ == "__main__":
    main()
