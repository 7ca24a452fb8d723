// The Approvals screen (reached from Settings): when keyfob asks before a
// program gets a profile's session (the rule, and a profile's own), and
// the programs approved now, each revocable. With the rule off it offers
// to turn approvals on in one click.
import { call, toApiError } from "../api";
import type { ApprovalsView, RuleChoice } from "../api";
import { RULES, RULE_ORDER, holdsText } from "../access";
import { h, main, notice } from "../dom";

export async function approvalsScreen(): Promise<void> {
  const status = h("div", { id: "approvals-status" });
  const body = h("div");
  main.append(
    h("a", { class: "back", href: "#/settings" }, "← Settings"),
    h("h2", {}, "Approvals"),
    h(
      "p",
      { class: "muted" },
      "Which programs may have a profile's session. A program is its full path and the hash of its contents: the same path with other contents is asked about again. ",
      h("a", { href: "#/access-log", id: "to-access-log" }, "See the access log"),
      ".",
    ),
    status,
    body,
  );
  // Drawn afresh after each change; the control that made it keeps the
  // focus (arrow keys through the rules move on from where they were).
  const show = (v: ApprovalsView) => {
    const focused = document.activeElement?.id;
    body.replaceChildren(...view(v, change));
    if (focused) document.getElementById(focused)?.focus();
  };
  const change = async (what: () => Promise<ApprovalsView>, done: string) => {
    try {
      show(await what());
      status.replaceChildren(notice(done, "good"));
    } catch (e) {
      status.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  show(await call("list_approvals"));
}

type Change = (what: () => Promise<ApprovalsView>, done: string) => Promise<void>;

function view(v: ApprovalsView, change: Change): Node[] {
  const out: Node[] = [];
  if (v.rule === "off") {
    const on = h("button", { type: "button", class: "primary", id: "approvals-turn-on" }, "Turn approvals on");
    on.onclick = () =>
      void change(() => call("set_approval_rule", { profile: null, rule: "new_programs" }), "Approvals are on: a new program is asked about once per profile.");
    out.push(
      h(
        "div",
        { class: "card", id: "approvals-off" },
        h("p", {}, "Approvals are off: any program of yours gets an unlocked profile's session without a question."),
        h("p", { class: "muted" }, `Turn them on to be asked the first time a program wants a profile (${RULES.new_programs.label.toLowerCase()}).`),
        on,
      ),
    );
  }
  // What is approved first: what a person comes here for.
  out.push(approved(v, change), rules(v, change), profileRules(v, change));
  return out;
}

/** The global rule: three choices, each explained. */
function rules(v: ApprovalsView, change: Change): HTMLElement {
  const list = h("ul", { class: "rules" });
  for (const r of RULE_ORDER) {
    const id = `rule-${r}`;
    const radio = h("input", { type: "radio", name: "rule", id, value: r, "aria-describedby": `${id}-hint` });
    radio.checked = v.rule === r;
    radio.onchange = () => void change(() => call("set_approval_rule", { profile: null, rule: r }), `Rule: ${RULES[r].label}.`);
    list.append(
      h("li", {}, h("label", { for: id }, radio, RULES[r].label), h("span", { class: "hint", id: `${id}-hint` }, RULES[r].explain)),
    );
  }
  return h("fieldset", { id: "approval-rule" }, h("legend", {}, "When keyfob asks (every profile without its own rule)"), list);
}

/** A profile's own rule, or the global one. */
function profileRules(v: ApprovalsView, change: Change): HTMLElement {
  if (!v.profiles.length) return h("div");
  const rows = v.profiles.map((p) => {
    const id = `rule-for-${p.profile}`;
    const select = h(
      "select",
      { id, "data-profile": p.profile },
      h("option", { value: "" }, `As every profile (${RULES[v.rule].label})`),
      ...RULE_ORDER.map((r) => h("option", { value: r }, RULES[r].label)),
    );
    select.value = p.own ?? "";
    select.onchange = () => {
      const rule = (select.value || null) as RuleChoice | null;
      void change(
        () => call("set_approval_rule", { profile: p.profile, rule }),
        rule ? `Profile ${p.profile}: ${RULES[rule].label}.` : `Profile ${p.profile} follows the rule of every profile.`,
      );
    };
    return h("tr", {}, h("th", { scope: "row" }, h("label", { for: id }, p.profile)), h("td", {}, select));
  });
  return h(
    "section",
    { "aria-labelledby": "profile-rules-title", class: "card" },
    h("h3", { id: "profile-rules-title" }, "A profile's own rule"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Profile"), h("th", { scope: "col" }, "Rule"))), h("tbody", {}, ...rows)),
  );
}

/** The approvals that hold now, each revocable. */
function approved(v: ApprovalsView, change: Change): HTMLElement {
  const now = new Date();
  const section = h(
    "section",
    { "aria-labelledby": "approved-title", class: "card", id: "approved" },
    h("h3", { id: "approved-title" }, "Approved programs"),
  );
  if (!v.approvals.length) {
    section.append(h("p", { class: "muted", id: "approved-none" }, "No program is approved now: the next one to ask for a profile is asked about."));
    return section;
  }
  const rows = v.approvals.map((a) => {
    const revoke = h("button", { type: "button", class: "small danger", "aria-label": `Revoke ${a.label} for ${a.profile}` }, "Revoke");
    revoke.onclick = () => void change(() => call("revoke_approval", { id: a.id, profile: a.profile }), `Revoked: ${a.label} for ${a.profile}; it is asked about again.`);
    return h(
      "tr",
      { "data-approval": a.id, "data-profile": a.profile },
      h("th", { scope: "row", class: "mono" }, a.label),
      h("td", { class: "mono" }, a.id),
      h("td", {}, a.profile),
      h("td", {}, holdsText(a.holds, now)),
      h("td", { class: "actions" }, revoke),
    );
  });
  section.append(
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Program", "Id", "Profile", "Holds", "Actions"].map((t) =>
            h("th", { scope: "col" }, t === "Actions" ? h("span", { class: "sr-only" }, t) : t),
          ),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
  );
  return section;
}
