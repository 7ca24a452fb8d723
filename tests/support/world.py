"""The Python tests' world, one for all of them (tests/e2e, the benchmarks):
a private user ([`World`]: HOME, XDG folders, a D-Bus session with
gnome-keyring, the moto launcher), an X server (`xvfb`), and a window
probe (`X11`). The Rust tests' world is tests/util.rs.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent


class World:
    """A user of its own: HOME and the XDG folders in a private folder, a
    D-Bus session with gnome-keyring unlocked, and the moto launcher (auth
    on, 127.0.0.1 only); `keyfob` runs the given binary in it."""

    def __init__(self, keyfob: Path, approvals: str = "off") -> None:
        self.cli = keyfob
        self.dir = Path(tempfile.mkdtemp(prefix="keyfob-bench-"))
        for d in ("home", "config", "data", "run"):
            (self.dir / d).mkdir()
        os.chmod(self.dir / "run", 0o700)
        # The approval rule (off: as a setup made before approvals, which
        # the checks of other features are; a new setup's own default is
        # new-programs).
        (self.dir / "config/keyfob").mkdir(mode=0o700)
        (self.dir / "config/keyfob/config.toml").write_text(f'[settings]\napprovals = "{approvals}"\n')
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.dir / "home"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_DATA_HOME": str(self.dir / "data"),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            "LANG": "C.UTF-8",
        }
        self.procs: list[subprocess.Popen] = []
        bus = f"unix:path={self.dir / 'bus'}"
        dbus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1", f"--address={bus}"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        dbus.stdout.readline()
        self.procs.append(dbus)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = bus
        keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=self.env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        keyring.stdin.write(b"pw")
        keyring.stdin.close()
        self.procs.append(keyring)
        for _ in range(300):
            out = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/",
                 "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"],
                env=self.env, capture_output=True, text=True,
            ).stdout
            if "boolean true" in out:
                break
            time.sleep(0.05)
        port_file = self.dir / "moto.json"
        moto = subprocess.Popen(
            [sys.executable, str(SUPPORT / "moto_launcher.py"), "--port-file", str(port_file)],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "moto.log", "w"),
        )
        self.procs.append(moto)
        for _ in range(600):
            try:
                self.moto = json.loads(port_file.read_text())
                break
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.1)
        self.port_file = port_file
        self.endpoint = f"http://127.0.0.1:{self.moto['port']}"
        self.env.update({
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(self.dir / "home/.aws/config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.dir / "home/.aws/credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        })

    def start_tpm(self, tries: int = 32) -> str:
        """Gives this world a software TPM (swtpm; ended with the world) and
        points every later keyfob at it through TPM2TOOLS_TCTI: identities
        added from then on are bound to it. Its dictionary-attack limit is
        `tries` wrong PINs, one forgiven every 2 s (libtpms's own defaults
        wait 1000 s). Returns the TCTI."""
        import socket
        for _ in range(20):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            state = self.dir / f"swtpm-{port}"
            state.mkdir()
            tpm = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                                    "--server", f"type=tcp,port={port}", "--ctrl", f"type=tcp,port={port + 1}",
                                    "--flags", "not-need-init,startup-clear"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(500):
                if tpm.poll() is not None:
                    break  # the port pair was taken: another
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    tcti = f"swtpm:host=127.0.0.1,port={port}"
                    self.procs.append(tpm)
                    subprocess.run(["tpm2_dictionarylockout", "-s", "-n", str(tries), "-t", "2", "-l", "2"],
                                   env={**os.environ, "TPM2TOOLS_TCTI": tcti, "TSS2_LOG": "all+NONE"},
                                   check=True, capture_output=True)
                    self.env["TPM2TOOLS_TCTI"] = tcti
                    return tcti
                except OSError:
                    time.sleep(0.02)
            tpm.kill()
            tpm.wait()
        raise RuntimeError("swtpm did not start on 20 ports")

    def stop_tpm(self) -> None:
        """Ends this world's software TPM (as a cleared TPM or a new
        machine would leave its identities): keyfob finds none there."""
        for p in [p for p in self.procs if p.args[0] == "swtpm"]:
            p.kill()
            p.wait()
            self.procs.remove(p)

    def admin(self, *args: str) -> dict:
        out = subprocess.run(
            [sys.executable, str(SUPPORT / "iam_admin.py"), str(self.port_file), *args],
            capture_output=True, text=True, check=True,
        )
        return json.loads(out.stdout)

    def keyfob(self, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["setsid", "--wait", str(self.cli), *args], env=self.env, input=stdin,
            capture_output=True, text=True, check=check,
        )

    def calls(self) -> dict:
        import urllib.request
        with urllib.request.urlopen(self.endpoint + "/keyfob-test/calls", timeout=10) as r:
            return json.load(r)

    def close(self) -> None:
        # The keyfob agent the commands started (its lock names its pid).
        try:
            os.kill(int((self.dir / "run/keyfob/agent.lock").read_text().split()[0]), 9)
        except (OSError, ValueError, IndexError):
            pass
        end(self.procs)
        shutil.rmtree(self.dir, ignore_errors=True)


def xvfb(env: dict) -> tuple[subprocess.Popen, str]:
    for n in range(150, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    display = f":{n}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            return proc, display
        time.sleep(0.025)
    raise RuntimeError("Xvfb did not start")


class X11:
    """Just enough of Xlib (through ctypes, no extra package) to ask whether
    a top-level window with a given name is viewable; a query takes well
    under a millisecond, so polling does not load the machine."""

    IS_VIEWABLE = 2

    class Attributes(ctypes.Structure):
        # XWindowAttributes, up to map_state (the fields after it unused
        # but present, so the server's reply fits).
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int),
                    ("height", ctypes.c_int), ("border_width", ctypes.c_int), ("depth", ctypes.c_int),
                    ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong), ("class_", ctypes.c_int),
                    ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int),
                    ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
                    ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
                    ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int),
                    ("map_state", ctypes.c_int), ("rest", ctypes.c_byte * 64)]

    def __init__(self, display: str) -> None:
        self.lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.lib.XOpenDisplay.restype = ctypes.c_void_p
        self.lib.XDefaultRootWindow.restype = ctypes.c_ulong
        self.lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.lib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                        ctypes.POINTER(ctypes.c_ulong),
                                        ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                        ctypes.POINTER(ctypes.c_uint)]
        self.lib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
        self.lib.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                                  ctypes.POINTER(X11.Attributes)]
        self.lib.XFree.argtypes = [ctypes.c_void_p]
        self.dpy = self.lib.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {display}")
        self.root = self.lib.XDefaultRootWindow(self.dpy)

    def viewable(self, title: str) -> bool:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not self.lib.XQueryTree(self.dpy, self.root, ctypes.byref(root), ctypes.byref(parent),
                                   ctypes.byref(children), ctypes.byref(count)):
            return False
        try:
            for i in range(count.value):
                name = ctypes.c_char_p()
                if not self.lib.XFetchName(self.dpy, children[i], ctypes.byref(name)) or not name.value:
                    continue
                matches = name.value.decode(errors="replace") == title
                self.lib.XFree(name)
                attrs = X11.Attributes()
                if matches and self.lib.XGetWindowAttributes(self.dpy, children[i], ctypes.byref(attrs)) \
                        and attrs.map_state == X11.IS_VIEWABLE:
                    return True
            return False
        finally:
            if children:
                self.lib.XFree(children)


def end(procs: list[subprocess.Popen]) -> None:
    """Ends what a test started, last started first: asked, then killed
    after 10 s."""
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
