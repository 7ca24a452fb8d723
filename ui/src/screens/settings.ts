// The Settings screen: the store, start at login, default durations, the
// quick switcher's global shortcut, and the theme; links to Approvals and
// the Access log.
import { call, toApiError } from "../api";
import { applyTheme, clearErrors, field, h, main, notice, showError, value } from "../dom";
import { themeChoice } from "../logic";

export async function settingsScreen(): Promise<void> {
  const s = await call("get_settings");
  const general = h("div");
  const store = h("select", { id: "store" });
  for (const [v, label] of [
    ["auto", "Automatic: the OS keychain, else the encrypted-file store"],
    ["keychain", "OS keychain only (Secret Service)"],
    ["file", "Encrypted-file store"],
  ]) {
    const o = h("option", { value: v }, label);
    if (s.store === v) o.selected = true;
    store.append(o);
  }
  const login = h("input", { id: "start_at_login", type: "checkbox" });
  login.checked = s.start_at_login;
  const theme = h(
    "select",
    { id: "theme" },
    ...[
      ["system", "Follow the system"],
      ["light", "Light"],
      ["dark", "Dark"],
    ].map(([v, t]) => h("option", { value: v }, t)),
  );
  theme.value = themeChoice(localStorage.getItem("theme"));
  theme.onchange = () => {
    localStorage.setItem("theme", theme.value);
    applyTheme(theme.value);
  };
  const form = h(
    "form",
    { id: "settings-form" },
    h("div", { class: "field" }, h("label", { for: "theme" }, "Theme"), theme, h("span", { class: "hint" }, "Applies at once, on this computer.")),
    h("div", { class: "field" }, h("label", { for: "store" }, "Store"), store, h("span", { class: "hint" }, `In use now: ${s.store_in_use}. A change applies at the next start.`)),
    h("label", { class: "row" }, login, "Start keyfob at login"),
    field("session_duration", "Default session duration", {
      value: s.session_duration,
      hint: "Identity sessions (the PIN is asked once per session): 15m to 36h. Empty for 12h.",
    }),
    field("role_duration", "Default role duration", {
      value: s.role_duration,
      hint: "Role sessions, renewed without a prompt: 15m to 12h, within the role's own maximum. Empty for 1h. A profile's own duration wins.",
    }),
    field("global_shortcut", "Quick switch shortcut", {
      value: s.global_shortcut,
      hint: "Opens the quick switcher from anywhere on the desktop, e.g. Ctrl+Alt+K or Super+Shift+P; empty for none. Ctrl+K always works inside the app.",
    }),
    h(
      "div",
      { class: "field", id: "tpm-status" },
      h("span", { class: "label" }, "TPM"),
      h("span", {}, s.tpm),
      s.tpm_problem ? notice(s.tpm_problem, "bad") : null,
    ),
    h("p", { class: "muted" }, `Settings file: ${s.config_file}`),
    general,
    h("button", { id: "save-settings", type: "submit", class: "primary" }, "Save settings"),
  );
  main.append(
    h("h2", {}, "Settings"),
    h(
      "nav",
      { class: "row", "aria-label": "More settings", id: "settings-more" },
      h("a", { class: "button", href: "#/approvals", id: "to-approvals" }, "Approvals"),
      h("a", { class: "button", href: "#/access-log", id: "to-access-log" }, "Access log"),
    ),
  );
  if (s.notice) main.append(notice(s.notice, "bad"));
  if (s.prompt_service) main.append(notice(`Prompt service not running: ${s.prompt_service}`, "bad"));
  const problem = h("div", { id: "settings-shortcut-problem" }, s.shortcut_problem ? notice(`Global shortcut not active: ${s.shortcut_problem}`, "bad") : null);
  if (!s.shortcut_problem) problem.removeAttribute("id");
  main.append(problem, form);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    try {
      const saved = await call("save_settings", {
        form: {
          store: store.value as "auto" | "keychain" | "file",
          start_at_login: login.checked,
          session_duration: value("session_duration"),
          role_duration: value("role_duration"),
          global_shortcut: value("global_shortcut"),
        },
      });
      (document.getElementById("session_duration") as HTMLInputElement).value = saved.session_duration;
      (document.getElementById("role_duration") as HTMLInputElement).value = saved.role_duration;
      (document.getElementById("global_shortcut") as HTMLInputElement).value = saved.global_shortcut;
      general.replaceChildren(notice("Saved.", "good"));
      problem.replaceChildren(saved.shortcut_problem ? notice(`Global shortcut not active: ${saved.shortcut_problem}`, "bad") : "");
      if (saved.shortcut_problem) problem.id = "settings-shortcut-problem";
      else problem.removeAttribute("id");
    } catch (e) {
      showError(toApiError(e), ["session_duration", "role_duration", "global_shortcut"], general);
    }
  };
}
