// Declares the app's commands (src/command_list.rs) so each needs an
// explicit permission, and writes the capability that grants exactly
// those to keyfob's own window: the list lives in one place.

include!("src/command_list.rs");

macro_rules! names {
    ($($c:ident),*) => {
        &[$(stringify!($c)),*]
    };
}

const COMMANDS: &[&str] = with_commands!(names);

/// capabilities/main.json: the commands above and listening for the
/// prompt and change events; nothing else (no file system, shell, HTTP).
fn capability() -> String {
    let mut permissions = vec![
        "core:event:allow-listen".to_owned(),
        "core:event:allow-unlisten".to_owned(),
    ];
    permissions.extend(
        COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-"))),
    );
    let listed: Vec<String> = permissions.iter().map(|p| format!("    \"{p}\"")).collect();
    format!(
        r#"{{
  "$schema": "../gen/schemas/desktop-schema.json",
  "identifier": "main",
  "description": "What keyfob's own UI may call: its commands, and listening for the prompt and change events. Nothing else (no file system, shell or HTTP). Written by build.rs from src/command_list.rs.",
  "windows": [
    "main"
  ],
  "permissions": [
{}
  ]
}}
"#,
        listed.join(",\n")
    )
}

fn main() {
    let path = std::path::Path::new("capabilities/main.json");
    let text = capability();
    // Written only when it changed, so a build does not dirty the tree.
    if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(path, text).expect("write capabilities/main.json");
    }
    println!("cargo:rerun-if-changed=src/command_list.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
