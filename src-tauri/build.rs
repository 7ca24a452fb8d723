// Declares the app's commands so each needs an explicit permission: the
// capability in capabilities/main.json grants exactly those the UI calls.
const COMMANDS: &[&str] = &[
    "list_identities",
    "verify_identity",
    "confirm_identity",
    "cancel_identity",
    "remove_identity",
    "list_profiles",
    "save_profile",
    "remove_profile",
    "current_profile",
    "use_profile",
    "unlock",
    "list_sessions",
    "lock",
    "lock_all",
    "get_settings",
    "save_settings",
    "pending_prompts",
    "answer_prompt",
    "list_keys",
    "rotation_status",
    "rotate",
    "new_external_id",
    "trust_policy",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
