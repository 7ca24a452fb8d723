// The Unlock screen: a profile's PIN (and MFA code) opens a session.
import { call, toApiError } from "../api";
import type { ProfileView } from "../api";
import { backOff, clearErrors, field, h, main, notice, showError, value } from "../dom";
import { formatCountdown, secondsUntil } from "../logic";

function profileSelect(id: string, profiles: ProfileView[], selected?: string): HTMLSelectElement {
  const select = h("select", { id, name: id });
  for (const p of profiles) {
    const o = h("option", { value: p.name }, p.name + (p.mfa_serial ? " (MFA)" : ""));
    if (p.name === selected) o.selected = true;
    select.append(o);
  }
  return select;
}

export async function unlockScreen(preselect?: string): Promise<void> {
  const profiles = await call("list_profiles");
  main.append(h("h2", {}, "Unlock"));
  if (profiles.length === 0) {
    main.append(h("p", {}, "No profiles yet."));
    return;
  }
  const general = h("div", { id: "unlock-general" });
  const select = profileSelect("unlock-profile", profiles, preselect);
  const mfa = field("mfa_code", "MFA code", { hint: "6 digits from the profile's MFA device", autocomplete: "one-time-code" });
  const submit = h("button", { id: "unlock-submit", type: "submit", class: "primary" }, "Unlock");
  const form = h(
    "form",
    { id: "unlock-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "unlock-profile" }, "Profile"), select),
    field("pin", "PIN", { type: "password", autocomplete: "current-password" }),
    mfa,
    submit,
  );
  const syncMfa = () => {
    const p = profiles.find((x) => x.name === select.value);
    mfa.hidden = !p?.mfa_serial;
  };
  select.onchange = syncMfa;
  syncMfa();
  main.append(general, form);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    const pin = value("pin");
    (document.getElementById("pin") as HTMLInputElement).value = "";
    const code = mfa.hidden ? null : value("mfa_code").trim();
    try {
      const until = await call("unlock", { form: { profile: select.value, pin, mfa_code: code || null } });
      general.replaceChildren(
        notice(`Profile ${select.value} unlocked for ${formatCountdown(secondsUntil(until))}.`, "good"),
      );
    } catch (e) {
      const err = toApiError(e);
      showError(err, ["pin", "mfa_code"], general);
      if (err.waitSecs) backOff(submit, err.waitSecs);
    }
  };
  select.focus();
}
