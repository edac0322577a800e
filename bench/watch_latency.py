"""From a saved file to answerable, in a watched folder: the default embedder, the seeds plus one
new file per round; the time from the write to the first search that finds it (polled every 50 ms).

    .venv/bin/python -m bench.watch_latency --rounds 5
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from qa.engine import Engine
from qa.ingest.watch import watch
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-watch-"))
    folder = work / "news"
    shutil.copytree(ROOT / "seeds", folder)
    engine = Engine(Settings(store_dir=work / "store"))
    reports, stop = [], threading.Event()
    threading.Thread(target=watch, args=(engine.ingest, [folder], stop, reports.append), daemon=True).start()
    while not reports:
        time.sleep(0.1)
    engine.search("warm up", 1)
    seconds = []
    for i in range(args.rounds):
        marker = f"lighthousekeeper{i}zeta"
        started = time.perf_counter()
        (folder / f"note-{i}.txt").write_text(f"Harbour note {i}\n\nThe {marker} repainted the beacon "
                                              f"on Tuesday after the storm.\n", encoding="utf-8")
        while not any(marker in h.text for h in engine.search(marker, 3)):
            time.sleep(0.05)
        seconds.append(time.perf_counter() - started)
    stop.set()
    print(f"saved file to answerable: median {statistics.median(seconds):.2f} s over {len(seconds)} "
          f"(min {min(seconds):.2f}, max {max(seconds):.2f}); watch debounce 0.4 s")


if __name__ == "__main__":
    main()
