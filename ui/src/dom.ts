// What every screen shares: the element builder, form fields and their
// error slots, notices, timers that end with the screen, and navigation.
import { Secret } from "./api";
import type { ApiError, IdentityView } from "./api";
import { formatCountdown, placeError } from "./logic";

/** The element each screen renders into. */
export const main = document.getElementById("main") as HTMLElement;

let timers: number[] = [];

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

export function notice(text: string, kind: "good" | "bad" | "" = ""): HTMLElement {
  return h("div", { class: `notice ${kind}`, role: kind === "bad" ? "alert" : "status" }, text);
}

/** A labelled input with its error slot (`#ID-error`). */
export function field(
  id: string,
  label: string,
  opts: { type?: string; hint?: string; value?: string; autocomplete?: string } = {},
): HTMLElement {
  const input = h("input", {
    id,
    name: id,
    type: opts.type ?? "text",
    autocomplete: opts.autocomplete ?? "off",
    spellcheck: "false",
    "aria-describedby": `${id}-error`,
  });
  input.value = opts.value ?? "";
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    opts.hint ? h("span", { class: "hint" }, opts.hint) : null,
    h("span", { class: "error", id: `${id}-error`, "aria-live": "polite" }),
  );
}

export function value(id: string): string {
  return (document.getElementById(id) as HTMLInputElement | null)?.value ?? "";
}

/** A password field's text, to be sealed when sent, and the field
 *  emptied: a secret leaves the page's fields as soon as it is read. */
export function secret(id: string): Secret {
  const input = document.getElementById(id) as HTMLInputElement | null;
  const text = new Secret(input?.value ?? "");
  if (input) input.value = "";
  return text;
}

export function clearErrors(form: HTMLElement): void {
  form.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

/** Shows an error next to its field, or in `general`. A form whose
 *  inputs' ids carry a prefix (two PIN fields on one page: `keys-pin`,
 *  `rotate-pin`) passes it as `prefix`. */
export function showError(err: ApiError, fields: readonly string[], general: HTMLElement, prefix = ""): void {
  const placed = placeError(err, fields);
  if (placed.field) {
    const slot = document.getElementById(`${prefix}${placed.field}-error`);
    const input = document.getElementById(`${prefix}${placed.field}`);
    if (slot) slot.textContent = placed.text;
    input?.setAttribute("aria-invalid", "true");
    (input as HTMLInputElement | null)?.focus();
  } else {
    general.replaceChildren(notice(placed.text, "bad"));
  }
}

/** Copies `text`: the async clipboard API where the webview allows it,
 *  else selecting `el`'s text and the older execCommand("copy"). */
export async function copyText(text: string, el: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    } finally {
      sel?.removeAllRanges();
    }
  }
}

/** A modal dialog (the native <dialog>: focus stays inside, Escape
 *  closes it, the page behind is inert). It is removed when it closes and
 *  focus goes back to where it was. */
export function modal(id: string, title: string, ...body: (Node | string | null)[]): HTMLDialogElement {
  const opener = document.activeElement as HTMLElement | null;
  const heading = h("h2", { id: `${id}-title` }, title);
  const dialog = h("dialog", { id, class: "modal", "aria-labelledby": `${id}-title` }, heading, ...body);
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener?.focus?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A select of the identities, `selected` chosen (else the first). */
export function identitySelect(id: string, list: IdentityView[], selected: string | null): HTMLSelectElement {
  const select = h("select", { id, name: id });
  for (const i of list) {
    const o = h("option", { value: i.name }, i.name);
    if (i.name === selected) o.selected = true;
    select.append(o);
  }
  return select;
}

// ----------------------------------------------------------------- timers

/** Runs `fn` now and every `ms` until the screen changes. */
export function every(ms: number, fn: () => void): void {
  fn();
  timers.push(window.setInterval(fn, ms));
}

/** Disables `button` and counts down the back-off on it. */
export function backOff(button: HTMLButtonElement, secs: number): void {
  const label = button.textContent;
  const end = Date.now() + secs * 1000;
  button.disabled = true;
  button.textContent = `Wait ${formatCountdown(secs)}`;
  const t = window.setInterval(() => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      window.clearInterval(t);
      button.disabled = false;
      button.textContent = label;
    } else {
      button.textContent = `Wait ${formatCountdown(left)}`;
    }
  }, 250);
  timers.push(t);
}

/** Stops the timers of the screen being left. */
export function clearTimers(): void {
  timers.forEach((t) => window.clearInterval(t));
  timers = [];
}

// ------------------------------------------------------------- navigation

let router: () => Promise<void> = async () => undefined;

/** Sets what `route` runs (main.ts's router; kept out of here so the
 *  screens need not import the table of screens). */
export function setRouter(fn: () => Promise<void>): void {
  router = fn;
}

/** Renders the screen the location hash names, afresh. */
export function route(): Promise<void> {
  return router();
}

// ----------------------------------------------------------------- flash

let pending: { text: string; kind: "good" | "bad" | ""; screen: string; until: number } | null = null;

/** A notice for the next render of `screen` (after a save that moves on).
 *  It survives a re-render of that screen in the next few seconds (a
 *  change from the tray's watcher), and no other screen shows it. */
export function flash(text: string, kind: "good" | "bad" | "" = "good", screen = "home"): void {
  pending = { text, kind, screen, until: Date.now() + 5000 };
}

/** The notice flashed for `screen`, if any. */
export function takeFlash(screen: string): HTMLElement | null {
  if (pending && (pending.screen !== screen || Date.now() > pending.until)) pending = null;
  return pending ? h("div", { id: "flash" }, notice(pending.text, pending.kind)) : null;
}

/** Light or dark by choice, else the system's (prefers-color-scheme). */
export function applyTheme(choice: string | null): void {
  if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
}
