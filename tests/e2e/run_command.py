#!/usr/bin/env python3
"""The README's run command (`scripts/run`), as a new user runs it, checked
from the clone CI tests: once without a display and once under Xvfb, each
in a fresh HOME so nothing a developer installed by hand can make it pass.

- Headless: the CLI and the app are installed in ~/.local/bin, the menu
  entry names the installed app, `keyfob --version` runs, and the script
  ends by printing the CLI's help.
- Under Xvfb: the app's window appears; the script (which became the app)
  is then ended with its whole process group.

    python3 tests/e2e/run_command.py [--profile debug|release]

`--profile debug` (what CI uses) installs the debug build the E2E tests
already made, so this check adds no build of its own; the script's steps
are the same for both profiles.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests/support"))
from world import X11, xvfb  # noqa: E402  (the test world)

WINDOW_TIMEOUT_SECS = 120.0


def fresh_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "DBUS_", "KEYFOB_", "AWS_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(home)
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    # Cargo and rustup live where the developer put them, not in the new HOME.
    for var, default in (("CARGO_HOME", Path.home() / ".cargo"), ("RUSTUP_HOME", Path.home() / ".rustup")):
        env.setdefault(var, str(os.environ.get(var, default)))
    # npm's download cache too, so `npm ci` does not fetch everything again.
    env.setdefault("npm_config_cache", str(Path.home() / ".npm"))
    return env


def fail(message: str, out: str = "") -> None:
    print(f"run_command: FAIL: {message}", file=sys.stderr)
    if out:
        print(out[-4000:], file=sys.stderr)
    sys.exit(1)


def headless(profile: str) -> None:
    with tempfile.TemporaryDirectory(prefix="keyfob-run-") as tmp:
        home = Path(tmp)
        env = fresh_env(home)
        env["KEYFOB_BUILD_PROFILE"] = profile
        started = time.monotonic()
        proc = subprocess.run([str(ROOT / "scripts/run")], env=env, cwd=ROOT, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=1800)
        took = time.monotonic() - started
        both = proc.stdout + proc.stderr
        if proc.returncode != 0:
            fail(f"scripts/run exited {proc.returncode}", both)
        cli, app = home / ".local/bin/keyfob", home / ".local/bin/keyfob-desktop"
        for exe in (cli, app):
            if not (exe.is_file() and os.access(exe, os.X_OK)):
                fail(f"{exe} was not installed", both)
        if f"installed {cli}" not in proc.stderr or str(app) not in proc.stderr:
            fail("scripts/run did not say where it installed the CLI and the app", both)
        if "Usage: keyfob" not in proc.stdout:
            fail("without a display scripts/run should print the CLI's help", both)
        version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, env=env)
        if version.returncode != 0 or not version.stdout.startswith("keyfob "):
            fail(f"{cli} --version: {version.stdout!r} {version.stderr!r}")
        entry = (home / ".local/share/applications/keyfob.desktop").read_text()
        if f"Exec={app}\n" not in entry or "Type=Application\n" not in entry:
            fail(f"the menu entry does not start {app}:\n{entry}")
        if not (home / ".local/share/icons/hicolor/128x128/apps/keyfob-desktop.png").is_file():
            fail("the menu entry's icon was not installed")
        print(f"run_command: headless: both installed, {version.stdout.strip()}, "
              f"menu entry ok ({took:.1f} s)")


def with_display(profile: str) -> None:
    with tempfile.TemporaryDirectory(prefix="keyfob-run-") as tmp:
        home = Path(tmp)
        env = fresh_env(home)
        env["KEYFOB_BUILD_PROFILE"] = profile
        server, display = xvfb(env)
        log = home / "run.log"
        proc = None
        try:
            env["DISPLAY"] = display
            x = X11(display)
            started = time.monotonic()
            with open(log, "w") as out:
                # Its own process group: the script execs the app, and the
                # app's WebKit processes must end with it.
                proc = subprocess.Popen([str(ROOT / "scripts/run")], env=env, cwd=ROOT, stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            while not x.viewable("keyfob"):
                if proc.poll() is not None:
                    fail(f"scripts/run exited {proc.returncode} before the app's window appeared",
                         log.read_text())
                if time.monotonic() - started > WINDOW_TIMEOUT_SECS:
                    fail(f"no keyfob window within {WINDOW_TIMEOUT_SECS:.0f} s", log.read_text())
                time.sleep(0.05)
            took = time.monotonic() - started
            if "starting the keyfob app" not in log.read_text():
                fail("scripts/run did not say it starts the app", log.read_text())
            print(f"run_command: under Xvfb: the app's window appeared after {took:.1f} s")
        finally:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            if proc is not None:
                # Whatever of the group outlived the app (WebKit helpers).
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["debug", "release"], default="release")
    args = parser.parse_args()
    headless(args.profile)
    with_display(args.profile)


if __name__ == "__main__":
    main()
