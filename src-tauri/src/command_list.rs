// The app's IPC commands, listed once. `include!`d by build.rs (each
// command needs an explicit permission, and capabilities/main.json, which
// build.rs writes from this list, grants exactly these) and by main.rs (the
// invoke handler). The UI's typed wrapper (ui/src/api/index.ts) is checked
// against it by a test in main.rs.
//
// `$m` is a macro that receives the names.
macro_rules! with_commands {
    ($m:ident) => {
        $m!(
            list_identities,
            verify_identity,
            confirm_identity,
            cancel_identity,
            remove_identity,
            list_profiles,
            save_profile,
            remove_profile,
            current_profile,
            use_profile,
            unlock,
            list_sessions,
            lock,
            lock_all,
            get_settings,
            save_settings,
            pending_prompts,
            answer_prompt,
            list_keys,
            rotation_status,
            rotate,
            new_external_id,
            trust_policy,
            open_console,
            sealing_key,
            account_aliases,
            set_account_alias,
            list_sso_identities,
            add_sso_identity,
            sso_login,
            add_login_identity,
            login_again,
            login_logout,
            submit_sign_in_code,
            cancel_sign_in,
            open_sign_in_page,
            sso_sync,
            remove_sso_identity,
            answer_approval,
            list_approvals,
            revoke_approval,
            set_approval_rule,
            access_log
        )
    };
}
