// The actions the main view, the identity page and the quick switcher
// share: make a profile the default (asking before taking over an AWS
// config section keyfob does not manage), and switch to a profile,
// unlocking it first when it has no session.
import { call, toApiError } from "./api";
import type { ProfileRow } from "./logic";
import { isUnlocked } from "./logic";
import { unlockDialog } from "./screens/unlock";

/** `keyfob use NAME`; a `[default]` keyfob does not manage is replaced
 *  only after the person agrees. Resolves false when they do not. */
export async function makeDefault(name: string): Promise<boolean> {
  try {
    await call("use_profile", { name, takeOver: false });
    return true;
  } catch (e) {
    const err = toApiError(e);
    if (err.kind !== "not_managed") throw err;
    if (!confirm(`${err.message}\n\nReplace it?`)) return false;
    await call("use_profile", { name, takeOver: true });
    return true;
  }
}

/** Unlocks `row` if it has no session (the PIN dialog), then makes it the
 *  default. Resolves false when the person cancels. */
export async function switchTo(row: ProfileRow): Promise<boolean> {
  if (!isUnlocked(row)) {
    const until = await unlockDialog(row);
    if (until === null) return false;
  }
  return makeDefault(row.name);
}
