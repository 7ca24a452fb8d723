// The Identities screen: every identity, its key's age and audit badges.
import { call, toApiError } from "../api";
import type { IdentityView } from "../api";
import { h, main, route } from "../dom";
import { day, identityArnText, routeTo } from "../logic";

export async function identities(): Promise<void> {
  const list = await call("list_identities");
  main.append(h("h2", {}, "Identities"));
  if (list.length === 0) {
    main.append(h("p", {}, "No identities yet. ", h("a", { href: "#/add" }, "Add one"), "."));
    return;
  }
  const rows = list.map((i) =>
    h(
      "tr",
      { "data-identity": i.name },
      h("td", {}, i.name),
      h("td", {}, i.access_key_id),
      h("td", { class: "account" }, i.account ?? "unknown"),
      h("td", { class: "arn" }, identityArnText(i)),
      h("td", {}, day(i.added_at)),
      h("td", { class: i.key_old ? "age-old" : "age-ok" }, i.key_age),
      h("td", {}, h("div", { class: "badges" }, ...i.badges.map((b) => badge(b.kind, b.label, b.text)))),
      h(
        "td",
        {},
        h("a", { href: routeTo("keys", i.name), "aria-label": `Access keys of ${i.name}` }, "Keys"),
        " ",
        h("a", { href: routeTo("rotate", i.name), "aria-label": `Rotate the key of ${i.name}` }, "Rotate"),
        " ",
        removeButton(i),
      ),
    ),
  );
  main.append(
    h(
      "table",
      { id: "identities" },
      h("thead", {}, h("tr", {}, ...["Name", "Key ID", "Account", "ARN", "Added", "Key age", "Audit", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows),
    ),
  );
}

function removeButton(i: IdentityView): HTMLElement {
  const b = h("button", { type: "button", "aria-label": `Remove identity ${i.name}` }, "Remove");
  b.onclick = async () => {
    if (!confirm(`Remove identity ${i.name} and its profiles? Its sealed key is deleted.`)) return;
    await call("remove_identity", { name: i.name }).catch((e) => alert(toApiError(e).message));
    route();
  };
  return b;
}

/** An audit finding: a short label, its explanation for screen readers and
 *  on hover; focusable so the keyboard reaches the explanation too. */
function badge(kind: string, label: string, text: string): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${kind}`, "data-badge": kind, title: text, tabindex: "0", role: "note", "aria-label": `${label}: ${text}` },
    label,
  );
}
