// The Switch identity screen: which profile `[default]` points at.
import { call, toApiError } from "../api";
import { h, main, notice, route } from "../dom";

export async function switchScreen(): Promise<void> {
  const profiles = await call("list_profiles");
  const general = h("div", { id: "switch-general" });
  main.append(h("h2", {}, "Switch identity"), h("p", { class: "muted" }, "The default profile is what every AWS tool uses without --profile."), general);
  const list = h("ul", { id: "switch-list" });
  for (const p of profiles) {
    const b = h("button", { type: "button", "data-profile": p.name, class: p.is_default ? "primary" : "" }, p.is_default ? "Default" : "Make default");
    b.disabled = p.is_default;
    b.onclick = async () => {
      try {
        await call("use_profile", { name: p.name, takeOver: false });
        route();
      } catch (e) {
        const err = toApiError(e);
        if (err.kind === "not_managed" && confirm(`${err.message}\n\nReplace it?`)) {
          await call("use_profile", { name: p.name, takeOver: true }).catch((x) => general.replaceChildren(notice(toApiError(x).message, "bad")));
          route();
        } else {
          general.replaceChildren(notice(err.message, "bad"));
        }
      }
    };
    list.append(
      h(
        "li",
        { class: "row", "data-profile": p.name },
        h("span", { class: p.is_default ? "current" : "" }, `${p.is_default ? "✓ " : ""}${p.name}`),
        h("span", { class: "muted" }, p.role_arn ? `role ${p.role_arn}` : `identity ${p.identity}`),
        b,
      ),
    );
  }
  main.append(profiles.length ? list : h("p", {}, "No profiles yet."));
}
