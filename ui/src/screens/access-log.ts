// The Access log page (reached from Settings and Approvals): every
// session keyfob handed out or refused, newest first, filtered by profile
// and by program; above the list, a strip per profile and per program
// with a mark per access over the last 24 hours, coloured by what became
// of it, each strip also said in words. New entries arrive live (the
// agent's `keyfob://access` event, through `accessArrived`).
import { call } from "../api";
import type { AccessView, OutcomeView } from "../api";
import { distinct, filterEntries, outcomeText, prepend, requesterText, strips, whenText } from "../access";
import type { LogFilter, Strip } from "../access";
import { h, main } from "../dom";

const SVG = "http://www.w3.org/2000/svg";

/** The entries shown (newest first), and the part of the page drawn from
 *  them while the page is shown. */
let entries: AccessView[] = [];
let redraw: (() => void) | null = null;

/** A new entry from the agent: in the list at once if the page is shown. */
export function accessArrived(entry: AccessView): void {
  entries = prepend(entries, entry);
  if (main.dataset.screen === "access-log") redraw?.();
}

export async function accessLogScreen(): Promise<void> {
  entries = await call("access_log");
  const filter: LogFilter = { profile: "", program: "" };
  const profile = h("select", { id: "log-profile" });
  const program = h("select", { id: "log-program" });
  const fill = (select: HTMLSelectElement, all: string, values: string[], chosen: string) => {
    select.replaceChildren(h("option", { value: "" }, all), ...values.map((v) => h("option", { value: v }, v)));
    select.value = values.includes(chosen) ? chosen : "";
  };
  const live = h("div", { id: "access-live" });
  const draw = () => {
    fill(profile, "Every profile", distinct(entries, "profile"), filter.profile);
    fill(program, "Every program", distinct(entries, "program"), filter.program);
    filter.profile = profile.value;
    filter.program = program.value;
    const shown = filterEntries(entries, filter);
    const now = new Date();
    live.replaceChildren(
      timelines("By profile", "tl-profiles", strips(shown, "profile", now)),
      timelines("By program", "tl-programs", strips(shown, "program", now)),
      table(shown),
    );
  };
  profile.onchange = program.onchange = () => {
    filter.profile = profile.value;
    filter.program = program.value;
    draw();
  };
  main.append(
    h("a", { class: "back", href: "#/settings" }, "← Settings"),
    h("h2", {}, "Access log"),
    h(
      "p",
      { class: "muted" },
      "Every session keyfob handed out or refused, and to which program (its path, the script it runs, who started it, where). No secret is kept in it. ",
      h("a", { href: "#/approvals", id: "to-approvals" }, "Approvals"),
      ".",
    ),
    h(
      "div",
      { class: "toolbar", role: "group", "aria-label": "Filter the log" },
      h("label", { for: "log-profile" }, "Profile"),
      profile,
      h("label", { for: "log-program" }, "Program"),
      program,
    ),
    legend(),
    live,
  );
  redraw = draw;
  draw();
}

function legend(): HTMLElement {
  const swatch = (o: OutcomeView) => {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("viewBox", "0 0 10 10");
    const r = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({ width: "10", height: "10", class: `mark-${o}` })) r.setAttribute(k, v);
    svg.append(r);
    return h("span", {}, svg, outcomeText(o));
  };
  return h("div", { class: "legend" }, "Marks over the last 24 hours:", ...(["made", "cached", "denied", "failed"] as const).map(swatch));
}

/** A strip per key: a mark per access over the last 24 hours. */
function timelines(title: string, id: string, list: Strip[]): HTMLElement {
  const section = h("section", { "aria-labelledby": `${id}-title`, id }, h("h3", { id: `${id}-title` }, `${title}, last 24 hours`));
  if (!list.length) {
    section.append(h("p", { class: "muted" }, "No access in the last 24 hours."));
    return section;
  }
  const grid = h("div", { class: "timelines" });
  for (const s of list) {
    grid.append(h("span", { class: "strip-name" }, s.key, h("span", { class: "muted", "aria-hidden": "true" }, ` · ${s.marks.length}`)), strip(s));
  }
  // The time axis under the strips (the strips' labels say it in words).
  grid.append(
    h("span", { "aria-hidden": "true" }),
    h("div", { class: "axis", "aria-hidden": "true" }, ...["24 h ago", "18 h", "12 h", "6 h", "now"].map((t) => h("span", {}, t))),
  );
  section.append(grid);
  return section;
}

function strip(s: Strip): SVGSVGElement {
  const width = 1000;
  const svg = document.createElementNS(SVG, "svg");
  const attrs = { viewBox: `0 0 ${width} 22`, preserveAspectRatio: "none", role: "img", "aria-label": s.summary, class: "strip" };
  for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
  const el = (tag: string, a: Record<string, string>) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
    return e;
  };
  const title = el("title", {});
  title.textContent = s.summary;
  svg.append(title, el("rect", { x: "0", y: "2", width: String(width), height: "18", class: "track" }));
  // A tick every 6 hours.
  for (let i = 1; i < 4; i++) {
    const x = String((width * i) / 4);
    svg.append(el("line", { x1: x, x2: x, y1: "2", y2: "20", class: "hour" }));
  }
  // Each mark says when and what on hover (the strip's label says it all
  // in words for a screen reader).
  // Refusals drawn last, so one is never hidden under a session handed
  // out at the same moment.
  const now = new Date();
  const order: Record<OutcomeView, number> = { cached: 0, made: 1, failed: 2, denied: 3 };
  for (const m of [...s.marks].sort((a, b) => order[a.outcome] - order[b.outcome])) {
    const mark = el("rect", { x: String(Math.round(m.x * (width - 6))), y: "4", width: "6", height: "14", class: `mark mark-${m.outcome}`, "data-at": m.at });
    const tip = el("title", {});
    tip.textContent = `${whenText(m.at, now)}: ${outcomeText(m.outcome)}`;
    mark.append(tip);
    svg.append(mark);
  }
  return svg;
}

function table(list: AccessView[]): HTMLElement {
  const now = new Date();
  if (!list.length) return h("p", { class: "muted", id: "log-empty" }, "No access logged yet.");
  const rows = list.map((e) =>
    h(
      "tr",
      { "data-profile": e.profile, "data-outcome": e.outcome },
      h("td", {}, h("time", { datetime: e.at }, whenText(e.at, now))),
      h("td", {}, e.profile, e.account ? h("div", { class: "muted" }, `account ${e.account}`) : null),
      h(
        "td",
        {},
        h("div", { class: "mono log-program" }, e.program),
        h("div", { class: "muted log-requester" }, requesterText(e)),
        e.first ? h("span", { class: "tag" }, "first time") : null,
      ),
      h(
        "td",
        {},
        h("span", { class: `outcome-${e.outcome}` }, outcomeText(e.outcome)),
        e.approval ? h("div", { class: "muted" }, e.approval) : null,
        e.detail ? h("div", { class: "muted" }, e.detail) : null,
      ),
    ),
  );
  return h(
    "table",
    { class: "log", id: "log-entries" },
    h("caption", { class: "sr-only" }, "Accesses, newest first"),
    h("thead", {}, h("tr", {}, ...["When", "Profile", "Program", "Outcome"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...rows),
  );
}
