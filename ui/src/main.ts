// keyfob's screens, in plain TypeScript and DOM. Every screen is a link in
// the header (reachable with Tab / Enter) and a hash route; each form is a
// real <form>, so Enter submits it. All data goes through ./api. This file
// only starts the app: the routes, the header links and the events from
// the Rust side; each screen is in ./screens, what they share in ./dom.
import { listen } from "@tauri-apps/api/event";
import { call, toApiError } from "./api";
import type { PromptView } from "./api";
import { clearTimers, main, notice, setRouter } from "./dom";
import { parseRoute } from "./logic";
import { showPrompt } from "./prompt";
import { addIdentity } from "./screens/add-identity";
import { identities } from "./screens/identities";
import { keysScreen } from "./screens/keys";
import { profilesScreen } from "./screens/profiles";
import { providerScreen } from "./screens/provider";
import { rotateScreen } from "./screens/rotation";
import { sessionsScreen } from "./screens/sessions";
import { settingsScreen } from "./screens/settings";
import { switchScreen } from "./screens/switch";
import { unlockScreen } from "./screens/unlock";

const SCREENS: Record<string, (arg: string | null) => Promise<void>> = {
  identities,
  add: addIdentity,
  unlock: () => unlockScreen(),
  switch: switchScreen,
  profiles: profilesScreen,
  sessions: sessionsScreen,
  settings: settingsScreen,
  keys: keysScreen,
  rotate: rotateScreen,
  provider: providerScreen,
};

/** Renders the screen the hash names; `data-ready` tells the end-to-end
 *  tests when it has. */
async function route(): Promise<void> {
  clearTimers();
  const { screen: name, arg } = parseRoute(location.hash);
  const screen = SCREENS[name] ?? identities;
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  main.replaceChildren();
  main.dataset.screen = name;
  try {
    await screen(arg);
  } catch (e) {
    main.append(notice(toApiError(e).message, "bad"));
  }
  main.dataset.ready = name;
}

setRouter(route);
window.addEventListener("hashchange", () => void route());
// Choosing the screen already shown starts it afresh (hashchange would not fire).
document.querySelectorAll<HTMLAnchorElement>("nav a").forEach((a) =>
  a.addEventListener("click", (ev) => {
    if (a.getAttribute("href") === location.hash) {
      ev.preventDefault();
      void route();
    }
  }),
);
void route();
void listen<PromptView>("keyfob://prompt", (e) => showPrompt(e.payload));
void listen("keyfob://changed", () => void route());
void call("pending_prompts").then((list) => list.forEach(showPrompt), () => undefined);
