#!/usr/bin/env python3
"""A second start of the desktop app without a D-Bus session bus: the real
debug build under Xvfb, in a fresh HOME, once with DBUS_SESSION_BUS_ADDRESS
unset and once pointing at a socket that does not exist.

The first start runs until its window is up and it is the agent; its
window is then closed (to the tray, as a person closes it). The second
start must end at once, successfully, saying the app runs already, and
bring the first's window back; the first must stay as it was: running,
and still the agent (`keyfob agent --status` names its pid and "the
desktop app").

Regression: tauri-plugin-single-instance finds the first app over D-Bus
only. Without a bus the second start launched in full, and at its start
asked the running agent (the first app) to hand over and stop: it ran on
as a second app (this script gave up on it after 10 s), and the first was
no longer the agent.

    python3 tests/e2e/second_start.py [--app PATH] [--cli PATH]

Defaults: target/debug/keyfob-desktop, target/debug/keyfob. Needs
python-xlib (target/test-venv, as tests/e2e/desktop.py). Prints one line
per case (with how long the second start took); exits 1 if one failed.
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
# Far more than a second start needs (it exits before it builds a window);
# the old code never exited, so any bound shows the difference.
SECOND_TIMEOUT_SECS = 10.0


def fresh_env(home: Path, bus: str | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "DBUS_", "KEYFOB_", "AWS_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(home)
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_RUNTIME_DIR", "run"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir(mode=0o700)
        env[var] = str(home / sub)
    if bus is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus
    # No GPU under Xvfb; keeps WebKit from trying.
    env.update(WEBKIT_DISABLE_COMPOSITING_MODE="1", LIBGL_ALWAYS_SOFTWARE="1")
    return env


def end_group(proc: subprocess.Popen) -> None:
    """Ends `proc` and whatever of its process group outlived it (WebKit)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def close_window(display: str, title: str) -> None:
    """Asks the top-level window named `title` to close, as a window
    manager's close button does (WM_DELETE_WINDOW)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay
    from Xlib.protocol import event

    dpy = xdisplay.Display(display)
    try:
        protocols = dpy.intern_atom("WM_PROTOCOLS")
        delete = dpy.intern_atom("WM_DELETE_WINDOW")
        for w in dpy.screen().root.query_tree().children:
            if w.get_full_property(Xatom.WM_NAME, X.AnyPropertyType) is None or w.get_wm_name() != title:
                continue
            w.send_event(event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])))
        dpy.sync()
    finally:
        dpy.close()


def wait_until(what: str, ok, secs: float = 10.0) -> None:
    deadline = time.monotonic() + secs
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {secs:.0f} s")
        time.sleep(0.05)


def agent_status(cli: Path, env: dict) -> str:
    return subprocess.run([str(cli), "agent", "--status"], env=env, capture_output=True, text=True,
                          timeout=30).stdout.strip()


def case(name: str, bus: str | None, app: Path, cli: Path) -> bool:
    with tempfile.TemporaryDirectory(prefix="keyfob-second-") as tmp:
        home = Path(tmp)
        if bus is not None:
            bus = bus.format(home=home)
        env = fresh_env(home, bus)
        server, display = xvfb(env)
        env["DISPLAY"] = display
        first = second = None
        log = home / "first.log"
        try:
            x = X11(display)
            with open(log, "w") as out:
                first = subprocess.Popen([str(app)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            started = time.monotonic()
            # Up: its window shows and it answers as the agent.
            while not (x.viewable("keyfob") and f"pid {first.pid}, the desktop app" in agent_status(cli, env)):
                if first.poll() is not None:
                    raise AssertionError(f"the first start exited {first.returncode}:\n{log.read_text()[-3000:]}")
                if time.monotonic() - started > WINDOW_TIMEOUT_SECS:
                    raise AssertionError(f"the first start was not up within {WINDOW_TIMEOUT_SECS:.0f} s:\n"
                                         + log.read_text()[-3000:])
                time.sleep(0.1)

            # To the tray: the second start must bring it back.
            close_window(display, "keyfob")
            wait_until("the first app's window hides when closed", lambda: not x.viewable("keyfob"))
            assert first.poll() is None, f"closing the window ended the app:\n{log.read_text()[-3000:]}"

            begun = time.monotonic()
            second = subprocess.Popen([str(app)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, text=True, start_new_session=True)
            try:
                out, err = second.communicate(timeout=SECOND_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                end_group(second)
                raise AssertionError(f"the second start still ran after {SECOND_TIMEOUT_SECS:.0f} s "
                                     f"(the agent now: {agent_status(cli, env)!r})")
            took = time.monotonic() - begun
            assert second.returncode == 0, f"the second start exited {second.returncode}: {err!r}"
            assert "runs already" in err, f"the second start did not say why it ends: {err!r}"
            assert first.poll() is None, f"the first app is gone:\n{log.read_text()[-3000:]}"
            status = agent_status(cli, env)
            assert f"pid {first.pid}, the desktop app" in status, f"the first app is no longer the agent: {status!r}"
            wait_until("the second start brings the first app's window back", lambda: x.viewable("keyfob"))
            print(f"ok    {name}: the second start ended in {took:.2f} s: {err.strip()}")
            return True
        except AssertionError as e:
            print(f"FAIL  {name}: {e}")
            return False
        finally:
            for p in (second, first):
                if p is not None:
                    end_group(p)
            server.terminate()
            server.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--app", default=str(ROOT / "target/debug/keyfob-desktop"))
    ap.add_argument("--cli", default=str(ROOT / "target/debug/keyfob"))
    args = ap.parse_args()
    app, cli = Path(args.app), Path(args.cli)
    cases = [
        ("no D-Bus address", None),
        ("a D-Bus address pointing nowhere", "unix:path={home}/no-bus"),
    ]
    failed = sum(not case(name, bus, app, cli) for name, bus in cases)
    print(f"second start e2e: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
