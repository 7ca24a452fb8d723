#!/usr/bin/env python3
"""End-to-end tests of the desktop app: the real debug build under Xvfb,
driven through WebKitWebDriver with Selenium, against a
real gnome-keyring and the moto emulator with auth checks on (the private
world of scripts/bench.py: HOME, XDG folders, D-Bus, keyring, moto).

Usage: tests/e2e/desktop.py [--app PATH] [--cli PATH] [--driver PATH]
                            [--screenshots DIR]
Defaults: target/debug/keyfob-desktop, target/debug/keyfob,
WebKitWebDriver on PATH, docs/screenshots. Prints one line per case
and a summary; exits 1 if any case failed.

The cases run in order on one app instance (each builds on the last, as a
person would): the first-run view, add with a wrong secret, add, unlock and
lock in the main view, search and filters, make default and copy export
lines, the quick switcher by keyboard alone, a role profile with an external
ID from the identity's page, credential-process answered through the app's
prompt, a refused prompt, another uid on the prompt socket, settings (the
global shortcut included), approvals (turned on from the Approvals screen;
a new program's approval prompt allowed until lock, denied by keyboard,
revoked; the access log with its timelines, live), a role the external-ID guard refuses (then
accepted unguarded) with its audit badge, the access-keys panel and a
rotation through the wizard on the identity's page, the provider page, the
tray read and clicked over D-Bus (tests/support/sni_host.py), and the
memory check after "Lock all".

Every screen is checked with axe-core (ui/node_modules/axe-core, injected
through WebDriver) in the light and the dark theme: a serious or critical
violation fails the case. With --screenshots each is also photographed in
both themes (NAME-light.png, NAME-dark.png).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/support"))
from world import World, end, xvfb  # noqa: E402  (the test world, shared with the benchmarks)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import memory  # noqa: E402  (core dumps after locking)

import sni_host  # noqa: E402  (the tray's StatusNotifierItem host)
import notify_host  # noqa: E402  (a notification service, for the first-use notification)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.common.options import ArgOptions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

AXE_SOURCE = ROOT / "ui/node_modules/axe-core/axe.min.js"

PIN = "e2e-pin-123456"
ACCOUNT = "123456789012"


class Desktop:
    """Xvfb, WebKitWebDriver and a WebDriver session on the app."""

    def __init__(self, world: World, app: Path, cli: Path, driver: Path) -> None:
        self.world = world
        self.cli = cli
        self.procs: list[subprocess.Popen] = []
        # The panel's side of the tray, before the app looks for it.
        self.watcher = sni_host.Watcher(world.env["DBUS_SESSION_BUS_ADDRESS"])
        display = self._xvfb()
        # A stand-in browser first on PATH as xdg-open (what the Console
        # button's `open` runs): it fetches the address it is given once,
        # without following the redirect, and records what it got.
        self.browser_out = world.dir / "browser.json"
        browser_bin = world.dir / "browser-bin"
        browser_bin.mkdir(exist_ok=True)
        # Only the console's local address is fetched: the Identity Center
        # verification URL (an AWS host) is only recorded. A browser
        # sign-in's authorize page on the emulator (Identity Center's
        # /authorize, AWS Sign-In's /v1/authorize) is handed to
        # tests/support/sso_browser.py, which follows it back to the app's
        # loopback as a person's browser does.
        sso_browser = ROOT / "tests/support/sso_browser.py"
        (browser_bin / "xdg-open").write_text(
            "#!/usr/bin/env python3\n"
            "import json, subprocess, sys, urllib.request, urllib.error\n"
            "class Stop(urllib.request.HTTPRedirectHandler):\n"
            "    def redirect_request(self, *a, **k):\n"
            "        return None\n"
            "got = None\n"
            "url = sys.argv[-1]\n"
            "try:\n"
            "    if url.startswith('http://127.0.0.1:') and '/authorize?' in url:\n"
            f"        got = ['followed', subprocess.run([sys.executable, {str(sso_browser)!r}, url]).returncode]\n"
            "    elif url.startswith('http://127.0.0.1:'):\n"
            "        r = urllib.request.build_opener(Stop).open(url, timeout=10)\n"
            "        got = [r.status, r.headers.get('Location')]\n"
            "except urllib.error.HTTPError as e:\n"
            "    got = [e.code, e.headers.get('Location')]\n"
            f"json.dump({{'argv': sys.argv[1:], 'got': got}}, open({str(self.browser_out)!r}, 'w'))\n"
        )
        (browser_bin / "xdg-open").chmod(0o755)
        self.env = dict(world.env, DISPLAY=display, KEYFOB_CLI=str(cli),
                        PATH=f"{browser_bin}:{world.env['PATH']}",
                        # No GPU under Xvfb; keeps WebKit from trying.
                        WEBKIT_DISABLE_COMPOSITING_MODE="1", LIBGL_ALWAYS_SOFTWARE="1")
        # WebKitWebDriver itself, with what tauri-driver (a proxy that only
        # rewrites the new-session request) would have given it: the app as
        # the browser binary, and TAURI_WEBVIEW_AUTOMATION, without which
        # a Tauri 2 app's webview does not take automation.
        port = free_port()
        self.driver_log = open(world.dir / "webdriver.log", "w")
        self.procs.append(subprocess.Popen(
            [str(driver), f"--port={port}", "--host=127.0.0.1"],
            env=dict(self.env, TAURI_WEBVIEW_AUTOMATION="true"),
            stdout=self.driver_log, stderr=subprocess.STDOUT,
        ))
        wait_port(port)
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("webkitgtk:browserOptions", {"binary": str(app), "args": []})
        self.started = time.monotonic()
        try:
            self.d = webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=options)
        except Exception:
            self.close()
            raise
        self.wait = WebDriverWait(self.d, 20)

    def _xvfb(self) -> str:
        proc, display = xvfb(dict(os.environ))
        self.procs.append(proc)
        return display

    def close(self) -> None:
        try:
            if hasattr(self, "d"):
                self.d.quit()
        except Exception:
            pass
        end(self.procs)
        self.watcher.close()

    # -- helpers ---------------------------------------------------------

    def go(self, screen: str) -> None:
        """Opens a screen from the header (`profiles` is the main view),
        with the keyboard (focus + Enter)."""
        link = self.d.find_element(By.ID, f"nav-{screen}")
        self.d.execute_script("document.getElementById('main').dataset.ready = ''")
        # Keyboard first (focus + Enter), as a person without a mouse would.
        self.d.execute_script("arguments[0].focus()", link)
        ActionChains(self.d).send_keys(Keys.ENTER).perform()
        self.at("home" if screen == "profiles" else screen)

    def at(self, screen: str) -> None:
        """Waits until `screen` has rendered."""
        self.wait.until(lambda d: d.execute_script(
            "return document.getElementById('main').dataset.ready") == screen)

    def follow(self, css: str, screen: str) -> None:
        """Follows a link in the page (focus + Enter) to `screen`; found
        again if the page re-rendered under it."""
        def focus() -> None:
            link = self.d.find_element(By.CSS_SELECTOR, css)
            self.d.execute_script("document.getElementById('main').dataset.ready = ''; arguments[0].focus()", link)
        self.fresh(focus)
        ActionChains(self.d).send_keys(Keys.ENTER).perform()
        self.at(screen)

    def ctrl_k(self) -> None:
        ActionChains(self.d).key_down(Keys.CONTROL).send_keys("k").key_up(Keys.CONTROL).perform()

    def keys(self, *keys: str) -> None:
        """Types into whatever has the focus, as a keyboard would."""
        ActionChains(self.d).send_keys(*keys).perform()

    def row(self, profile: str):
        return self.d.find_element(By.CSS_SELECTOR, f'#main tr[data-profile="{profile}"]')

    def row_data(self, profile: str, key: str) -> str | None:
        """A data- attribute of a profile's row, read in one step (the
        main view re-renders when the tray or the CLI changes something)."""
        return self.d.execute_script(
            "const r = document.querySelector(`#main tr[data-profile=\"${arguments[0]}\"]`);"
            "return r ? r.dataset[arguments[1]] : null;", profile, key)

    def fresh(self, action):
        """Runs `action` again when the main view re-rendered under it (a
        `keyfob://changed` event from the CLI's or the tray's change may
        arrive a moment after the change the test waited for)."""
        for attempt in range(5):
            try:
                return action()
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def select(self, element_id: str, value: str) -> None:
        self.fresh(lambda: Select(self.d.find_element(By.ID, element_id)).select_by_value(value))

    def fill(self, element_id: str, text: str) -> None:
        el = self.d.find_element(By.ID, element_id)
        el.clear()
        el.send_keys(text)

    def fill_secret(self, element_id: str, text: str) -> None:
        self.type_secret(self.d.find_element(By.ID, element_id), text)

    def type_secret(self, el, text: str) -> None:
        """Types a PIN or secret key by key, as a person does (W3C
        actions: one key event each). Element Send Keys would hand
        WebKit's UI process the whole text in one automation message, a
        copy the app never made that its heap may keep after freeing it,
        and that the memory check (tests/e2e/memory.py) would count."""
        el.clear()
        self.d.execute_script("arguments[0].focus()", el)
        ActionChains(self.d).send_keys(text).perform()

    def text(self, css: str) -> str:
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def until_text(self, css: str, timeout: float = 20) -> str:
        WebDriverWait(self.d, timeout).until(
            lambda d: any(e.text.strip() for e in d.find_elements(By.CSS_SELECTOR, css)))
        return self.text(css)

    def shot(self, ctx: dict, name: str) -> None:
        """The screen as it is now, in the light and the dark theme: axe-core
        on each (serious or critical violations fail), and a screenshot of
        each when screenshots are on."""
        out = ctx["shots"]
        problems = []
        try:
            for theme in ("light", "dark"):
                self.d.execute_script("document.documentElement.dataset.theme = arguments[0]", theme)
                violations = self.axe()
                ctx["axe"].append((name, theme, violations))
                problems += [f"{theme}: {v['id']} ({v['impact']}) {v['help']} at {v['target']}"
                             for v in violations if v["impact"] in ("serious", "critical")]
                if out is not None:
                    self.photo(out / f"{name}-{theme}.png")
        finally:
            self.d.execute_script("delete document.documentElement.dataset.theme")
        assert not problems, f"axe-core on {name}: " + "; ".join(problems)

    def axe(self) -> list[dict]:
        """axe-core's violations on the page (WCAG 2.1 A/AA and best
        practices), injected once per page load."""
        if not self.d.execute_script("return typeof window.axe === 'object'"):
            self.d.execute_script(AXE_SOURCE.read_text() + "\nreturn true;")
        found = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then("
            " r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            "  target: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))),"
            " e => done([{id: 'axe-error', impact: 'critical', help: String(e), target: []}]));")
        return found

    def photo(self, path: Path) -> None:
        # Two animation frames: the theme's repaint is on screen.
        self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 150)));")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Taken from the X display (ImageMagick's import) rather than through
        # WebDriver: WebKitWebDriver's screenshot command was seen to hang
        # under Xvfb. The window sits at the display's top left.
        size = self.d.get_window_size()
        subprocess.run(["import", "-display", self.env["DISPLAY"], "-window", "root", "-crop",
                        f"{size['width']}x{size['height']}+0+0", str(path)],
                       check=True, timeout=30)

    def keyfob(self, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["setsid", "--wait", str(self.cli), *args], env=self.world.env,
                              input=stdin, capture_output=True, text=True, check=check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"WebKitWebDriver did not listen on {port}")


def aws_config(world: World) -> str:
    path = Path(world.env["AWS_CONFIG_FILE"])
    return path.read_text() if path.exists() else ""


def default_target(world: World) -> str | None:
    """The keyfob profile [default]'s credential_process runs."""
    section = None
    for line in aws_config(world).splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[default]" and line.startswith("credential_process"):
            return line.split()[-1]
    return None


# -- the cases ------------------------------------------------------------

def first_run(t: Desktop, ctx: dict) -> None:
    view = t.d.find_element(By.ID, "first-run")
    assert "IAM Identity Center" in view.text and "Roles Anywhere" in view.text, view.text
    assert not t.d.find_elements(By.CSS_SELECTOR, "#main section.group"), "profiles shown with no identity"
    t.shot(ctx, "first-run")
    t.follow("#first-run-add", "add")


def add_wrong_secret(t: Desktop, ctx: dict) -> None:
    user = t.world.admin("create-user", "alice")
    ctx["alice"] = user
    secret = user["secret_access_key"]
    wrong = ("A" if secret[0] != "A" else "B") + secret[1:]
    t.fill("access_key_id", user["access_key_id"])
    t.fill_secret("secret_access_key", wrong)
    t.fill("identity_name", "alice")
    t.fill_secret("pin", PIN)
    t.fill_secret("pin_confirmation", PIN)
    t.d.find_element(By.ID, "verify").click()
    message = t.until_text("#secret_access_key-error")
    assert message, "no error next to the secret"
    for field in ("secret_access_key", "pin", "pin_confirmation"):
        assert t.d.find_element(By.ID, field).get_attribute("value") == "", f"{field} not cleared"
    assert t.d.find_elements(By.ID, "verified") == []
    listed = json.loads(t.keyfob("list", "--json").stdout)
    assert listed == [], f"stored something: {listed}"
    t.shot(ctx, "add-identity-error")


def add_identity(t: Desktop, ctx: dict) -> None:
    user = ctx["alice"]
    t.fill("access_key_id", user["access_key_id"])
    t.fill_secret("secret_access_key", user["secret_access_key"])
    t.fill("identity_name", "alice")
    t.fill_secret("pin", PIN)
    t.fill_secret("pin_confirmation", PIN)
    t.d.find_element(By.ID, "verify").click()
    assert t.until_text("#verified-account") == ACCOUNT
    assert t.text("#verified-arn") == user["arn"]
    # Nothing is stored before the person confirms.
    assert json.loads(t.keyfob("list", "--json").stdout) == []
    for field in ("secret_access_key", "pin", "pin_confirmation"):
        assert t.d.find_element(By.ID, field).get_attribute("value") == "", f"{field} not cleared"
    # Bound to the TPM as the setting says (prefer), with a recovery code;
    # what declining one means is said beside it.
    assert t.d.find_element(By.ID, "tpm").get_attribute("value") == "prefer"
    assert "loses this key" in t.text("#recovery-hint")
    t.d.find_element(By.ID, "recovery_code").click()
    t.shot(ctx, "add-identity-verified")
    t.d.find_element(By.ID, "confirm-add").click()
    # The recovery code, shown once, with what to do with it now.
    code = t.until_text("#recovery-code")
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}-[A-Z2-7]{2}", code), code
    card = t.text("#recovery")
    assert "Store it now" in card and "shown only this once" in card, card
    t.d.find_element(By.ID, "copy-recovery").click()
    t.wait.until(lambda d: d.find_element(By.ID, "copy-recovery-status").text)
    t.shot(ctx, "add-identity-recovery-code")
    [listed] = json.loads(t.keyfob("list", "--json").stdout)
    assert listed["protection"] == "tpm+pin+recovery", listed
    ctx["alice_recovery"] = code
    t.d.find_element(By.ID, "recovery-done").click()
    # Back in the main view, the new identity's group and its profile.
    t.at("home")
    assert "Added identity alice" in t.until_text("#flash .notice.good")
    group = t.d.find_element(By.CSS_SELECTOR, 'section.group[data-identity="alice"]')
    assert ACCOUNT in group.text
    row = t.row("alice")
    assert row.get_attribute("data-state") == "locked"
    assert row.find_element(By.CSS_SELECTOR, ".account").text == ACCOUNT
    listed = json.loads(t.keyfob("list", "--json").stdout)
    assert [i["name"] for i in listed] == ["alice"]
    assert "credential-process alice" in aws_config(t.world)


def unlock_and_lock(t: Desktop, ctx: dict) -> None:
    t.row("alice").find_element(By.CSS_SELECTOR, 'button[data-action="unlock"]').click()
    dialog = t.d.find_element(By.ID, "unlock-dialog")
    assert dialog.get_attribute("data-profile") == "alice"
    t.fill_secret("pin", "wrong-pin-000")
    t.d.find_element(By.ID, "unlock-submit").click()
    assert "wrong PIN" in t.until_text("#pin-error")
    assert t.d.find_element(By.ID, "pin").get_attribute("value") == "", "PIN not cleared"
    t.shot(ctx, "unlock")
    t.fill_secret("pin", PIN)
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: not d.find_elements(By.ID, "unlock-dialog"))
    t.wait.until(lambda d: t.row_data("alice", "state") == "unlocked")
    state = t.row("alice").find_element(By.CSS_SELECTOR, ".state-text").text
    assert state.startswith("Unlocked") and " h " in state, state
    # Lock in place.
    t.row("alice").find_element(By.CSS_SELECTOR, 'button[data-action="lock"]').click()
    t.wait.until(lambda d: t.row_data("alice", "state") == "locked")


def search_and_switch(t: Desktop, ctx: dict) -> None:
    bob = t.world.admin("create-user", "bob")
    t.keyfob("add", "bob", "--access-key-id", bob["access_key_id"], "--stdin",
             stdin=f"{bob['secret_access_key']}\n{PIN}\n")
    t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{PIN}\n")
    # The CLI's change reaches the main view without a reload.
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#main tr[data-profile="bob"]'))
    t.wait.until(lambda d: t.row_data("alice", "state") == "unlocked")

    def shown() -> list[str]:
        return t.fresh(lambda: [r.get_attribute("data-profile") for r in
                                t.d.find_elements(By.CSS_SELECTOR, "#main tr[data-profile]") if r.is_displayed()])

    # "/" jumps to the search box.
    t.d.execute_script("document.getElementById('main').focus()")
    t.keys("/")
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "search")
    t.keys("bo")
    assert shown() == ["bob"], shown()
    assert not t.d.find_element(By.CSS_SELECTOR, 'section.group[data-identity="alice"]').is_displayed()
    t.keys(Keys.BACKSPACE, Keys.BACKSPACE, "zzz")
    assert shown() == [] and t.d.find_element(By.ID, "no-match").is_displayed()
    ActionChains(t.d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.BACKSPACE).perform()
    assert sorted(shown()) == ["alice", "bob"], shown()
    t.select("filter-state", "unlocked")
    assert shown() == ["alice"], shown()
    t.select("filter-state", "all")
    # moto puts every user in one account: the filter lists it once.
    values = t.fresh(lambda: [o.get_attribute("value") for o in
                              Select(t.d.find_element(By.ID, "filter-account")).options])
    assert values == ["", ACCOUNT], values
    t.select("filter-account", ACCOUNT)
    assert sorted(shown()) == ["alice", "bob"], shown()
    t.select("filter-account", "")
    # Make default, in place.
    t.fresh(lambda: t.row("bob").find_element(By.CSS_SELECTOR, 'button[data-action="use"]').click())
    t.wait.until(lambda d: default_target(t.world) == "bob")
    t.wait.until(lambda d: t.row_data("bob", "default") == "true")
    assert t.keyfob("current").stdout.strip() == "bob"
    # Copy export lines: the profile by name, never a credential.
    t.fresh(lambda: t.row("bob").find_element(By.CSS_SELECTOR, 'button[data-action="copy"]').click())
    copied = t.until_text("#home-general .notice")
    assert "export AWS_PROFILE=bob" in copied and "AWS_SECRET" not in copied, copied
    t.shot(ctx, "home")


def narrow_window(t: Desktop, ctx: dict) -> None:
    """640 CSS px wide, what a 1280 px screen is at 200 % scale: the page
    itself does not scroll sideways (a group's table may, inside it) and
    every row's actions stay reachable."""
    size = t.d.get_window_size()
    t.d.set_window_size(640, size["height"])
    try:
        t.wait.until(lambda d: d.execute_script("return window.innerWidth") <= 660)
        overflow = t.d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = t.d.execute_script(
            "const w = document.documentElement.clientWidth;"
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1"
            " && !e.closest('.group')).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px: {wide}"
        for name in ("alice", "bob"):
            t.d.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'end'})",
                               t.row(name).find_element(By.CSS_SELECTOR, 'button[data-action="copy"]'))
            assert t.row(name).find_element(By.CSS_SELECTOR, 'button[data-action="copy"]').is_displayed()
        t.d.execute_script("window.scrollTo(0, 0); document.querySelectorAll('.group').forEach(g => g.scrollLeft = 0)")
        t.shot(ctx, "home-narrow")
    finally:
        t.d.set_window_size(size["width"], size["height"])
        t.wait.until(lambda d: d.execute_script("return window.innerWidth") >= size["width"] - 40)


def quick_switch(t: Desktop, ctx: dict) -> None:
    """By keyboard alone: Ctrl+K, a few letters, Enter; the PIN and Enter
    when the profile is locked."""
    t.d.execute_script("document.getElementById('main').focus()")
    t.ctrl_k()
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "qs-input")
    t.keys("bo")
    options = t.d.find_elements(By.CSS_SELECTOR, "#qs-list [role=option][data-profile]")
    assert [o.get_attribute("data-profile") for o in options] == ["bob"], [o.text for o in options]
    t.shot(ctx, "quick-switch")
    # bob is locked: Enter asks its PIN in place, Enter again switches.
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "qs-pin")
    t.keys(PIN, Keys.ENTER)
    t.wait.until(lambda d: not d.find_elements(By.ID, "quick-switch"))
    t.wait.until(lambda d: default_target(t.world) == "bob")
    t.wait.until(lambda d: t.row_data("bob", "state") == "unlocked")
    # alice is unlocked: two keystrokes and the name.
    t.ctrl_k()
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "qs-input")
    t.keys("ali", Keys.ENTER)
    t.wait.until(lambda d: default_target(t.world) == "alice")
    t.wait.until(lambda d: not d.find_elements(By.ID, "quick-switch"))
    # Esc closes it and changes nothing.
    t.ctrl_k()
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "qs-input")
    t.keys("bob", Keys.ESCAPE)
    t.wait.until(lambda d: not d.find_elements(By.ID, "quick-switch"))
    assert default_target(t.world) == "alice"


def open_identity(t: Desktop, name: str) -> None:
    if t.d.execute_script("return document.getElementById('main').dataset.ready") != "home":
        t.go("profiles")
    t.follow(f'a[data-identity-link="{name}"]', "identity")
    assert t.text("#identity-title") == name


def role_profile(t: Desktop, ctx: dict) -> None:
    role = t.world.admin("create-role", "deployer", "ext-id-e2e-42")
    ctx["role"] = role
    open_identity(t, "alice")
    t.follow("#new-profile", "new-profile")
    assert t.d.find_element(By.ID, "identity_name").get_attribute("value") == "alice"
    t.fill("profile_name", "deploy")
    # The same validation as the CLI: a bad external ID is refused at its field.
    t.fill("role_arn", role["arn"])
    t.fill("external_id", "x")
    t.fill("region", "eu-west-1")
    t.d.find_element(By.ID, "save-profile").click()
    assert t.until_text("#external_id-error")
    t.fill("external_id", "ext-id-e2e-42")
    t.fill("duration", "30m")
    # The external-ID guard asks for the identity's PIN.
    assert t.d.find_element(By.ID, "pin").is_displayed(), "no PIN field for the guard"
    t.fill_secret("pin", PIN)
    t.shot(ctx, "profile-form")
    t.d.find_element(By.ID, "save-profile").click()
    t.at("identity")
    assert "Guarded" in t.until_text("#flash .notice.good")
    row = t.row("deploy")
    assert row.find_element(By.CSS_SELECTOR, "td.guard").text == "guarded", row.text
    shown = json.loads(t.keyfob("profile", "show", "deploy", "--json").stdout)
    assert shown["role"]["arn"] == role["arn"], shown
    assert shown["role"]["external_id"] == "ext-id-e2e-42", shown
    assert shown["role"]["external_id_guard"] == "guarded", shown
    assert shown["duration_secs"] == 1800 and shown["region"] == "eu-west-1", shown
    assert "credential-process deploy" in aws_config(t.world)
    # In the main view: its role and account.
    t.go("profiles")
    deploy = t.row("deploy")
    assert deploy.find_element(By.CSS_SELECTOR, ".role").text == "deployer", deploy.text


def console(t: Desktop, ctx: dict) -> None:
    """The Console action: a role profile with its session at hand opens at
    once; an identity (a federated session, PIN needed) asks first. The
    browser gets a one-shot local address that redirects to the sign-in."""
    def opened(profile: str) -> dict:
        t.wait.until(lambda d: t.browser_out.exists())
        seen = json.loads(t.browser_out.read_text())
        t.browser_out.unlink()
        assert len(seen["argv"]) == 1 and seen["argv"][0].startswith("http://127.0.0.1:"), seen
        assert "SigninToken" not in seen["argv"][0], seen
        status, location = seen["got"]
        assert status == 302 and "/federation?Action=login" in location, seen
        assert "SigninToken=" in location, seen
        notice = t.until_text("#home-general #flash .notice.good")
        assert f"as {profile}" in notice, notice
        return seen

    t.go("profiles")
    t.row("deploy").find_element(By.CSS_SELECTOR, 'button[data-action="console"]').click()
    opened("deploy")
    t.row("alice").find_element(By.CSS_SELECTOR, 'button[data-action="console"]').click()
    # The first try (no PIN) is refused as locked; then the dialog opens.
    t.wait.until(lambda d: d.find_elements(By.ID, "console-dialog"))
    t.shot(ctx, "console")
    t.fill_secret("console_pin", "wrong-pin-000")
    t.d.find_element(By.ID, "console-submit").click()
    assert "wrong PIN" in t.until_text("#console_pin-error")
    t.fill_secret("console_pin", PIN)
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: not d.find_elements(By.ID, "console-dialog"))
    opened("alice")
    import urllib.request
    with urllib.request.urlopen(f"{t.world.endpoint}/keyfob-test/federation", timeout=10) as r:
        issued = json.load(r)
    kinds = {i["kind"] for i in issued}
    assert kinds == {"assumed-role", "federated-user"}, issued


def account_name(t: Desktop, ctx: dict) -> None:
    """Naming an account from the main view: a bad name is refused at its
    field; a good one shows with the ID in the group, the rows and the
    account filter, and the CLI reads it (`keyfob alias`)."""
    t.go("profiles")
    group = t.d.find_element(By.CSS_SELECTOR, 'section.group[data-identity="alice"]')
    group.find_element(By.CSS_SELECTOR, f'button[data-action="alias"][data-account="{ACCOUNT}"]').click()
    t.wait.until(lambda d: d.find_elements(By.ID, "alias-dialog"))
    t.fill("account_alias", "semi;colon")
    t.d.find_element(By.ID, "alias-save").click()
    assert "may contain only" in t.until_text("#account_alias-error")
    t.fill("account_alias", "e2e sandbox")
    t.shot(ctx, "account-name")
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: not d.find_elements(By.ID, "alias-dialog"))
    label = f"e2e sandbox ({ACCOUNT})"
    t.wait.until(lambda d: label in d.find_element(
        By.CSS_SELECTOR, f'section.group[data-identity="alice"] [data-account="{ACCOUNT}"]').text)
    assert t.row("alice").find_element(By.CSS_SELECTOR, "td.account").text == label
    options = [o.text for o in Select(t.d.find_element(By.ID, "filter-account")).options]
    assert label in options, options
    assert json.loads(t.keyfob("alias", "--json").stdout) == {ACCOUNT: "e2e sandbox"}


def credential_process_prompt(t: Desktop, ctx: dict) -> None:
    # (The CLI's lock --all ends the web process too: the window is new.)
    lock_all_renews_the_window(t, ctx, lambda: t.keyfob("lock", "--all"))
    # No terminal (setsid, stdin from /dev/null): credential-process asks
    # the agent, which is the app, and the app asks in its window. The
    # asking program calls itself "/usr/bin/aws" (argv[0]); the app names
    # what the agent found from the peer's pid: the real executable.
    real = os.path.realpath("/usr/bin/python3")
    launcher = ("import subprocess,sys; r=subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.returncode)")
    proc = subprocess.Popen(["setsid", "bash", "-c", 'exec -a /usr/bin/aws /usr/bin/python3 -c "$0" "$@"',
                             launcher, str(t.cli), "credential-process", "deploy"], env=t.world.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".prompt form[data-prompt]"))
        form = t.d.find_element(By.CSS_SELECTOR, ".prompt form[data-prompt]")
        assert form.find_element(By.CSS_SELECTOR, ".prompt-profile").text == "deploy"
        shown = form.find_element(By.CSS_SELECTOR, ".prompt-exe").text
        assert shown == real, f"the dialog names {shown!r}, not the real {real!r}"
        assert "pid" in form.text
        t.shot(ctx, "prompt")
        field = form.find_element(By.CSS_SELECTOR, "input")
        t.type_secret(field, PIN)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    creds = json.loads(out)
    assert creds["Version"] == 1 and creds["AccessKeyId"].startswith("ASIA"), out
    assert creds["SessionToken"] and creds["Expiration"]


def refused_prompt(t: Desktop, ctx: dict) -> None:
    lock_all_renews_the_window(t, ctx, lambda: t.keyfob("lock", "--all"))
    proc = subprocess.Popen(["setsid", str(t.cli), "credential-process", "alice"], env=t.world.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".prompt form[data-prompt]"))
        t.d.find_element(By.CSS_SELECTOR, ".prompt button[id$='-refuse']").click()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and out == "", (proc.returncode, out)
    assert err.strip(), "no error for a refusal"


def other_uid_refused(t: Desktop, ctx: dict) -> None:
    runtime = Path(t.world.env["XDG_RUNTIME_DIR"]) / "keyfob"
    sock = runtime / "agent.sock"
    assert sock.exists(), "no agent socket"
    assert (runtime.stat().st_mode & 0o777) == 0o700
    client = (
        "import socket,sys,json\n"
        "s=socket.socket(socket.AF_UNIX)\n"
        "try:\n s.connect(sys.argv[1])\n"
        "except OSError as e:\n print('connect-refused', e.errno); sys.exit(0)\n"
        "try:\n s.sendall((json.dumps({'v':2,'op':'session','profile':'alice','fresh':False,'answers':False,"
        "'interactive':False,'endpoint':None,'region':None})+'\\n').encode())\n"
        # The server may refuse and close before reading: its answer is still there to read.
        "except BrokenPipeError:\n pass\n"
        "print(s.makefile().readline().strip())\n"
    )
    # Debian's python3: a venv or pyenv under /root is not readable by nobody.
    run_as = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", client, str(sock)]
    # The 0700 folder already keeps another user out ...
    done = subprocess.run(run_as, capture_output=True, text=True, timeout=30, cwd="/")
    assert done.stdout.startswith("connect-refused"), (done.stdout, done.stderr)
    # ... and with the folder opened up, the server's SO_PEERCRED check still refuses.
    outer = runtime.parent  # the world's XDG_RUNTIME_DIR, 0700 too
    top = t.world.dir       # mkdtemp: 0700
    for d in (top, outer, runtime):
        d.chmod(0o711)
    sock.chmod(0o666)
    try:
        done = subprocess.run(run_as, capture_output=True, text=True, timeout=30, cwd="/")
    finally:
        sock.chmod(0o600)
        for d in (runtime, outer, top):
            d.chmod(0o700)
    assert done.stdout.strip(), done.stderr
    answer = json.loads(done.stdout)
    assert answer.get("reply") == "error" and "refused" in answer.get("message", ""), done.stdout
    assert not t.d.find_elements(By.CSS_SELECTOR, ".prompt form[data-prompt]"), "the app was asked"


def settings(t: Desktop, ctx: dict) -> None:
    t.go("settings")
    assert t.d.find_element(By.ID, "store").get_attribute("value") == "auto"
    assert t.d.find_element(By.ID, "session_duration").get_attribute("value") == "12h"
    assert t.d.find_element(By.ID, "global_shortcut").get_attribute("value") == "Ctrl+Alt+K"
    # The TPM (a swtpm, see main) and the hole an empty lockout
    # authorization leaves.
    tpm = t.d.find_element(By.ID, "tpm-status").text
    assert "TPM 2.0 at swtpm:" in tpm and "lockout authorization is empty" in tpm, tpm
    t.shot(ctx, "settings")
    config = Path(t.world.env["XDG_CONFIG_HOME"]) / "keyfob/config.toml"
    desktop = config.with_name("desktop.json")
    before = config.read_text()
    # A shortcut without a modifier is refused at its field; nothing is written.
    t.fill("global_shortcut", "K")
    t.d.find_element(By.ID, "save-settings").click()
    assert "Ctrl" in t.until_text("#global_shortcut-error")
    assert config.read_text() == before and not desktop.exists()
    t.fill("global_shortcut", "Ctrl+Alt+J")
    # Out of AssumeRole's range: refused next to the field, nothing written.
    t.fill("role_duration", "13h")
    t.d.find_element(By.ID, "save-settings").click()
    assert "role session must last" in t.until_text("#role_duration-error")
    assert config.read_text() == before
    # A new default applies to the next session made, CLI included.
    t.fill("role_duration", "1h")
    t.fill("session_duration", "8h")
    t.d.find_element(By.ID, "save-settings").click()
    t.until_text("#settings-form .notice.good")
    assert 'session_duration = "8h"' in config.read_text()
    assert "[profiles.alice]" in config.read_text(), "profiles lost"
    assert json.loads(desktop.read_text())["global_shortcut"] == "Ctrl+Alt+J"
    assert not t.d.find_elements(By.CSS_SELECTOR, "#settings-shortcut-problem"), "the shortcut was not taken"
    out = t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{PIN}\n").stdout
    left = out.rsplit("(", 1)[-1]
    assert left.startswith(("7h59m", "8h ")), out


def global_shortcut(t: Desktop, ctx: dict) -> None:
    """The shortcut chosen in Settings (Ctrl+Alt+J), pressed on the X
    display as a keyboard would (XTEST), opens the quick switcher."""
    from Xlib import X, XK
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    assert not t.d.find_elements(By.ID, "quick-switch")
    dpy = xdisplay.Display(t.env["DISPLAY"])
    try:
        codes = [dpy.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("Control_L", "Alt_L", "j")]
        for c in codes:
            xtest.fake_input(dpy, X.KeyPress, c)
        for c in reversed(codes):
            xtest.fake_input(dpy, X.KeyRelease, c)
        dpy.sync()
    finally:
        dpy.close()
    t.wait.until(lambda d: d.find_elements(By.ID, "quick-switch"))
    t.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "qs-input")
    t.keys(Keys.ESCAPE)
    t.wait.until(lambda d: not d.find_elements(By.ID, "quick-switch"))


# -- approvals and the access log (issue 22) -------------------------------
# The world's config.toml starts with approvals off (as a setup made before
# approvals); the Approvals screen's one button turns them on
# (new-programs), the cases below run under that rule, and the last one
# turns them off again for the cases after it.

LAUNCHER = ("import subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.returncode)\n")


def config_text(t: Desktop) -> str:
    return (Path(t.world.env["XDG_CONFIG_HOME"]) / "keyfob/config.toml").read_text()


def new_program(t: Desktop, name: str) -> Path:
    """A script of its own: to approvals, a program of its own (python3
    and this script, by path and hash)."""
    work = t.world.dir / "work"
    work.mkdir(exist_ok=True)
    script = work / f"{name}.py"
    if not script.exists():
        script.write_text(f"# {name}\n" + LAUNCHER)
    return script


def run_client(t: Desktop, script: Path, profile: str) -> subprocess.Popen:
    """`keyfob credential-process PROFILE` run by `script`, with no
    terminal (setsid, stdin from /dev/null): the agent asks the app."""
    return subprocess.Popen(["setsid", "/usr/bin/python3", str(script), str(t.cli), "credential-process", profile],
                            env=t.world.env, cwd=str(script.parent), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def approval_card(t: Desktop, timeout: float = 20):
    WebDriverWait(t.d, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.prompt [data-kind="approve"]'))
    return t.d.find_element(By.CSS_SELECTOR, '.prompt [data-kind="approve"]')


def finish(t: Desktop, proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    """Waits for the client, typing the PIN if the app asks for it (the
    profile may have been locked by an earlier case)."""
    end_at = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < end_at:
            forms = t.d.find_elements(By.CSS_SELECTOR, ".prompt form[data-prompt]")
            if forms:
                t.type_secret(forms[0].find_element(By.CSS_SELECTOR, "input"), PIN)
                forms[0].find_element(By.CSS_SELECTOR, "button[type=submit]").click()
                time.sleep(0.5)
            time.sleep(0.1)
        return proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def approvals_turn_on(t: Desktop, ctx: dict) -> None:
    t.go("settings")
    t.follow("#to-approvals", "approvals")
    assert t.d.find_elements(By.ID, "approvals-off"), "no offer to turn approvals on with the rule off"
    assert t.d.find_element(By.ID, "rule-off").is_selected()
    assert 'approvals = "off"' in config_text(t)
    t.d.find_element(By.ID, "approvals-turn-on").click()
    t.wait.until(lambda d: not d.find_elements(By.ID, "approvals-off"))
    assert t.d.find_element(By.ID, "rule-new_programs").is_selected()
    assert 'approvals = "new-programs"' in config_text(t), config_text(t)
    # A profile's own rule, and back to the global one.
    t.select("rule-for-alice", "every_time")
    t.wait.until(lambda d: 'alice = "every-time"' in config_text(t))
    t.select("rule-for-alice", "")
    t.wait.until(lambda d: 'alice = "every-time"' not in config_text(t))


def approval_until_lock(t: Desktop, ctx: dict) -> None:
    """A new program asks: the app names it; "Allow until lock" lets it
    have its credentials, and its second run is not asked about."""
    script = new_program(t, "report")
    real = os.path.realpath("/usr/bin/python3")
    # A notification service for this case only (the cases before ran
    # without one, as under a bare Xvfb, and the app did not mind).
    notifications = notify_host.Notifications(t.world.env["DBUS_SESSION_BUS_ADDRESS"])
    proc = run_client(t, script, "alice")
    try:
        card = approval_card(t)
        shown = {c: card.find_element(By.CSS_SELECTOR, f".{c}").text
                 for c in ("prompt-exe", "prompt-script", "prompt-cwd", "prompt-profile", "prompt-account")}
        assert shown == {"prompt-exe": real, "prompt-script": str(script), "prompt-cwd": str(script.parent),
                         "prompt-profile": "alice", "prompt-account": ACCOUNT}, shown
        # Focus starts on Deny: a stray Enter allows nothing.
        assert t.d.switch_to.active_element.get_attribute("id").endswith("-deny")
        t.shot(ctx, "approval-prompt")
        card.find_element(By.CSS_SELECTOR, "button[id$='-lock']").click()
    finally:
        out, err = finish(t, proc)
    assert proc.returncode == 0, (proc.returncode, err)
    assert json.loads(out)["AccessKeyId"].startswith("ASIA"), out
    try:
        # The program got the profile for the first time: a notification.
        seen = notifications.wait_for(lambda n: str(script) in n["body"])
        assert "alice" in seen["body"] and "first time" in seen["summary"], seen
        again = run_client(t, script, "alice")
        out, err = finish(t, again, timeout=30)
        assert again.returncode == 0, (again.returncode, err)
        assert not t.d.find_elements(By.CSS_SELECTOR, '.prompt [data-kind="approve"]'), "asked again"
        # Not the first time any more: no second notification.
        time.sleep(0.5)
        assert len([n for n in notifications.seen if str(script) in n["body"]]) == 1, notifications.seen
    finally:
        notifications.close()


def approval_denied(t: Desktop, ctx: dict) -> None:
    """Deny, by keyboard (Enter on the focused Deny): the client exits 4
    with one clear line."""
    script = new_program(t, "sneaky")
    proc = run_client(t, script, "alice")
    try:
        approval_card(t)
        assert t.d.switch_to.active_element.get_attribute("id").endswith("-deny")
        t.keys(Keys.ENTER)
    finally:
        out, err = finish(t, proc, timeout=30)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 4 and out == "", (proc.returncode, out, err)
    assert len(lines) == 1 and "denied" in lines[0] and "sneaky.py" in lines[0], err
    t.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '.prompt [data-kind="approve"]'))


def approvals_screen(t: Desktop, ctx: dict) -> None:
    """The approval given until lock is listed, and revoking it means the
    next run is asked about again (answered "Allow once" this time)."""
    script = new_program(t, "report")
    t.go("settings")
    t.follow("#to-approvals", "approvals")
    rows = [r for r in t.d.find_elements(By.CSS_SELECTOR, '#approved tr[data-profile="alice"]')
            if str(script) in r.text]
    assert len(rows) == 1, t.text("#approved")
    assert "until the profile is locked" in rows[0].text, rows[0].text
    assert not [r for r in t.d.find_elements(By.CSS_SELECTOR, "#approved tr[data-approval]") if "sneaky" in r.text]
    t.shot(ctx, "approvals")
    rows[0].find_element(By.CSS_SELECTOR, "button").click()
    # (The section is drawn afresh: read it by script, never a stale node.)
    t.wait.until(lambda d: str(script) not in d.execute_script("return document.getElementById('approved').textContent"))
    assert "Revoked" in t.text("#approvals-status")
    proc = run_client(t, script, "alice")
    try:
        approval_card(t).find_element(By.CSS_SELECTOR, "button[id$='-once']").click()
    finally:
        out, err = finish(t, proc)
    assert proc.returncode == 0, (proc.returncode, err)
    t.go("settings")
    t.follow("#to-approvals", "approvals")
    assert str(script) not in t.text("#approved"), "an approval once was remembered"


def approval_for_a_while(t: Desktop, ctx: dict) -> None:
    """"Allow once" was not remembered: the next run is asked again.
    "Allow for" 8 hours is kept in approvals.json (it outlives the app),
    listed with the time left, and revoked from there."""
    script = new_program(t, "report")
    kept_file = Path(t.world.env["XDG_DATA_HOME"]) / "keyfob/approvals.json"

    def kept() -> list[dict]:
        text = kept_file.read_text() if kept_file.exists() else ""
        return [a for a in (json.loads(text) if text.strip() else [])
                if a["profile"] == "alice" and a["program"].get("script") == str(script)]

    proc = run_client(t, script, "alice")
    try:
        card = approval_card(t)
        Select(card.find_element(By.CSS_SELECTOR, "select[id$='-duration']")).select_by_value("8h")
        card.find_element(By.CSS_SELECTOR, "button[id$='-for']").click()
    finally:
        out, err = finish(t, proc)
    assert proc.returncode == 0, (proc.returncode, err)
    held = kept()
    assert len(held) == 1 and held[0]["holds"] == "until", held
    assert 8 * 3600 - 120 < held[0]["at"] - time.time() <= 8 * 3600, held
    t.go("settings")
    t.follow("#to-approvals", "approvals")
    rows = [r for r in t.d.find_elements(By.CSS_SELECTOR, '#approved tr[data-profile="alice"]') if str(script) in r.text]
    assert len(rows) == 1 and re.search(r"for [78] h \d\d min more", rows[0].text), [r.text for r in rows]
    rows[0].find_element(By.CSS_SELECTOR, "button").click()
    t.wait.until(lambda d: str(script) not in d.execute_script("return document.getElementById('approved').textContent"))
    assert kept() == [], kept()


def access_log_page(t: Desktop, ctx: dict) -> None:
    """The log lists the accesses with their requester, newest first; the
    timelines draw a mark per access; a new access appears live."""
    report, sneaky = new_program(t, "report"), new_program(t, "sneaky")
    t.go("settings")
    t.follow("#to-access-log", "access-log")
    rows = t.d.find_elements(By.CSS_SELECTOR, "#log-entries tbody tr")
    texts = [r.text for r in rows]
    assert any(str(report) in x and "first time" in x for x in texts), texts
    denied = [r for r in rows if str(sneaky) in r.text]
    assert denied and denied[0].get_attribute("data-outcome") == "denied", [r.text for r in denied]
    assert f"in {report.parent}" in denied[0].find_element(By.CSS_SELECTOR, ".log-requester").text
    # Newest first.
    times = [r.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime") for r in rows]
    assert times == sorted(times, reverse=True), times
    strip = t.d.find_element(By.CSS_SELECTOR, "#tl-profiles svg.strip")
    label = strip.get_attribute("aria-label")
    assert label.startswith("alice: ") and "denied" in label and "made" in label, label
    marks = strip.find_elements(By.CSS_SELECTOR, "rect.mark")
    assert len(marks) >= 4 and strip.find_elements(By.CSS_SELECTOR, "rect.mark-denied"), len(marks)
    assert len(t.d.find_elements(By.CSS_SELECTOR, "#tl-programs svg.strip")) >= 2
    # Filtered by program: only that program's entries.
    t.select("log-program", f"{sneaky} (run by {os.path.realpath('/usr/bin/python3')})")
    shown = t.d.find_elements(By.CSS_SELECTOR, "#log-entries tbody tr")
    assert shown and all(str(sneaky) in r.text for r in shown), [r.text for r in shown]
    t.select("log-program", "")
    t.shot(ctx, "access-log")
    # Live: the denied program asks again (refused at once, its denial
    # holds for a while, or asked and denied again) and its entry appears.
    before = len(t.d.find_elements(By.CSS_SELECTOR, "#log-entries tbody tr"))
    proc = run_client(t, sneaky, "alice")
    try:
        for _ in range(100):
            if proc.poll() is not None:
                break
            cards = t.d.find_elements(By.CSS_SELECTOR, '.prompt [data-kind="approve"]')
            if cards:
                cards[0].find_element(By.CSS_SELECTOR, "button[id$='-deny']").click()
            time.sleep(0.2)
    finally:
        finish(t, proc, timeout=30)
    t.wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log-entries tbody tr")) > before)
    first = t.d.find_element(By.CSS_SELECTOR, "#log-entries tbody tr")
    assert str(sneaky) in first.text and first.get_attribute("data-outcome") == "denied", first.text


def approvals_turn_off(t: Desktop, ctx: dict) -> None:
    t.go("settings")
    t.follow("#to-approvals", "approvals")
    t.d.find_element(By.ID, "rule-off").click()
    t.wait.until(lambda d: d.find_elements(By.ID, "approvals-off"))
    assert 'approvals = "off"' in config_text(t)


def unguarded_refused(t: Desktop, ctx: dict) -> None:
    # A role whose owner dropped the external-ID condition: assumable without it.
    t.world.admin("create-role", "lax", "ext-lax-77")
    role = t.world.admin("set-trust", "lax")
    config = Path(t.world.env["XDG_CONFIG_HOME"]) / "keyfob/config.toml"
    before, aws_before = config.read_text(), aws_config(t.world)
    open_identity(t, "alice")
    t.follow("#new-profile", "new-profile")
    t.fill("profile_name", "lax")
    t.fill("role_arn", role["arn"])
    t.fill("external_id", "ext-lax-77")
    t.fill_secret("pin", PIN)
    t.d.find_element(By.ID, "save-profile").click()
    refusal = t.until_text("#guard-refusal")
    assert "can be assumed without its external ID" in refusal, refusal
    assert "confused deputy" in refusal, refusal
    assert t.d.find_element(By.ID, "pin").get_attribute("value") == "", "PIN not cleared"
    # Nothing written: neither config.toml nor the AWS config file.
    assert config.read_text() == before
    assert aws_config(t.world) == aws_before
    assert t.d.execute_script("return document.getElementById('main').dataset.ready") == "new-profile"
    accept = t.d.find_element(By.ID, "accept_unguarded")
    assert accept.is_displayed()
    t.shot(ctx, "profile-unguarded-refused")
    # Accepting stores it, marked unguarded (like --accept-unguarded).
    accept.click()
    t.fill_secret("pin", PIN)
    t.d.find_element(By.ID, "save-profile").click()
    t.at("identity")
    row = t.row("lax")
    assert row.find_element(By.CSS_SELECTOR, "td.guard").text == "unguarded", row.text
    shown = json.loads(t.keyfob("profile", "show", "lax", "--json").stdout)
    assert shown["role"]["external_id_guard"] == "unguarded", shown
    # Its page says what protects its key: the PIN and the TPM.
    protection = t.d.find_element(By.CSS_SELECTOR, "#identity-details dd.protection").text
    assert protection.startswith("PIN and this machine's TPM"), protection
    # The identity's audit badge names it, on its page and in the main view.
    badges = t.d.find_elements(By.CSS_SELECTOR, '#identity-badges [data-badge="unguarded"]')
    assert badges and "lax" in badges[0].get_attribute("aria-label"), [b.get_attribute("aria-label") for b in badges]
    t.go("profiles")
    badges = t.d.find_elements(By.CSS_SELECTOR, 'section.group[data-identity="alice"] .group-head [data-badge="unguarded"]')
    assert badges, "no badge in the main view"
    assert not t.d.find_elements(By.CSS_SELECTOR, 'section.group[data-identity="bob"] [data-badge]'), "bob has badges"


def keys_panel(t: Desktop, ctx: dict) -> None:
    key = ctx["alice"]["access_key_id"]
    open_identity(t, "alice")
    t.fill_secret("keys-pin", "wrong-pin-000")
    t.d.find_element(By.ID, "keys-submit").click()
    assert "wrong PIN" in t.until_text("#keys-pin-error")
    t.fill_secret("keys-pin", PIN)
    t.d.find_element(By.ID, "keys-submit").click()
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-key="{key}"]'))
    row = t.d.find_element(By.CSS_SELECTOR, f'tr[data-key="{key}"]')
    assert "in vault" in row.text and "Active" in row.text, row.text
    assert row.find_element(By.CSS_SELECTOR, ".last-used").text, row.text
    assert len(t.d.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr")) == 1
    assert t.d.find_element(By.ID, "keys-pin").get_attribute("value") == "", "PIN not cleared"
    t.shot(ctx, "identity")


def rotation_wizard(t: Desktop, ctx: dict) -> None:
    old = ctx["alice"]["access_key_id"]
    open_identity(t, "alice")
    assert "No rotation in progress" in t.text("#rotation-summary")
    assert len(t.d.find_elements(By.CSS_SELECTOR, "#rotation-steps li")) == 6

    def step(button: str, expect: str) -> None:
        t.fill_secret("rotate-pin", PIN)
        t.fill("rotate-grace", "0s")
        t.d.find_element(By.ID, button).click()
        WebDriverWait(t.d, 60).until(lambda d: expect in " ".join(
            e.text for e in d.find_elements(By.CSS_SELECTOR, "#rotation-lines, #rotate-general")))
        assert t.d.find_element(By.ID, "rotate-pin").get_attribute("value") == "", "PIN not cleared"

    step("rotate-start", "the vault now uses")
    assert t.d.find_element(By.ID, "rotation-status").get_attribute("data-in-progress") == "true"
    assert "done" in t.d.find_element(By.CSS_SELECTOR, '#rotation-steps li[data-step="3"]').get_attribute("class")
    t.shot(ctx, "rotation-switched")
    step("rotate-continue", "Deactivated the old key")
    # Deactivated: step 4 is done; step 5 (confirming nothing broke) is the
    # grace period itself, under way.
    steps = {li.get_attribute("data-step"): li.get_attribute("class") or ""
             for li in t.d.find_elements(By.CSS_SELECTOR, "#rotation-steps li")}
    assert "done" in steps["4"] and "done" not in steps["5"], steps
    step("rotate-continue", "The rotation is complete")
    assert t.d.find_element(By.ID, "rotation-status").get_attribute("data-in-progress") == "false"
    assert t.d.find_elements(By.ID, "rotate-start"), "no start button after the rotation"

    listed = {i["name"]: i for i in json.loads(t.keyfob("list", "--json").stdout)}
    new = listed["alice"]["access_key_id"]
    assert new != old and new.startswith("AKIA"), listed["alice"]
    # The new key works: an unlock signs GetSessionToken with it.
    t.keyfob("lock", "alice")
    t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{PIN}\n")
    # And IAM agrees: the keys panel lists only the new key, in the vault.
    t.fill_secret("keys-pin", PIN)
    t.d.find_element(By.ID, "keys-submit").click()
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-key="{new}"]'))
    assert not t.d.find_elements(By.CSS_SELECTOR, f'tr[data-key="{old}"]'), "old key still listed"
    ctx["alice"]["access_key_id"] = new


def provider_page(t: Desktop, ctx: dict) -> None:
    t.go("provider")
    t.d.find_element(By.ID, "generate-id").click()
    first = t.until_text("#external-id-value")
    assert len(first) == 32 and first.isalnum(), first
    t.fill("customer", "acme")
    t.d.find_element(By.ID, "generate-id").click()
    t.wait.until(lambda d: d.find_elements(By.ID, "external-id-value")
                 and d.find_element(By.ID, "external-id-value").text not in ("", first))
    acme = t.text("#external-id-value")
    assert "Issued to acme" in t.text("#external-id-result")
    record = (Path(t.world.env["XDG_CONFIG_HOME"]) / "keyfob/external-ids.toml").read_text()
    assert acme in record and "acme" in record, record
    # The same customer gets the same ID again.
    t.d.find_element(By.ID, "generate-id").click()
    t.wait.until(lambda d: "already has" in d.find_element(By.ID, "external-id-result").text)
    assert t.text("#external-id-value") == acme
    # A bad account is refused next to its field.
    assert t.d.find_element(By.ID, "external_id").get_attribute("value") == acme
    t.fill("account", "12345")
    t.d.find_element(By.ID, "make-policy").click()
    assert "12 digits" in t.until_text("#account-error")
    t.fill("account", ACCOUNT)
    t.d.find_element(By.ID, "make-policy").click()
    policy = json.loads(t.until_text("#trust-policy"))
    statement = policy["Statement"][0]
    assert statement["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:root", policy
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == acme, policy
    t.d.find_element(By.ID, "copy-policy").click()
    assert t.until_text("#copy-policy-status")
    t.shot(ctx, "provider")


def tray(t: Desktop, ctx: dict) -> None:
    """The tray over D-Bus, as a panel sees it: the default and its time
    left, the profiles grouped by identity with locked ones marked; a
    click switches; the CLI's switch shows up in the menu."""
    host = sni_host.Host(t.world.env["DBUS_SESSION_BUS_ADDRESS"])
    try:
        WebDriverWait(t.d, 20).until(lambda d: t.watcher.items)
        item = t.watcher.items[0]

        def menu() -> list[dict]:
            return sni_host.entries(host.layout(item))

        def label_of(prefix: str) -> dict | None:
            return next((e for e in menu() if e["label"].startswith(prefix)), None)

        t.keyfob("use", "alice")
        lock_all_renews_the_window(t, ctx, lambda: t.keyfob("lock", "--all"))
        t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{PIN}\n")
        # The menu follows the CLI: alice the default, unlocked, its time left.
        WebDriverWait(t.d, 20).until(lambda d: re.fullmatch(
            r"Default: alice — (\d+ h )?\d+ min left", (label_of("Default: ") or {}).get("label", "")))
        print("      tray menu: " + " | ".join(e["label"] or "—" for e in menu()))
        labels = [e["label"] for e in menu()]
        profiles = next(e for e in menu() if e["label"] == "Profiles")
        inside = [e["label"] for e in profiles["children"] if not e["separator"]]
        # Grouped: each identity's name (not clickable), then its profiles.
        assert inside[:1] == ["alice"] and "bob" in inside, inside
        assert inside.index("bob") > inside.index(next(x for x in inside if x.startswith("deploy"))), inside
        assert "bob — locked" in inside and "deploy — locked" in inside, inside
        assert any(x.startswith("alice — ") and x.endswith(" left") for x in inside), inside
        assert not next(e for e in profiles["children"] if e["label"] == "alice")["enabled"]
        assert {"Lock all", "Open keyfob", "Quit"} <= set(labels), labels
        # One click on bob makes it the default.
        bob = next(e for e in profiles["children"] if e["label"] == "bob — locked")
        host.click(item, bob["id"])
        t.wait.until(lambda d: default_target(t.world) == "bob")
        WebDriverWait(t.d, 20).until(lambda d: label_of("Default: ")["label"] == "Default: bob — locked")
        assert next(e for e in menu() if e["label"] == "bob — locked")["checked"]
        # The CLI switches back; the menu follows.
        t.keyfob("use", "alice")
        WebDriverWait(t.d, 20).until(lambda d: label_of("Default: ")["label"].startswith("Default: alice — "))
        assert next(e for e in menu() if e["label"].startswith("alice — "))["checked"]
        # The CLI locks: the menu marks it.
        t.keyfob("lock", "alice")
        WebDriverWait(t.d, 20).until(lambda d: label_of("Default: ")["label"] == "Default: alice — locked")
    finally:
        host.close()


def single_instance(t: Desktop, ctx: dict) -> None:
    """A second start hands over to the running app and exits, with the
    session bus and without it (tests/e2e/second_start.py: without any)."""
    pid = memory.app_pid(ctx["app"])
    no_bus = {k: v for k, v in t.env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    for env in (t.env, no_bus):
        # Without the hand-over the second app would run on (and time out here).
        second = subprocess.run([str(ctx["app"])], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0, second.stderr
        assert "runs already" in second.stderr, second.stderr
        assert memory.app_pid(ctx["app"]) == pid, "the first instance is gone"
    assert t.d.execute_script("return document.getElementById('main').dataset.ready"), "the window is gone"


def web_processes(ctx: dict) -> set[int]:
    return {pid for pid, name in memory.processes(memory.app_pid(ctx["app"])).items()
            if name.startswith("WebKitWebProces")}


def lock_all_renews_the_window(t: Desktop, ctx: dict, lock_all) -> None:
    """Runs `lock_all`, then waits for what every "Lock all" does: the
    old window and its web process are gone, and a new window shows the
    main view with every profile locked."""
    old_web = web_processes(ctx)
    before = set(t.d.window_handles)
    lock_all()
    t.wait.until(lambda d: set(d.window_handles) - before)
    t.d.switch_to.window((set(t.d.window_handles) - before).pop())
    t.at("home")
    # (The list may render again meanwhile: a stale row is read anew.)
    def all_locked(d) -> bool:
        rows = d.find_elements(By.CSS_SELECTOR, "#main tr[data-profile]")
        return bool(rows) and all(r.get_attribute("data-state") == "locked" for r in rows)
    WebDriverWait(t.d, 20, ignored_exceptions=[StaleElementReferenceException]).until(all_locked)
    t.wait.until(lambda d: not (old_web & web_processes(ctx)))


def cli_lock_all(t: Desktop, ctx: dict) -> None:
    """`keyfob lock --all` in a shell, with the app as the agent, ends the
    web process as the window's "Lock all" does: what a page typed goes
    however the person locked."""
    t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{PIN}\n")
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#main tr[data-profile="alice"][data-state="unlocked"]'))
    lock_all_renews_the_window(t, ctx, lambda: t.keyfob("lock", "--all"))


def memory_after_lock(t: Desktop, ctx: dict) -> None:
    """After "Lock all" (which ends the web process: the window is built
    afresh), neither the long-term secret typed into the add form nor the
    PIN typed into every form is in any process of the app, the new web
    process included (see tests/e2e/memory.py)."""
    t.go("profiles")
    lock_all_renews_the_window(t, ctx, lambda: t.d.find_element(By.ID, "lock-all").click())
    needles = {"long-term secret": ctx["alice"]["secret_access_key"], "PIN": PIN}
    found = memory.after_lock(ctx["app"], needles)
    for pid, name, counts in found:
        print(f"      memory of {name} ({pid}): " + ", ".join(f"{k} ×{v}" for k, v in counts.items()))
    memory.assert_none_left(found)


def recovery_code_without_tpm(t: Desktop, ctx: dict) -> None:
    """The recovery code the app showed once after the add opens alice's
    key with no TPM at all: the software TPM is ended (a cleared TPM, a
    new machine), `keyfob reseal alice --tpm off --recovery` (run by the
    app, the agent) seals it under a new PIN alone, and that PIN unlocks."""
    t.world.stop_tpm()
    new_pin = "pin-Rec0vered-7"
    t.keyfob("reseal", "alice", "--tpm", "off", "--recovery", "--stdin",
             stdin=f"{ctx['alice_recovery']}\n{new_pin}\n")
    [alice] = [i for i in json.loads(t.keyfob("list", "--json").stdout) if i["name"] == "alice"]
    assert alice["protection"] == "pin", alice
    t.keyfob("unlock", "alice", "--pin-stdin", stdin=f"{new_pin}\n")
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#main tr[data-profile="alice"][data-state="unlocked"]'))


# -- IAM Identity Center ----------------------------------------------------

SSO_URL = "https://d-e2e0000001.awsapps.com/start"
SSO_ACCOUNTS = [f"{111100000000 + i}" for i in range(3)]


def sso_test(t: Desktop, method: str, path: str, body: dict | None = None) -> dict:
    """The emulator's unsigned test endpoints (tests/support/sso_emulator.py)."""
    import urllib.request
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(t.world.endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def sso_pending(t: Desktop) -> list[str]:
    import urllib.parse
    status = sso_test(t, "GET", "/keyfob-test/sso/status?start_url=" + urllib.parse.quote(SSO_URL, safe=""))
    return [p["user_code"] for p in status["pending"]]


def sso_code_shown(t: Desktop) -> str:
    """The user code the sign-in dialog shows, checked against the one
    the emulator has pending, and the browser the app opened at the URL
    with that code filled in."""
    code = t.until_text("#sign-in-code")
    assert code in sso_pending(t), (code, sso_pending(t))
    t.wait.until(lambda d: t.browser_out.exists())
    seen = json.loads(t.browser_out.read_text())
    t.browser_out.unlink()
    assert seen["argv"][-1].startswith("https://device.sso.eu-west-1.amazonaws.com/"), seen
    assert f"user_code={code}" in seen["argv"][-1], seen
    assert t.text("#sign-in-url") == seen["argv"][-1]
    left = t.text("#sign-in-left")
    assert "min" in left or left.endswith(" s"), left
    return code


def sso_fill(t: Desktop, name: str, url: str, region: str, pin: str = PIN, again: str = PIN,
             device_code: bool = False) -> None:
    t.fill("identity_name", name)
    t.fill("start_url", url)
    t.fill("region", region)
    t.fill_secret("pin", pin)
    t.fill_secret("pin_confirmation", again)
    box = t.d.find_element(By.ID, "use_device_code")
    if box.is_selected() != device_code:
        box.click()
    t.d.find_element(By.ID, "sso-sign-in").click()


def browser_followed(t: Desktop, path: str) -> dict:
    """The authorize page the app opened (recorded by the stand-in
    xdg-open), which the stand-in browser followed back to the app."""
    import urllib.parse
    t.wait.until(lambda d: t.browser_out.exists())
    seen = json.loads(t.browser_out.read_text())
    t.browser_out.unlink()
    url = urllib.parse.urlsplit(seen["argv"][-1])
    assert url.path == path and seen["got"] == ["followed", 0], seen
    return dict(urllib.parse.parse_qsl(url.query))


def sso_grants(t: Desktop) -> dict:
    import urllib.parse
    return sso_test(t, "GET", "/keyfob-test/sso/status?start_url=" + urllib.parse.quote(SSO_URL, safe=""))["grants"]


def sso_add_refused(t: Desktop, ctx: dict) -> None:
    """Bad fields are refused next to the field they name, before any
    call; nothing is stored. Cancel stops a sign-in; nothing is stored."""
    sso_test(t, "POST", "/keyfob-test/sso/configure", {
        "start_url": SSO_URL, "region": "eu-west-1",
        "accounts": [{"account_id": a, "account_name": f"acct-{i}", "email": f"a{i}@example.com"}
                     for i, a in enumerate(SSO_ACCOUNTS)],
        "users": [{"name": "alice", "assignments":
                   [{"account_id": a, "role_name": "Admin"} for a in SSO_ACCOUNTS]
                   + [{"account_id": SSO_ACCOUNTS[0], "role_name": "ReadOnly"}]}],
        # The person signed in to the portal in the stand-in browser.
        "settings": {"browser_user": "alice"},
    })
    t.go("profiles")
    t.follow("#add-sso", "add-sso")
    def sso_calls() -> dict:
        return {k: v for k, v in t.world.calls().items() if k.startswith("sso")}
    calls = sso_calls()
    for url, region, pin, again, field, words in [
        ("http://d-e2e0000001.awsapps.com/start", "eu-west-1", PIN, PIN, "start_url", "https://"),
        (SSO_URL, "moon-1", PIN, PIN, "region", ""),
        (SSO_URL, "eu-west-1", PIN, "other-pin-000", "pin_confirmation", ""),
    ]:
        sso_fill(t, "corp", url, region, pin, again)
        message = t.until_text(f"#{field}-error")
        assert words in message, (field, message)
        for f in ("pin", "pin_confirmation"):
            assert t.d.find_element(By.ID, f).get_attribute("value") == "", f"{f} not cleared"
        if field == "start_url":
            t.shot(ctx, "add-sso-error")
    assert sso_calls() == calls, "a refused form made a call"
    # The device code, chosen in the form (the fallback where no browser
    # here can sign in); Cancel while the code is shown: polling stops,
    # nothing is stored.
    sso_fill(t, "corp", SSO_URL, "eu-west-1", device_code=True)
    sso_code_shown(t)
    assert t.d.find_element(By.ID, "sign-in-dialog").get_attribute("data-mode") == "device-code"
    t.shot(ctx, "sso-sign-in")
    t.d.find_element(By.ID, "sign-in-cancel").click()
    t.wait.until(lambda d: "nothing was stored" in t.text("#add-sso-general"))
    t.wait.until(lambda d: not d.find_elements(By.ID, "sign-in-dialog"))
    listed = json.loads(t.keyfob("list", "--json").stdout)
    assert "corp" not in [i["name"] for i in listed], listed


def sso_add(t: Desktop, ctx: dict) -> None:
    """The form, then the browser sign-in by default (authorization code
    with PKCE): the app opens the authorize page, the browser (signed in
    to the portal as alice) comes back to the app's loopback, and the
    identity's page offers the sync. No code to compare."""
    before = sso_grants(t)
    sso_fill(t, "corp", SSO_URL, "eu-west-1")
    query = browser_followed(t, "/authorize")
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"].startswith("http://127.0.0.1:"), query
    assert "code_challenge" in query and "state" in query, query
    t.at("identity")
    after = sso_grants(t)
    assert after["authorization_code"] == before["authorization_code"] + 1, (before, after)
    assert after["device_code"] == before["device_code"], (before, after)
    assert "Signed in corp" in t.until_text("#identity-general .notice.good")
    assert t.text("#identity-details .start-url") == SSO_URL
    assert t.d.find_element(By.ID, "sync-preview").is_displayed()
    listed = {i["name"]: i for i in json.loads(t.keyfob("list", "--json").stdout)}
    assert listed["corp"]["kind"] == "identity-center" and listed["corp"]["start_url"] == SSO_URL, listed


def sso_sync(t: Desktop, ctx: dict) -> None:
    """Sync from the identity's page: the dry run lists what would be made
    (and writes nothing), then apply."""
    t.fill_secret("sync_pin", PIN)
    t.d.find_element(By.ID, "sync-preview").click()
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sync-changes tr[data-change]"))
    created = sorted(r.get_attribute("data-profile") for r in
                     t.d.find_elements(By.CSS_SELECTOR, '#sync-changes tr[data-change="created"]'))
    assert created == ["acct-0-Admin", "acct-0-ReadOnly", "acct-1-Admin", "acct-2-Admin"], created
    assert "Preview" in t.text("#sync-summary")
    assert "acct-0-Admin" not in aws_config(t.world), "the dry run wrote the AWS config"
    assert t.d.find_element(By.ID, "sync_pin").get_attribute("value") == ""
    t.shot(ctx, "sso-sync-preview")
    t.fill_secret("sync_pin", PIN)
    t.d.find_element(By.ID, "sync-apply").click()
    t.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#identity-profiles tr[data-profile="acct-1-Admin"]'))
    assert "Synced corp" in t.until_text("#identity-general .notice.good")
    assert "credential-process acct-1-Admin" in aws_config(t.world)
    t.shot(ctx, "sso-identity")


def sso_main_view(t: Desktop, ctx: dict) -> None:
    """The synced profiles in the main view, grouped under their identity
    (with its start URL), searchable; unlock one, make it the default, and
    the AWS CLI v2 gets the assumed role through credential_process."""
    t.go("profiles")
    group = t.d.find_element(By.CSS_SELECTOR, 'section.group[data-identity="corp"]')
    assert group.get_attribute("data-sso") == "true" and SSO_URL in group.text, group.text
    row = t.row("acct-1-Admin")
    assert row.find_element(By.CSS_SELECTOR, ".account").text == SSO_ACCOUNTS[1]
    assert row.find_element(By.CSS_SELECTOR, ".role").text == "Admin"
    t.fill("search", "readonly")
    t.wait.until(lambda d: [r.get_attribute("data-profile") for r in
                            d.find_elements(By.CSS_SELECTOR, "#main tr[data-profile]") if r.is_displayed()]
                 == ["acct-0-ReadOnly"])
    t.fill("search", SSO_ACCOUNTS[2])
    t.wait.until(lambda d: [r.get_attribute("data-profile") for r in
                            d.find_elements(By.CSS_SELECTOR, "#main tr[data-profile]") if r.is_displayed()]
                 == ["acct-2-Admin"])
    t.shot(ctx, "sso-main-view")
    t.d.execute_script("const s = document.getElementById('search'); s.value = '';"
                       " s.dispatchEvent(new Event('input'));")
    t.fresh(lambda: t.row("acct-1-Admin").find_element(By.CSS_SELECTOR, 'button[data-action="unlock"]').click())
    t.fill_secret("pin", PIN)
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: t.row_data("acct-1-Admin", "state") == "unlocked")
    t.fresh(lambda: t.row("acct-1-Admin").find_element(By.CSS_SELECTOR, 'button[data-action="use"]').click())
    t.wait.until(lambda d: t.row_data("acct-1-Admin", "default") == "true")
    # AWS CLI v2 (2.9 reads no AWS_ENDPOINT_URL: the endpoint is given).
    out = subprocess.run(["setsid", "--wait", "/usr/bin/aws", "sts", "get-caller-identity", "--output", "json",
                          "--endpoint-url", t.world.endpoint],
                         env=t.world.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["Arn"]
    assert arn.startswith(f"arn:aws:sts::{SSO_ACCOUNTS[1]}:assumed-role/AWSReservedSSO_Admin_"), arn


def sso_sign_in_again(t: Desktop, ctx: dict) -> None:
    """A revoked sign-in: an unlock in the app asks "sign in again?", signs
    in (the browser sign-in), and makes the session with the same PIN; then a
    credential_process client with no terminal gets its answer after the
    app signs in for it."""
    sso_test(t, "POST", "/keyfob-test/sso/revoke", {"start_url": SSO_URL, "user": "alice"})
    t.go("profiles")
    t.fresh(lambda: t.row("acct-0-Admin").find_element(By.CSS_SELECTOR, 'button[data-action="unlock"]').click())
    t.fill_secret("pin", PIN)
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: d.find_elements(By.ID, "again-dialog"))
    assert t.d.find_element(By.ID, "again-dialog").get_attribute("data-identity") == "corp"
    t.shot(ctx, "sso-sign-in-again")
    t.fill_secret("again_pin", PIN)
    t.d.find_element(By.ID, "again-submit").click()
    browser_followed(t, "/authorize")
    t.wait.until(lambda d: not d.find_elements(By.ID, "again-dialog"))
    t.wait.until(lambda d: t.row_data("acct-0-Admin", "state") == "unlocked")
    # The agent's request, from a client with no terminal.
    sso_test(t, "POST", "/keyfob-test/sso/revoke", {"start_url": SSO_URL, "user": "alice"})
    proc = subprocess.Popen(["setsid", "--wait", str(t.cli), "credential-process", "acct-2-Admin"],
                            env=t.world.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        t.wait.until(lambda d: d.find_elements(By.ID, "again-dialog"))
        assert "acct-2-Admin" in t.text("#again-dialog")
        t.fill_secret("again_pin", PIN)
        t.d.find_element(By.ID, "again-submit").click()
        browser_followed(t, "/authorize")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    creds = json.loads(out)
    assert creds["Version"] == 1 and creds["AccessKeyId"].startswith("ASIA"), out



def login_add(t: Desktop, ctx: dict) -> None:
    """Add AWS sign-in (the AWS CLI's `aws login` kind): a bad region is
    refused next to its field before any call; then the console sign-in
    in the browser here (PKCE, the same-device client), the identity's
    page names who signed in, and its profile works at once for the AWS
    CLI through credential_process, with no further PIN."""
    # Credentials of 301 s: a renewal is due a second after each is made
    # (keyfob hands them out while more than 5 minutes are left).
    who = sso_test(t, "POST", "/keyfob-test/signin/configure",
                   {"user_name": "console-e2e", "browser_default": True, "credential_seconds": 301})
    t.go("profiles")
    t.follow("#add-login", "add-login")
    def fill(region: str) -> None:
        t.fill("identity_name", "me")
        t.fill("region", region)
        t.fill_secret("pin", PIN)
        t.fill_secret("pin_confirmation", PIN)
        t.d.find_element(By.ID, "login-sign-in").click()
    calls = {k: v for k, v in t.world.calls().items() if k.startswith("signin")}
    fill("moon-1")
    assert "region" in t.until_text("#region-error").lower()
    assert {k: v for k, v in t.world.calls().items() if k.startswith("signin")} == calls, "a refused form made a call"
    fill("us-east-1")
    query = browser_followed(t, "/v1/authorize")
    assert query["client_id"] == "arn:aws:signin:::devtools/same-device", query
    assert query["code_challenge_method"] == "SHA-256" and query["redirect_uri"].startswith("http://127.0.0.1:"), query
    t.at("identity")
    assert t.text("#identity-details .principal") == who["principal_arn"]
    t.shot(ctx, "login-identity")
    listed = {i["name"]: i for i in json.loads(t.keyfob("list", "--json").stdout)}
    assert listed["me"]["kind"] == "aws-sign-in" and listed["me"]["principal"] == who["principal_arn"], listed
    out = subprocess.run(["setsid", "--wait", "/usr/bin/aws", "sts", "get-caller-identity", "--output", "json",
                          "--profile", "me", "--endpoint-url", t.world.endpoint],
                         env=t.world.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == who["principal_arn"], out.stdout


def login_remote_again_and_logout(t: Desktop, ctx: dict) -> None:
    """Sign in again on another device: the dialog shows the page to open
    there and takes the code that page shows; a wrong code is refused and
    changes nothing. Then Sign out ends the sign-in at AWS."""
    import urllib.request
    import urllib.parse
    def status() -> dict:
        return sso_test(t, "GET", "/keyfob-test/signin/status?user_name=console-e2e")
    def start() -> str:
        t.fill_secret("login_pin", PIN)
        box = t.d.find_element(By.ID, "login_remote")
        if not box.is_selected():
            box.click()
        t.d.find_element(By.ID, "login-again").click()
        t.wait.until(lambda d: d.find_elements(By.ID, "sign-in-typed"))
        assert t.d.find_element(By.ID, "sign-in-dialog").get_attribute("data-mode") == "enter-code"
        return t.text("#sign-in-url")
    url = start()
    t.fill("sign-in-typed", "not-a-code")
    t.d.find_element(By.ID, "sign-in-submit").click()
    t.wait.until(lambda d: "sign-in code" in t.text("#identity-general").lower())
    before = status()
    url = start()
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["client_id"] == ["arn:aws:signin:::devtools/cross-device"]
    t.shot(ctx, "login-remote")
    # The other device: it opens the page, signs in, reads the code.
    page = urllib.request.urlopen(url, timeout=20).read().decode()
    code = re.search(r'id="verification-code">([^<]+)<', page).group(1)
    t.fill("sign-in-typed", code)
    t.d.find_element(By.ID, "sign-in-submit").click()
    t.wait.until(lambda d: "Signed in me again" in t.text("#identity-general"))
    after = status()
    assert after["codes_redeemed"] == before["codes_redeemed"] + 1, (before, after)
    t.fill_secret("login_pin", PIN)
    t.d.find_element(By.ID, "login-logout").click()
    t.wait.until(lambda d: "Signed out me" in t.text("#identity-general"))
    assert status()["revocations"] >= 1, status()
    # Its profile after the sign-out: an unlock asks "sign in again?",
    # which signs in the AWS way (the browser here) and unlocks.
    t.go("profiles")
    t.fresh(lambda: t.row("me").find_element(By.CSS_SELECTOR, 'button[data-action="unlock"]').click())
    t.fill_secret("pin", PIN)
    t.keys(Keys.ENTER)
    t.wait.until(lambda d: d.find_elements(By.ID, "again-dialog"))
    t.fill_secret("again_pin", PIN)
    t.d.find_element(By.ID, "again-submit").click()
    browser_followed(t, "/v1/authorize")
    t.wait.until(lambda d: not d.find_elements(By.ID, "again-dialog"))
    t.wait.until(lambda d: t.row_data("me", "state") == "unlocked")
    # A new console password ends the sign-in at its next renewal; a
    # credential_process client with no terminal then gets its answer
    # after the app signs in for it (the agent asks the app).
    sso_test(t, "POST", "/keyfob-test/signin/password-changed", {"user_name": "console-e2e"})
    time.sleep(2)
    proc = subprocess.Popen(["setsid", "--wait", str(t.cli), "credential-process", "me"],
                            env=t.world.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        t.wait.until(lambda d: d.find_elements(By.ID, "again-dialog"))
        assert "me" in t.text("#again-dialog")
        t.fill_secret("again_pin", PIN)
        t.d.find_element(By.ID, "again-submit").click()
        browser_followed(t, "/v1/authorize")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out)["AccessKeyId"].startswith("ASIA"), out


def sso_remove(t: Desktop, ctx: dict) -> None:
    """Remove from the identity's page, after the confirmation names the
    identity and how many profiles go with it."""
    t.go("profiles")
    t.follow('a[data-identity-link="corp"]', "identity")
    t.d.execute_script("window.confirm = (m) => { window.__asked = m; return true; }")
    t.d.find_element(By.ID, "remove-identity").click()
    t.at("home")
    asked = t.d.execute_script("return window.__asked")
    assert "corp" in asked and "4 profile(s)" in asked, asked
    assert "Removed corp and 4 profile(s)" in t.until_text("#flash .notice.good")
    assert not t.d.find_elements(By.CSS_SELECTOR, 'section.group[data-identity="corp"]')
    assert "corp" not in [i["name"] for i in json.loads(t.keyfob("list", "--json").stdout)]
    assert "acct-0-Admin" not in aws_config(t.world)


CASES = [
    first_run,
    add_wrong_secret,
    add_identity,
    unlock_and_lock,
    search_and_switch,
    narrow_window,
    quick_switch,
    role_profile,
    console,
    account_name,
    credential_process_prompt,
    refused_prompt,
    other_uid_refused,
    settings,
    global_shortcut,
    approvals_turn_on,
    approval_until_lock,
    approval_denied,
    approvals_screen,
    approval_for_a_while,
    access_log_page,
    approvals_turn_off,
    unguarded_refused,
    keys_panel,
    rotation_wizard,
    provider_page,
    sso_add_refused,
    sso_add,
    sso_sync,
    sso_main_view,
    sso_sign_in_again,
    sso_remove,
    login_add,
    login_remote_again_and_logout,
    tray,
    single_instance,
    cli_lock_all,
    memory_after_lock,
    recovery_code_without_tpm,
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=str(ROOT / "target/debug/keyfob-desktop"))
    ap.add_argument("--cli", default=str(ROOT / "target/debug/keyfob"))
    ap.add_argument("--driver", default=shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver")
    ap.add_argument("--screenshots", default=str(ROOT / "docs/screenshots"))
    ap.add_argument("--no-screenshots", action="store_true")
    args = ap.parse_args()
    world = World(Path(args.cli))
    # A software TPM: every identity the app adds is bound to it (PIN and
    # TPM), so add, unlock, lock, rotation and the rest run through it.
    world.start_tpm()
    desktop = None
    failed = 0
    try:
        desktop = Desktop(world, Path(args.app), Path(args.cli), Path(args.driver))
        desktop.at("home")
        print(f"first window ready after {time.monotonic() - desktop.started:.2f} s (WebDriver session start included)")
        ctx = {"shots": None if args.no_screenshots else Path(args.screenshots), "app": Path(args.app), "axe": []}
        for case in CASES:
            start = time.monotonic()
            try:
                case(desktop, ctx)
                print(f"ok    {case.__name__} ({time.monotonic() - start:.1f} s)")
            except (AssertionError, TimeoutException, Exception):
                failed += 1
                print(f"FAIL  {case.__name__}")
                traceback.print_exc()
                # A dialog a failed case left open would block every case
                # after it: close them, so one failure reports as one.
                try:
                    desktop.d.execute_script("document.querySelectorAll('dialog[open]').forEach((d) => d.close())")
                except Exception:
                    pass
        axe = ctx["axe"]
        impacts = [v["impact"] for _, _, vs in axe for v in vs]
        print(f"axe-core: {len({n for n, _, _ in axe})} screens × light/dark, violations: "
              + ", ".join(f"{k} {impacts.count(k)}" for k in ("critical", "serious", "moderate", "minor")))
        for name, theme, vs in axe:
            for v in vs:
                print(f"      axe {name} ({theme}): {v['id']} ({v['impact']}): {v['help']} at {v['target']}")
    finally:
        if desktop:
            desktop.close()
        if os.environ.get("KEYFOB_E2E_KEEP"):
            print(f"kept {world.dir}")
        else:
            world.close()
    print(f"desktop e2e: {len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
