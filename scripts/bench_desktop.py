#!/usr/bin/env python3
"""The desktop app's start-up and memory, against a minimal Tauri window
(benches/tauri-minimal: one static page, the same Tauri build) measured in
the same run, interleaved. Used by scripts/bench.py; runs alone too:

    python3 scripts/bench_desktop.py [--runs N] [--profile release|debug]

Both apps start under one Xvfb display in the private world of bench.py
(HOME, XDG folders, D-Bus with gnome-keyring), so keyfob's app opens the
real keychain and starts its prompt service as it would on a desktop.

- First window: from the spawn until X reports the app's top-level window
  viewable (polled through Xlib every 2 ms).
- RSS: the sum of VmRSS over the app's process and all its descendants
  (WebKit's web and network processes), 3 s after the window appeared.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import World  # noqa: E402

sys.path.insert(0, str(ROOT / "tests/support"))
from world import X11, xvfb  # noqa: E402

SETTLE_SECS = 3.0
TIMEOUT_SECS = 30.0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def one_start(x: X11, exe: Path, title: str, env: dict) -> tuple[float, int]:
    """Seconds to the first viewable window, and the tree's RSS in KiB."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        while not x.viewable(title):
            if proc.poll() is not None:
                raise RuntimeError(f"{exe.name} exited with {proc.returncode} before its window appeared")
            if time.perf_counter() - start > TIMEOUT_SECS:
                raise RuntimeError(f"{exe.name}: no window after {TIMEOUT_SECS:.0f} s")
            time.sleep(0.002)
        first = time.perf_counter() - start
        time.sleep(SETTLE_SECS)
        rss = rss_kib(descendants(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # The app's WebKit children leave with it; give them a moment so the
    # next start does not share the machine with a dying one.
    time.sleep(0.5)
    return first, rss


def measure(report, runs: int, profile: str) -> None:
    app = ROOT / f"target/{profile}/keyfob-desktop"
    minimal = ROOT / f"target/{profile}/tauri-minimal"
    cli = ROOT / f"target/{profile}/keyfob"
    world = World()
    server = None
    try:
        base = dict(world.env, KEYFOB_CLI=str(cli), WEBKIT_DISABLE_COMPOSITING_MODE="1",
                    LIBGL_ALWAYS_SOFTWARE="1")
        server, display = xvfb(base)
        env = dict(base, DISPLAY=display)
        x = X11(display)
        # One unmeasured start each: the first start pays for cold caches
        # (fontconfig, the page cache) that every later start finds warm.
        one_start(x, app, "keyfob", env)
        one_start(x, minimal, "tauri-minimal", env)
        ours, base_runs = [], []
        for _ in range(runs):
            ours.append(one_start(x, app, "keyfob", env))
            base_runs.append(one_start(x, minimal, "tauri-minimal", env))
    finally:
        if server:
            server.terminate()
            server.wait()
        world.close()

    def med(xs):
        return statistics.median(xs)

    ours_first, base_first = med([f for f, _ in ours]), med([f for f, _ in base_runs])
    ours_rss, base_rss = med([r for _, r in ours]), med([r for _, r in base_runs])
    report("## Desktop app: first window and memory")
    report()
    report(f"`target/{profile}/keyfob-desktop` vs `target/{profile}/tauri-minimal` (benches/tauri-minimal: one "
           f"static page, the same Tauri build), each started {runs} times under Xvfb, interleaved, after one "
           "unmeasured warm-up start each. First window: spawn to the top-level window viewable (Xlib, "
           f"polled every 2 ms). RSS: VmRSS summed over the app and its WebKit processes, {SETTLE_SECS:.0f} s "
           "after the window appeared.")
    report()
    report("| app | first window (median) | RSS of all processes (median) |\n|---|---|---|\n"
           f"| keyfob desktop | {ours_first * 1000:.0f} ms | {ours_rss / 1024:.1f} MiB |\n"
           f"| minimal Tauri window | {base_first * 1000:.0f} ms | {base_rss / 1024:.1f} MiB |")
    report()
    report(f"First window: **{ours_first * 1000:.0f} ms** (goal ≤ 600 ms). "
           f"RSS ratio: **{ours_rss / base_rss:.2f}×** the minimal app (goal ≤ 1.15×).")
    report()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--profile", default="release", choices=["release", "debug"])
    args = ap.parse_args()
    measure(lambda line="": print(line, flush=True), args.runs, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
