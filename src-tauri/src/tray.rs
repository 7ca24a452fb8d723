//! The tray: the current default profile, one click to switch to any
//! profile, "Lock all", "Open keyfob" and "Quit". The menu is rebuilt after
//! anything that changes the profiles or the default.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use keyfob::app;

use crate::Desk;

const TRAY_ID: &str = "keyfob";
const USE_PREFIX: &str = "use:";

/// Builds the menu from the profiles and `[default]` as they are now.
fn menu(handle: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let desk = handle.state::<Desk>();
    let current = app::current(&desk.kf).ok().flatten();
    let profiles = desk.kf.profiles().unwrap_or_default();
    let menu = Menu::new(handle)?;
    let label = match &current {
        Some(p) => format!("Default profile: {p}"),
        None => "No default profile".to_owned(),
    };
    menu.append(&MenuItem::with_id(
        handle,
        "current",
        label,
        false,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(handle)?)?;
    for p in &profiles {
        let checked = current.as_deref() == Some(p.name.as_str());
        let id = format!("{USE_PREFIX}{}", p.name);
        menu.append(&CheckMenuItem::with_id(
            handle,
            id,
            &p.name,
            true,
            checked,
            None::<&str>,
        )?)?;
    }
    if !profiles.is_empty() {
        menu.append(&PredefinedMenuItem::separator(handle)?)?;
    }
    menu.append(&MenuItem::with_id(
        handle,
        "lock_all",
        "Lock all",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        handle,
        "open",
        "Open keyfob",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        handle,
        "quit",
        "Quit",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

pub fn create(handle: &AppHandle) -> tauri::Result<()> {
    let icon = Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("keyfob")
        .menu(&menu(handle)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::DoubleClick {
                button: MouseButton::Left,
                ..
            } = event
            {
                crate::show_main_window(tray.app_handle());
            }
        })
        .build(handle)?;
    Ok(())
}

/// Rebuilds the menu (after a switch, or a profile saved or removed).
pub fn refresh(handle: &AppHandle) {
    if let Some(tray) = handle.tray_by_id(TRAY_ID)
        && let Ok(menu) = menu(handle)
    {
        let _ = tray.set_menu(Some(menu));
        let tip = app::current(&handle.state::<Desk>().kf).ok().flatten();
        let _ = tray.set_tooltip(Some(match tip {
            Some(p) => format!("keyfob — {p}"),
            None => "keyfob".to_owned(),
        }));
    }
}

fn on_menu(handle: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    if let Some(name) = id.strip_prefix(USE_PREFIX) {
        let (handle, name) = (handle.clone(), name.to_owned());
        // The AWS config write and the vault lookup may block: not on the
        // event loop.
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(e) = app::use_profile(
                &handle.state::<Desk>().kf,
                &name,
                &app::Answered { take_over: false },
            ) {
                tracing::warn!("tray: cannot switch to {name}: {e}");
            }
            crate::changed(&handle);
        });
        return;
    }
    match id {
        "lock_all" => {
            let handle = handle.clone();
            tauri::async_runtime::spawn_blocking(move || {
                if let Err(e) = app::lock_all(&handle.state::<Desk>().kf) {
                    tracing::warn!("tray: lock all: {e}");
                }
                crate::changed(&handle);
            });
        }
        "open" => crate::show_main_window(handle),
        "quit" => handle.exit(0),
        _ => {}
    }
}
