// The Sessions screen: the cached sessions, counting down, each lockable.
import { call, toApiError } from "../api";
import { every, h, main, notice, route } from "../dom";
import { secondsUntil, sessionLeftText } from "../logic";

export async function sessionsScreen(): Promise<void> {
  const sessions = await call("list_sessions");
  const general = h("div");
  const lockAll = h("button", { id: "lock-all", type: "button" }, "Lock all");
  lockAll.onclick = async () => {
    const n = await call("lock_all");
    route();
    main.prepend(notice(`Dropped ${n} cached session(s).`, "good"));
  };
  main.append(h("h2", {}, "Sessions"), general);
  if (sessions.length === 0) {
    main.append(h("p", { id: "no-sessions" }, "No cached sessions: every profile is locked."), lockAll);
    return;
  }
  const body = h("tbody");
  for (const s of sessions) {
    const left = h("td", { class: "countdown" });
    every(1000, () => {
      left.textContent = sessionLeftText(secondsUntil(s.expires_at));
    });
    const lock = h("button", { type: "button", "aria-label": `Lock ${s.profile}` }, "Lock");
    lock.onclick = async () => {
      await call("lock", { profile: s.profile }).catch((e) => general.replaceChildren(notice(toApiError(e).message, "bad")));
      route();
    };
    body.append(h("tr", { "data-session": s.profile }, h("td", {}, s.profile), h("td", {}, s.identity), left, h("td", {}, lock)));
  }
  main.append(
    h("table", { id: "sessions" }, h("thead", {}, h("tr", {}, ...["Profile", "Identity", "Expires in", ""].map((t) => h("th", {}, t)))), body),
    h("p", {}, lockAll),
  );
}
