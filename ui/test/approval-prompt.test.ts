import { beforeAll, describe, expect, it } from "vitest";
import type { PromptView } from "../src/api";
import { setInvoker } from "../src/api";

// prompt.ts finds its host when it loads.
document.body.innerHTML = '<div id="prompt-host"></div><main id="main"></main>';
let showPrompt: (p: PromptView) => void;
const calls: [string, Record<string, unknown> | undefined][] = [];

beforeAll(async () => {
  setInvoker(async (cmd, args) => {
    calls.push([cmd, args]);
    return null;
  });
  ({ showPrompt } = await import("../src/prompt"));
});

let next = 1;
function approval(over: Partial<PromptView> = {}): PromptView {
  return {
    id: next++,
    kind: "approve",
    profile: "prod",
    identity: "alice",
    mfa_serial: null,
    pid: 4242,
    exe: "/usr/bin/python3.12",
    cwd: "/home/u/work",
    script: "/home/u/work/deploy.py",
    parents: ["make", "tmux: server"],
    program: {
      id: "0123456789ab",
      label: "/home/u/work/deploy.py (run by /usr/bin/python3.12)",
      exe: "/usr/bin/python3.12",
      exe_sha256: "aabbccddeeff0011",
      script: "/home/u/work/deploy.py",
    },
    account: "123456789012",
    ...over,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const card = (id: number) => document.querySelector(`[data-prompt="${id}"]`) as HTMLElement | null;

describe("the approval prompt", () => {
  it("names the program by its full path, its script, parents, directory, profile and account", () => {
    const p = approval();
    showPrompt(p);
    const c = card(p.id)!;
    const text = (cls: string) => c.querySelector(`.${cls}`)?.textContent;
    expect(text("prompt-exe")).toBe("/usr/bin/python3.12");
    expect(text("prompt-script")).toBe("/home/u/work/deploy.py");
    expect(text("prompt-parents")).toBe("make ← tmux: server");
    expect(text("prompt-cwd")).toBe("/home/u/work");
    expect(text("prompt-profile")).toBe("prod");
    expect(text("prompt-account")).toBe("123456789012");
    expect(c.closest("[role=alertdialog]")?.getAttribute("aria-label")).toContain("/usr/bin/python3.12");
    // A stray Enter denies rather than allows.
    expect(document.activeElement?.id).toBe(`prompt-${p.id}-deny`);
  });

  it.each([
    ["once", { answer: "once" }],
    ["lock", { answer: "until_lock" }],
    ["deny", { answer: "deny" }],
  ])("answers %s and closes", async (button, expected) => {
    const p = approval();
    showPrompt(p);
    (document.getElementById(`prompt-${p.id}-${button}`) as HTMLButtonElement).click();
    await settle();
    expect(calls.at(-1)).toEqual(["answer_approval", { id: p.id, answer: expected }]);
    expect(card(p.id)).toBeNull();
  });

  it("allows for the duration chosen", async () => {
    const p = approval();
    showPrompt(p);
    const select = document.getElementById(`prompt-${p.id}-duration`) as HTMLSelectElement;
    select.value = "24h";
    (document.getElementById(`prompt-${p.id}-for`) as HTMLButtonElement).click();
    await settle();
    expect(calls.at(-1)).toEqual(["answer_approval", { id: p.id, answer: { answer: "for", secs: 86400 } }]);
  });

  it("denies on Escape", async () => {
    const p = approval({ script: null, program: null, parents: [], cwd: null });
    showPrompt(p);
    expect(card(p.id)!.querySelector(".prompt-script")).toBeNull();
    card(p.id)!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await settle();
    expect(calls.at(-1)).toEqual(["answer_approval", { id: p.id, answer: { answer: "deny" } }]);
  });

  it("keeps the focus inside: Tab from Deny goes to Allow once, Shift+Tab back", () => {
    const p = approval();
    showPrompt(p);
    const c = card(p.id)!;
    const tab = (shiftKey: boolean) =>
      (document.activeElement as HTMLElement).dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", shiftKey, bubbles: true, cancelable: true }));
    expect(tab(false)).toBe(false);
    expect(document.activeElement?.id).toBe(`prompt-${p.id}-once`);
    tab(true);
    expect(document.activeElement?.id).toBe(`prompt-${p.id}-deny`);
    c.closest(".prompt")?.remove();
  });
});
