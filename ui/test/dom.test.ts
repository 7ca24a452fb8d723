import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import { clearErrors, field, h, showError } from "../src/dom";

describe("h", () => {
  it("sets attributes, skips false ones and null children", () => {
    const el = h("button", { type: "submit", disabled: true, hidden: false }, "Save", null);
    expect(el.outerHTML).toBe('<button type="submit" disabled="">Save</button>');
  });
});

describe("field and showError", () => {
  it("puts a field's error in its slot, marks and focuses the input", () => {
    const form = h("form", {}, field("pin", "PIN", { type: "password", hint: "6 or more" }));
    const general = h("div");
    document.body.replaceChildren(form, general);
    const input = document.getElementById("pin") as HTMLInputElement;
    expect(input.getAttribute("aria-describedby")).toBe("pin-error");
    expect(form.querySelector("label")?.getAttribute("for")).toBe("pin");
    showError(new ApiError({ kind: "field", message: "PIN: too short", field: "pin" }), ["pin"], general);
    expect(document.getElementById("pin-error")?.textContent).toBe("too short");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(input);
    expect(general.childElementCount).toBe(0);
    clearErrors(form);
    expect(document.getElementById("pin-error")?.textContent).toBe("");
    expect(input.hasAttribute("aria-invalid")).toBe(false);
  });

  it("shows an error for no field of the form in the general slot", () => {
    const form = h("form", {}, field("pin", "PIN"));
    const general = h("div");
    document.body.replaceChildren(form, general);
    showError(new ApiError({ kind: "aws", message: "STS said no" }), ["pin"], general);
    expect(general.innerHTML).toBe('<div class="notice bad" role="alert">STS said no</div>');
  });
});
