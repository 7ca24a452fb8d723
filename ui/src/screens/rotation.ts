// The rotation wizard, a section of an identity's page: the IAM guide's
// key rotation without downtime, one step at a time, each signed with the
// long-term key the PIN opens.
import { call, toApiError } from "../api";
import type { RotateAction, RotationView } from "../api";
import { backOff, clearErrors, field, h, notice, secret, showError, value } from "../dom";
import { currentStep, rotationActions, rotationSummary, stepView } from "../logic";

function rotationCard(s: RotationView): HTMLElement {
  const current = currentStep(s.steps, s.in_progress);
  return h(
    "div",
    { class: "inset", id: "rotation-status", "data-in-progress": String(s.in_progress) },
    h("p", { id: "rotation-summary" }, rotationSummary(s)),
    h(
      "ol",
      { class: "steps", id: "rotation-steps" },
      ...s.steps.map((st) => {
        const v = stepView(st, current);
        return h("li", { "data-step": String(st.number), class: v.cls, "aria-current": v.isCurrent ? "step" : false }, `${v.mark} ${st.number}. ${st.text}`);
      }),
    ),
    s.delete_after ? h("p", { class: "muted" }, `The old key may be deleted after ${s.delete_after} (grace ${s.grace ?? ""}).`) : null,
  );
}

const ACTION_LABELS: Record<RotateAction, string> = {
  start: "Start rotation (steps 1–3)",
  continue: "Continue (next step)",
  rollback: "Roll back to the old key",
};

export async function rotationSection(name: string): Promise<HTMLElement> {
  const status = await call("rotation_status", { identity: name });
  const general = h("div", { id: "rotate-general" });
  const statusHost = h("div", {}, rotationCard(status));
  const report = h("div", { id: "rotation-report", "aria-live": "polite" });
  const buttons = h("div", { class: "row", id: "rotate-buttons" });
  const form = h(
    "form",
    { id: "rotate-form", novalidate: true },
    h("p", { class: "muted" }, "The IAM guide's rotation without downtime. Each step asks the PIN: the IAM calls are signed with the long-term key."),
    field("rotate-pin", "PIN", { type: "password", autocomplete: "current-password" }),
    field("rotate-grace", "Grace period", { hint: "How long the old key stays inactive before it may be deleted, e.g. 7d, 12h, 0s. Empty: 7 days (start) or as recorded (continue)." }),
    buttons,
  );

  const renderButtons = (inProgress: boolean) => {
    buttons.replaceChildren(
      ...rotationActions(inProgress).map((a, n) =>
        h("button", { id: `rotate-${a}`, type: n === 0 ? "submit" : "button", class: n === 0 ? "primary" : "", "data-action": a }, ACTION_LABELS[a]),
      ),
    );
    buttons.querySelectorAll<HTMLButtonElement>("button[type=button]").forEach((b) => (b.onclick = () => void act(b.dataset.action as RotateAction)));
  };
  const act = async (action: RotateAction) => {
    clearErrors(form);
    general.replaceChildren();
    report.replaceChildren(notice("Working with IAM…"));
    const pin = secret("rotate-pin");
    const all = [...buttons.querySelectorAll("button")];
    all.forEach((b) => (b.disabled = true));
    try {
      const r = await call("rotate", { form: { identity: name, pin, action, grace: value("rotate-grace") } });
      statusHost.replaceChildren(rotationCard(r.status));
      report.replaceChildren(
        h("ul", { id: "rotation-lines" }, ...r.lines.map((l) => h("li", {}, l))),
        ...r.warnings.map((w) => notice(`Warning: ${w}`, "bad")),
      );
      renderButtons(r.status.in_progress);
    } catch (e) {
      report.replaceChildren();
      const err = toApiError(e);
      showError(err, ["pin", "grace"], general, "rotate-");
      all.forEach((b) => (b.disabled = false));
      const primary = buttons.querySelector<HTMLButtonElement>("button[type=submit]");
      if (err.waitSecs && primary) backOff(primary, err.waitSecs);
    }
  };
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const primary = buttons.querySelector<HTMLButtonElement>("button[type=submit]");
    if (primary && !primary.disabled) void act(primary.dataset.action as RotateAction);
  };
  renderButtons(status.in_progress);
  return h("section", { class: "card", id: "rotation-section", "aria-labelledby": "rotation-title" }, h("h3", { id: "rotation-title" }, "Rotate the access key"), statusHost, form, general, report);
}
