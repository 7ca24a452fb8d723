// An identity's own page (`#/identity/NAME`): its details and audit
// badges, its profiles (edit, remove, add), its access keys and the
// rotation wizard, and removing it.
import { call, toApiError } from "../api";
import type { IdentityView, ProfileView } from "../api";
import { h, main, notice, route, takeFlash } from "../dom";
import { day, guardText, identityArnText, profileRoleText, routeTo } from "../logic";
import { keysSection } from "./keys";
import { rotationSection } from "./rotation";

export async function identityScreen(arg: string | null): Promise<void> {
  const [identities, profiles] = await Promise.all([call("list_identities"), call("list_profiles")]);
  const i = identities.find((x) => x.name === arg);
  main.append(h("a", { href: "#/", class: "back", id: "back-home" }, "← All profiles"));
  if (!i) {
    main.append(h("h2", {}, "Identity"), notice(`There is no identity ${arg ?? ""}.`, "bad"));
    return;
  }
  const general = h("div", { id: "identity-general" }, takeFlash("identity"));
  main.append(
    h("h2", { id: "identity-title" }, i.name),
    general,
    details(i),
    profilesSection(i, profiles.filter((p) => p.identity === i.name), general),
    keysSection(i.name),
    await rotationSection(i.name),
    removeSection(i, general),
  );
}

function details(i: IdentityView): HTMLElement {
  const item = (label: string, value: Node | string, cls = "") => [h("dt", {}, label), h("dd", { class: cls }, value)];
  return h(
    "section",
    { class: "card", id: "identity-details", "aria-labelledby": "details-title", "data-identity": i.name },
    h("h3", { id: "details-title" }, "Details"),
    h(
      "dl",
      { class: "details" },
      ...item("Account", i.account ?? "unknown", "account"),
      ...item("ARN", identityArnText(i), "mono arn"),
      ...item("Access key", i.access_key_id, "mono"),
      ...item("Added", day(i.added_at)),
      ...item("Key age", i.key_age, i.key_old ? "age-old" : "age-ok"),
    ),
    i.badges.length ? h("div", { class: "badges", id: "identity-badges" }, ...i.badges.map((b) => badge(b.kind, b.label, b.text))) : null,
  );
}

function profilesSection(i: IdentityView, profiles: ProfileView[], general: HTMLElement): HTMLElement {
  const add = h("a", { href: routeTo("new-profile", i.name), class: "button primary", id: "new-profile" }, "New profile");
  const body = h("tbody");
  for (const p of profiles) {
    const remove = h("button", { type: "button", "aria-label": `Remove profile ${p.name}` }, "Remove");
    remove.onclick = async () => {
      if (!confirm(`Remove profile ${p.name}?`)) return;
      try {
        await call("remove_profile", { name: p.name });
        void route();
      } catch (e) {
        general.replaceChildren(notice(toApiError(e).message, "bad"));
      }
    };
    body.append(
      h(
        "tr",
        { "data-profile": p.name },
        h("th", { scope: "row" }, p.name, p.is_default ? h("span", { class: "tag tag-default" }, "default") : null),
        h("td", { class: "mono" }, profileRoleText(p)),
        h("td", { class: `guard guard-${p.guard}`, "data-guard": p.guard }, guardText(p.guard)),
        h("td", { class: "mono" }, p.mfa_serial ?? "—"),
        h("td", {}, p.duration),
        h("td", {}, p.region ?? "—"),
        h(
          "td",
          { class: "actions" },
          h("a", { href: routeTo("edit-profile", p.name), class: "button", "aria-label": `Edit profile ${p.name}` }, "Edit"),
          remove,
        ),
      ),
    );
  }
  return h(
    "section",
    { class: "card", id: "identity-profiles", "aria-labelledby": "profiles-title" },
    h("div", { class: "section-head" }, h("h3", { id: "profiles-title" }, "Profiles"), add),
    profiles.length
      ? h(
          "table",
          { id: "profiles" },
          h("caption", { class: "sr-only" }, `Profiles of ${i.name}`),
          h("thead", {}, h("tr", {}, ...["Name", "Role", "External-ID guard", "MFA", "Duration", "Region", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          body,
        )
      : h("p", { class: "muted" }, "No profiles."),
  );
}

function removeSection(i: IdentityView, general: HTMLElement): HTMLElement {
  const b = h("button", { type: "button", class: "danger", id: "remove-identity" }, `Remove identity ${i.name}`);
  b.onclick = async () => {
    if (!confirm(`Remove identity ${i.name} and its profiles? Its sealed key is deleted.`)) return;
    try {
      await call("remove_identity", { name: i.name });
      location.hash = "#/";
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "remove-title" },
    h("h3", { id: "remove-title" }, "Remove"),
    h("p", { class: "muted" }, "Deletes the sealed key and the identity's profiles from keyfob. The key itself stays active in IAM until you deactivate it."),
    b,
  );
}

/** An audit finding: a short label, its explanation for screen readers and
 *  on hover; focusable so the keyboard reaches the explanation too. */
export function badge(kind: string, label: string, text: string): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${kind}`, "data-badge": kind, title: text, tabindex: "0", role: "note", "aria-label": `${label}: ${text}` },
    label,
  );
}
