// The one typed wrapper around Tauri's `invoke`. Every command the UI may
// call is listed in `Commands` with its argument and result types, which
// come from the Rust types (ts-rs writes ./bindings from src-tauri/src/dto.rs
// and error.rs). Errors arrive as `UiError` ({kind, message, field?,
// wait_secs?}) and are thrown as `ApiError`.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import { type AppKey, Secret, hasSecret, importKey, sealArgs } from "./sealing";
import type { SealingKey } from "./bindings/SealingKey";
import type { ErrorKind } from "./bindings/ErrorKind";
import type { AccessView } from "./bindings/AccessView";
import type { AddedView } from "./bindings/AddedView";
import type { ApprovalAnswer } from "./bindings/ApprovalAnswer";
import type { ApprovalView } from "./bindings/ApprovalView";
import type { ApprovalsView } from "./bindings/ApprovalsView";
import type { HoldsView } from "./bindings/HoldsView";
import type { OutcomeView } from "./bindings/OutcomeView";
import type { ProfileRuleView } from "./bindings/ProfileRuleView";
import type { ProgramView } from "./bindings/ProgramView";
import type { RuleChoice } from "./bindings/RuleChoice";
import type { BadgeKind } from "./bindings/BadgeKind";
import type { BadgeView } from "./bindings/BadgeView";
import type { ExternalIdView } from "./bindings/ExternalIdView";
import type { GuardView } from "./bindings/GuardView";
import type { KeyView } from "./bindings/KeyView";
import type { PinForm } from "./bindings/PinForm";
import type { RotateAction } from "./bindings/RotateAction";
import type { RotateForm } from "./bindings/RotateForm";
import type { RotateResult } from "./bindings/RotateResult";
import type { RotationStepView } from "./bindings/RotationStepView";
import type { RotationView } from "./bindings/RotationView";
import type { TrustPolicyForm } from "./bindings/TrustPolicyForm";
import type { IdentityView } from "./bindings/IdentityView";
import type { NewIdentityForm } from "./bindings/NewIdentityForm";
import type { NewSsoForm } from "./bindings/NewSsoForm";
import type { NewLoginForm } from "./bindings/NewLoginForm";
import type { SignedInView } from "./bindings/SignedInView";
import type { SignInView } from "./bindings/SignInView";
import type { SsoIdentityView } from "./bindings/SsoIdentityView";
import type { SyncChangeKind } from "./bindings/SyncChangeKind";
import type { SyncChangeView } from "./bindings/SyncChangeView";
import type { SyncReportView } from "./bindings/SyncReportView";
import type { ProfileForm } from "./bindings/ProfileForm";
import type { ProfileView } from "./bindings/ProfileView";
import type { PromptView } from "./bindings/PromptView";
import type { SessionView } from "./bindings/SessionView";
import type { SettingsForm } from "./bindings/SettingsForm";
import type { SettingsView } from "./bindings/SettingsView";
import type { UiError } from "./bindings/UiError";
import type { UnlockForm } from "./bindings/UnlockForm";
import type { VerifiedKeys } from "./bindings/VerifiedKeys";

export { Secret };
export type {
  AccessView,
  AddedView,
  ApprovalAnswer,
  ApprovalView,
  ApprovalsView,
  HoldsView,
  OutcomeView,
  ProfileRuleView,
  ProgramView,
  RuleChoice,
  BadgeKind,
  BadgeView,
  ExternalIdView,
  GuardView,
  KeyView,
  PinForm,
  RotateAction,
  RotateForm,
  RotateResult,
  RotationStepView,
  RotationView,
  TrustPolicyForm,
  ErrorKind,
  IdentityView,
  NewIdentityForm,
  NewSsoForm,
  NewLoginForm,
  SignedInView,
  SignInView,
  SsoIdentityView,
  SyncChangeKind,
  SyncChangeView,
  SyncReportView,
  ProfileForm,
  ProfileView,
  PromptView,
  SessionView,
  SettingsForm,
  SettingsView,
  UiError,
  UnlockForm,
  VerifiedKeys,
};

type None = Record<string, never>;

/** Command name → [arguments, result]. Argument names are camelCase, as
 *  Tauri maps them onto the Rust parameters. */
export interface Commands {
  list_identities: [None, IdentityView[]];
  verify_identity: [{ form: NewIdentityForm }, VerifiedKeys];
  confirm_identity: [{ allowRoot: boolean; tpm: string; recoveryCode: boolean }, AddedView];
  cancel_identity: [None, null];
  remove_identity: [{ name: string }, null];
  list_profiles: [None, ProfileView[]];
  save_profile: [{ form: ProfileForm; guard: PinForm | null }, ProfileView];
  remove_profile: [{ name: string }, null];
  current_profile: [None, string | null];
  use_profile: [{ name: string; takeOver: boolean }, string];
  unlock: [{ form: UnlockForm }, string];
  list_sessions: [None, SessionView[]];
  lock: [{ profile: string }, null];
  lock_all: [None, number];
  get_settings: [None, SettingsView];
  save_settings: [{ form: SettingsForm }, SettingsView];
  pending_prompts: [None, PromptView[]];
  answer_prompt: [{ id: number; value: Secret | null }, null];
  list_keys: [{ identity: string; form: PinForm }, KeyView[]];
  rotation_status: [{ identity: string }, RotationView];
  rotate: [{ form: RotateForm }, RotateResult];
  new_external_id: [{ customer: string | null }, ExternalIdView];
  trust_policy: [{ form: TrustPolicyForm }, string];
  open_console: [{ profile: string; pin: PinForm | null }, null];
  sealing_key: [None, SealingKey];
  account_aliases: [None, Record<string, string>];
  set_account_alias: [{ account: string; alias: string | null }, Record<string, string>];
  list_sso_identities: [None, SsoIdentityView[]];
  add_sso_identity: [{ form: NewSsoForm; flow: number }, SsoIdentityView];
  sso_login: [{ identity: string; form: PinForm; flow: number; unlock: string | null; prompt: number | null; useDeviceCode?: boolean }, SignedInView];
  add_login_identity: [{ form: NewLoginForm; flow: number }, SsoIdentityView];
  login_again: [{ identity: string; form: PinForm; flow: number; remote: boolean; unlock: string | null; prompt: number | null }, SignedInView];
  login_logout: [{ identity: string; form: PinForm }, string];
  submit_sign_in_code: [{ flow: number; code: string }, boolean];
  cancel_sign_in: [{ flow: number }, boolean];
  open_sign_in_page: [{ flow: number }, null];
  sso_sync: [{ identity: string; template: string; dryRun: boolean; form: PinForm }, SyncReportView];
  remove_sso_identity: [{ name: string }, string[]];
  answer_approval: [{ id: number; answer: ApprovalAnswer }, null];
  list_approvals: [None, ApprovalsView];
  revoke_approval: [{ id: string; profile: string }, ApprovalsView];
  set_approval_rule: [{ profile: string | null; rule: RuleChoice | null }, ApprovalsView];
  access_log: [None, AccessView[]];
}

export type Command = keyof Commands;

const KINDS: readonly ErrorKind[] = [
  "field",
  "wrong_pin",
  "back_off",
  "aws",
  "not_found",
  "not_managed",
  "root_refused",
  "store",
  "config",
  "prompt_gone",
  "unguarded",
  "state",
  "locked",
  "resealed",
  "sign_in",
  "internal",
];

/** A command's refusal, with what the UI needs to place and time it. */
export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly waitSecs?: number;
  constructor(e: UiError) {
    super(e.message);
    this.name = "ApiError";
    this.kind = e.kind;
    this.field = e.field;
    this.waitSecs = e.wait_secs;
  }
}

/** Turns whatever `invoke` rejected with into an ApiError: a UiError from
 *  a command, or a bare string / Error from Tauri itself (a missing
 *  permission, a bad argument), which becomes kind "internal". */
export function toApiError(raw: unknown): ApiError {
  if (raw instanceof ApiError) return raw;
  if (
    raw !== null &&
    typeof raw === "object" &&
    "kind" in raw &&
    "message" in raw &&
    typeof (raw as UiError).message === "string" &&
    KINDS.includes((raw as UiError).kind)
  ) {
    const e = raw as UiError;
    return new ApiError({
      kind: e.kind,
      message: e.message,
      field: typeof e.field === "string" ? e.field : undefined,
      wait_secs: typeof e.wait_secs === "number" ? e.wait_secs : undefined,
    });
  }
  const message =
    typeof raw === "string" ? raw : raw instanceof Error ? raw.message : "unexpected error";
  return new ApiError({ kind: "internal", message });
}

type Invoker = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
let invoker: Invoker = tauriInvoke;

/** For tests: replace Tauri's invoke. */
export function setInvoker(fn: Invoker): void {
  invoker = fn;
  appKey = null;
}

/** The app's sealing key, fetched once per page (and again after the app
 *  replaced it). */
let appKey: Promise<AppKey> | null = null;
function sealingKey(): Promise<AppKey> {
  appKey ??= (invoker("sealing_key") as Promise<SealingKey>).then(importKey);
  appKey.catch(() => (appKey = null));
  return appKey;
}

/** Calls a command; rejects with ApiError. Every `Secret` in the
 *  arguments is sealed first (./sealing.ts); if the app replaced its key
 *  meanwhile, the call is sealed again and made once more. */
export async function call<C extends Command>(
  cmd: C,
  ...args: Commands[C][0] extends None ? [] : [Commands[C][0]]
): Promise<Commands[C][1]> {
  const plain = args[0] as Record<string, unknown> | undefined;
  const once = async () => (await sealArgs(sealingKey, plain)) as Record<string, unknown> | undefined;
  try {
    return (await invoker(cmd, await once())) as Commands[C][1];
  } catch (raw) {
    const e = toApiError(raw);
    if (e.kind !== "resealed" || !hasSecret(plain)) throw e;
  }
  appKey = null;
  try {
    return (await invoker(cmd, await once())) as Commands[C][1];
  } catch (raw) {
    throw toApiError(raw);
  }
}
