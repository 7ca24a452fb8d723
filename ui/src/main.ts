// keyfob's UI, in plain TypeScript and DOM: one main view (every profile,
// grouped by identity, with its state and actions), an identity's own
// page, the add flows, Settings and Provider, and the quick switcher
// (Ctrl+K here, a global shortcut from anywhere). Each screen is a hash
// route in ./screens; what they share is in ./dom; all data goes through
// ./api. This file only starts the app: the routes, the keyboard
// shortcut and the events from the Rust side.
import { listen } from "@tauri-apps/api/event";
import { call, toApiError } from "./api";
import type { AccessView, PromptView } from "./api";
import { applyTheme, clearTimers, main, notice, setRouter } from "./dom";
import { parseRoute } from "./logic";
import { showPrompt } from "./prompt";
import { accessArrived, accessLogScreen } from "./screens/access-log";
import { addIdentity } from "./screens/add-identity";
import { addSso } from "./screens/add-sso";
import { addLogin } from "./screens/add-login";
import { approvalsScreen } from "./screens/approvals";
import { home } from "./screens/home";
import { identityScreen } from "./screens/identity";
import { editProfileScreen, newProfileScreen } from "./screens/profile-form";
import { providerScreen } from "./screens/provider";
import { quickSwitch } from "./screens/quick-switch";
import { settingsScreen } from "./screens/settings";

const SCREENS: Record<string, (arg: string | null) => Promise<void>> = {
  home,
  identity: identityScreen,
  add: addIdentity,
  "add-sso": addSso,
  "add-login": addLogin,
  "new-profile": newProfileScreen,
  "edit-profile": editProfileScreen,
  settings: settingsScreen,
  approvals: approvalsScreen,
  "access-log": accessLogScreen,
  provider: providerScreen,
};

/** Which header link a screen belongs under. */
const SECTION: Record<string, string> = {
  settings: "#/settings",
  approvals: "#/settings",
  "access-log": "#/settings",
  provider: "#/provider",
};

/** Renders the screen the hash names, one render at a time: a route asked
 *  for while one runs makes one more render after it, however many were
 *  asked. (Screens append to the main view after their calls return; two
 *  renders that overlapped, the first one and a change event on a slow
 *  machine, left both screens' elements in it: two toolbars, two
 *  #search, which axe reported as a landmark twice.) */
let rendering: Promise<void> | null = null;
let renderAgain = false;
function route(): Promise<void> {
  if (rendering) {
    renderAgain = true;
    return rendering;
  }
  rendering = (async () => {
    try {
      do {
        renderAgain = false;
        await render();
      } while (renderAgain);
    } finally {
      rendering = null;
    }
  })();
  return rendering;
}

/** One render of the screen the hash names; `data-ready` tells the
 *  end-to-end tests when it is done. */
async function render(): Promise<void> {
  clearTimers();
  const { screen: name, arg } = parseRoute(location.hash);
  const known = name in SCREENS;
  const screen = SCREENS[name] ?? home;
  const section = SECTION[name] ?? "#/";
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.getAttribute("href") === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  // A re-render of the same screen (a change from the tray or the CLI)
  // keeps the focus where it was, caret included.
  const focused = document.activeElement instanceof HTMLElement && main.contains(document.activeElement) ? document.activeElement : null;
  const again = focused?.id && main.dataset.screen === (known ? name : "home") ? focused.id : null;
  const caret = focused instanceof HTMLInputElement ? focused.selectionStart : null;
  main.replaceChildren();
  main.dataset.ready = "";
  main.dataset.screen = known ? name : "home";
  try {
    await screen(arg);
  } catch (e) {
    main.append(notice(toApiError(e).message, "bad"));
  }
  if (again) {
    const el = document.getElementById(again);
    el?.focus();
    if (el instanceof HTMLInputElement && caret !== null) el.setSelectionRange(caret, caret);
  }
  // Ready once no other render waits: a test that waits for it then
  // finds the page it will act on.
  main.dataset.ready = renderAgain ? "" : known ? name : "home";
}

function openQuickSwitch(): void {
  quickSwitch().catch((e) => alert(toApiError(e).message));
}

applyTheme(localStorage.getItem("theme"));
setRouter(route);
window.addEventListener("hashchange", () => void route());
// Choosing the screen already shown starts it afresh (hashchange would not fire).
document.querySelectorAll<HTMLAnchorElement>("header a[href^='#/']").forEach((a) =>
  a.addEventListener("click", (ev) => {
    if (a.getAttribute("href") === (location.hash || "#/")) {
      ev.preventDefault();
      void route();
    }
  }),
);
document.addEventListener("keydown", (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && ev.key.toLowerCase() === "k") {
    ev.preventDefault();
    openQuickSwitch();
    return;
  }
  // "/" jumps to the main view's search, unless typing somewhere already.
  const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.target instanceof HTMLTextAreaElement;
  if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.altKey && !ev.metaKey) {
    const search = document.getElementById("search");
    if (search && !document.querySelector("dialog[open]")) {
      ev.preventDefault();
      search.focus();
    }
  }
});
document.getElementById("open-quick-switch")?.addEventListener("click", openQuickSwitch);
void route();
void listen<PromptView>("keyfob://prompt", (e) => showPrompt(e.payload));
void listen("keyfob://changed", () => {
  // The tray or the CLI changed a default, a session or a profile. Only
  // the main view shows those; the other screens hold forms a reload
  // would wipe, and an open dialog (unlock, quick switch) is left alone.
  // (Approvals too: locking a profile ends its approvals until lock.)
  const shows = main.dataset.screen === "home" || main.dataset.screen === "approvals";
  if (shows && !document.querySelector("dialog[open]")) void route();
});
void listen("keyfob://quick-switch", () => openQuickSwitch());
// Every session the agent (this app) handed out or refused: the access
// log page shows it as it happens.
// The Approvals screen is drawn again too: an answer at a prompt may have
// added an approval.
void listen<AccessView>("keyfob://access", (e) => {
  accessArrived(e.payload);
  if (main.dataset.screen === "approvals") void route();
});
void call("pending_prompts").then((list) => list.forEach(showPrompt), () => undefined);
