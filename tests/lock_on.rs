//! Locking when the person leaves (src/agent/lock_on.rs): each signal the
//! agent listens to wipes every session — `ActiveChanged(true)` of
//! `org.freedesktop.ScreenSaver` and of `org.gnome.ScreenSaver` on the
//! session bus, logind's `Session.Lock` and `Manager.PrepareForSleep(true)`
//! on the system bus — and the `false` of those that carry one (the screen
//! saver going away, the machine waking up) wipes nothing.
//!
//! The session bus is the test world's (it runs gnome-keyring); the system
//! bus is a private `dbus-daemon` the agent reaches through
//! `DBUS_SYSTEM_BUS_ADDRESS`, where the test plays logind with `dbus-send`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{Env, User, add_identity, unique};

const PIN: &str = "pin-L0ck-on";

/// The bus a signal travels on.
#[derive(Clone, Copy)]
enum Bus {
    Session,
    System,
}

/// A signal the agent listens to.
struct Signal {
    bus: Bus,
    path: &'static str,
    interface: &'static str,
    member: &'static str,
}

const FREEDESKTOP_SCREEN: Signal = Signal {
    bus: Bus::Session,
    path: "/org/freedesktop/ScreenSaver",
    interface: "org.freedesktop.ScreenSaver",
    member: "ActiveChanged",
};
const GNOME_SCREEN: Signal = Signal {
    bus: Bus::Session,
    path: "/org/gnome/ScreenSaver",
    interface: "org.gnome.ScreenSaver",
    member: "ActiveChanged",
};
const SESSION_LOCK: Signal = Signal {
    bus: Bus::System,
    path: "/org/freedesktop/login1/session/_31",
    interface: "org.freedesktop.login1.Session",
    member: "Lock",
};
const PREPARE_FOR_SLEEP: Signal = Signal {
    bus: Bus::System,
    path: "/org/freedesktop/login1",
    interface: "org.freedesktop.login1.Manager",
    member: "PrepareForSleep",
};

/// A world with a system bus of its own and identity `work` unlocked: the
/// agent (started by `unlock`) holds its session.
struct World {
    env: Env,
    system_bus: String,
}

impl World {
    fn new() -> World {
        let mut env = Env::new();
        let system_bus = env.start_system_bus();
        let user: User =
            serde_json::from_value(env.moto.admin(&["create-user", &unique("lock")])).unwrap();
        add_identity(&env, "work", &user, PIN);
        env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
            .ok();
        assert!(World::session_served(&env), "unlock made no session");
        World { env, system_bus }
    }

    fn address(&self, bus: Bus) -> String {
        match bus {
            Bus::Session => self.env.bus_address().unwrap().to_owned(),
            Bus::System => self.system_bus.clone(),
        }
    }

    /// Waits until a connection on `signal`'s bus has subscribed to it
    /// (the bus's own list of match rules says so): a signal sent earlier
    /// would reach nobody.
    fn wait_subscribed(&self, signal: &Signal) {
        let wanted = [
            format!("interface='{}'", signal.interface),
            format!("member='{}'", signal.member),
        ];
        let begun = Instant::now();
        loop {
            let out = Command::new("dbus-send")
                .arg(format!("--bus={}", self.address(signal.bus)))
                .args([
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.Debug.Stats.GetAllMatchRules",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "GetAllMatchRules: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let rules = String::from_utf8_lossy(&out.stdout);
            if rules
                .lines()
                .any(|rule| wanted.iter().all(|w| rule.contains(w.as_str())))
            {
                return;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(60),
                "the agent did not subscribe to {}.{} within 60 s; the bus's rules: {rules}",
                signal.interface,
                signal.member
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal`, with `arg` as its bool if it carries one.
    fn emit(&self, signal: &Signal, arg: Option<bool>) {
        let mut cmd = Command::new("dbus-send");
        cmd.arg(format!("--bus={}", self.address(signal.bus)))
            .arg("--type=signal")
            .arg(signal.path)
            .arg(format!("{}.{}", signal.interface, signal.member));
        if let Some(arg) = arg {
            cmd.arg(format!("boolean:{arg}"));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "dbus-send: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The agent's counts: (wipes made, lock and sleep signals read).
    fn counts(&self) -> (u64, u64) {
        let text = self.env.run(&["agent", "--status"], "").ok().stdout;
        let number_after = |marker: &str| -> u64 {
            text.split(marker)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no {marker:?} in {text:?}"))
        };
        (number_after("wiped "), number_after("sleep ("))
    }

    /// Waits until the agent has read `n` signals in all; its wipes then.
    fn wipes_once_read(&self, n: u64) -> u64 {
        let begun = Instant::now();
        loop {
            let (wipes, read) = self.counts();
            assert!(read <= n, "the agent read {read} signals, {n} were sent");
            if read == n {
                return wipes;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(60),
                "the agent read {read} of {n} signals within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether `credential-process work` is served (nobody can be asked
    /// for the PIN here, so only a session the agent holds serves it).
    fn session_served(env: &Env) -> bool {
        let run = env.run(&["credential-process", "work"], "");
        if run.code == Some(0) {
            assert!(
                run.stdout.contains("\"AccessKeyId\":\"ASIA"),
                "{}",
                run.stdout
            );
            return true;
        }
        assert!(
            run.stderr.contains("profile work is locked"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        false
    }

    fn served(&self) -> bool {
        World::session_served(&self.env)
    }
}

/// For a signal that carries a bool: `false` first (read, nothing wiped,
/// the session still served), then `true` (one wipe, the profile locked).
fn false_keeps_and_true_wipes(signal: &Signal) {
    let world = World::new();
    world.wait_subscribed(signal);
    assert_eq!(world.counts(), (0, 0));
    world.emit(signal, Some(false));
    assert_eq!(
        world.wipes_once_read(1),
        0,
        "{}.{}(false) wiped the sessions",
        signal.interface,
        signal.member
    );
    assert!(
        world.served(),
        "{}.{}(false) ended the session",
        signal.interface,
        signal.member
    );
    world.emit(signal, Some(true));
    assert_eq!(
        world.wipes_once_read(2),
        1,
        "{}.{}(true) did not wipe",
        signal.interface,
        signal.member
    );
    assert!(
        !world.served(),
        "{}.{}(true) was read and the session was still handed out",
        signal.interface,
        signal.member
    );
}

#[test]
fn the_freedesktop_screen_locking_wipes_every_session() {
    false_keeps_and_true_wipes(&FREEDESKTOP_SCREEN);
}

#[test]
fn the_gnome_screen_locking_wipes_every_session() {
    false_keeps_and_true_wipes(&GNOME_SCREEN);
}

#[test]
fn going_to_sleep_wipes_every_session_and_waking_does_not() {
    false_keeps_and_true_wipes(&PREPARE_FOR_SLEEP);
}

/// logind's `Session.Lock` carries nothing: it wipes at once.
#[test]
fn logind_locking_the_session_wipes_every_session() {
    let world = World::new();
    world.wait_subscribed(&SESSION_LOCK);
    assert_eq!(world.counts(), (0, 0));
    world.emit(&SESSION_LOCK, None);
    assert_eq!(world.wipes_once_read(1), 1, "Session.Lock did not wipe");
    assert!(
        !world.served(),
        "Session.Lock was read and the session was still handed out"
    );
}
