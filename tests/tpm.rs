//! TPM-bound identities against a real software TPM: Debian's `swtpm`,
//! one per test, reached through `TPM2TOOLS_TCTI` (never a mock), its
//! dictionary-attack limits set low with tpm2-tools
//! (`tpm2_dictionarylockout -s -n 3 -t 2 -l 2`: 3 wrong PINs lock it, one
//! is forgiven every 2 s), since libtpms's defaults wait 1000 s.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Env, KillWindow, Run, Xorshift, kill_9_with_agent, lock_names, with_identity};

const PIN: &str = "pin-Tpm-b0und";
const STRONG: &str = "pin-Only-Str0ng-42";

/// A running `swtpm` with its own state folder, ended on drop.
struct Swtpm {
    child: Child,
    port: u16,
    _state: tempfile::TempDir,
}

impl Swtpm {
    /// Starts one on two free ports (server P, control P+1) and sets its
    /// lockout low.
    fn start() -> Swtpm {
        for _ in 0..20 {
            let port = free_port_pair();
            let state = tempfile::tempdir().unwrap();
            let mut child = Command::new("swtpm")
                .args(["socket", "--tpm2", "--tpmstate"])
                .arg(format!("dir={}", state.path().display()))
                .args(["--server", &format!("type=tcp,port={port}")])
                .args(["--ctrl", &format!("type=tcp,port={}", port + 1)])
                .args(["--flags", "not-need-init,startup-clear"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start swtpm (apt-get install swtpm swtpm-tools)");
            let begun = Instant::now();
            while begun.elapsed() < Duration::from_secs(10) {
                if child.try_wait().unwrap().is_some() {
                    break; // The port was taken meanwhile: another pair.
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let tpm = Swtpm {
                        child,
                        port,
                        _state: state,
                    };
                    tpm.tool(&[
                        "tpm2_dictionarylockout",
                        "-s",
                        "-n",
                        "3",
                        "-t",
                        "2",
                        "-l",
                        "2",
                    ]);
                    return tpm;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("swtpm did not start on 20 port pairs");
    }

    fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// Runs a tpm2-tools command against this TPM; its stdout.
    fn tool(&self, args: &[&str]) -> String {
        let out = Command::new(args[0])
            .args(&args[1..])
            .env("TPM2TOOLS_TCTI", self.tcti())
            .env("TSS2_LOG", "all+NONE")
            .output()
            .expect("run tpm2-tools (apt-get install tpm2-tools)");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port P with P+1 free as well (swtpm's control channel).
fn free_port_pair() -> u16 {
    loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A world pointed at `tpm`.
fn world(tpm: &Swtpm) -> Env {
    let mut env = Env::new();
    env.tcti = Some(tpm.tcti());
    env
}

fn protection(env: &Env, name: &str) -> String {
    let run = env.run(&["list", "--json"], "").ok();
    let all: Value = serde_json::from_str(&run.stdout).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .map(|i| i["protection"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no identity {name}: {}", run.stdout))
}

fn unlock(env: &Env, name: &str, pin: &str) -> Run {
    env.run(&["unlock", name, "--pin-stdin"], &format!("{pin}\n"))
}

/// `keyfob reseal NAME --tpm TO EXTRA… --stdin` with `stdin`.
fn reseal(env: &Env, name: &str, to: &str, extra: &[&str], stdin: &str) -> Run {
    let mut args = vec!["reseal", name, "--tpm", to];
    args.extend_from_slice(extra);
    args.push("--stdin");
    env.run(&args, stdin)
}

fn recovery_code(add: &Run) -> String {
    let line = add
        .stdout
        .lines()
        .find(|l| l.starts_with("Recovery code"))
        .unwrap_or_else(|| panic!("no recovery code shown: {}", add.stdout));
    line.rsplit(": ").next().unwrap().trim().to_owned()
}

/// Add, unlock, lock, change-pin, rename, rotate and reseal off and on,
/// through the CLI and the agent (which does every unseal); then the vault
/// taken to another TPM does not open with the right PIN, the original
/// TPM opens it, and the recovery code opens it with no TPM at all.
#[test]
fn a_tpm_bound_identity_lives_its_whole_life_and_is_useless_on_another_tpm() {
    let tpm = Swtpm::start();
    let mut env = world(&tpm);
    let user = crate::util::create_user(&crate::util::unique("tpm"));
    let add = env
        .run(
            &[
                "add",
                "work",
                "--access-key-id",
                &user.access_key_id,
                "--stdin",
                "--tpm",
                "require",
                "--recovery-code",
            ],
            &format!("{}\n{PIN}\n", user.secret_access_key),
        )
        .ok();
    assert!(
        add.stdout.contains("bound to this machine's TPM"),
        "{}",
        add.stdout
    );
    let code = recovery_code(&add);
    assert_eq!(code.len(), 26 + 6, "{code}");
    assert_eq!(protection(&env, "work"), "tpm+pin+recovery");

    unlock(&env, "work", PIN).ok();
    env.run(&["lock", "work"], "").ok();
    unlock(&env, "work", PIN).ok();

    let new_pin = "pin-Tpm-n3w-one";
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("{PIN}\n{new_pin}\n"),
    )
    .ok();
    assert_eq!(protection(&env, "work"), "tpm+pin+recovery");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "work", PIN).refused(2, "wrong PIN");
    unlock(&env, "work", new_pin).ok();

    env.run(&["rename", "work", "job"], "").ok();
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "job", new_pin).ok();

    // The agent runs the rotation: the new key is bound before the switch.
    env.run(
        &["rotate", "job", "--grace", "0s", "--pin-stdin"],
        &format!("{new_pin}\n"),
    )
    .ok();
    for _ in 0..2 {
        env.run(
            &["rotate", "job", "--continue", "--pin-stdin"],
            &format!("{new_pin}\n"),
        )
        .ok();
    }
    assert_eq!(protection(&env, "job"), "tpm+pin+recovery");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "job", new_pin).ok();

    // Off (the PIN alone needs a strong PIN: this one is), and on again.
    reseal(&env, "job", "off", &[], &format!("{new_pin}\n")).ok();
    assert_eq!(protection(&env, "job"), "pin");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "job", new_pin).ok();
    let on = reseal(
        &env,
        "job",
        "on",
        &["--recovery-code"],
        &format!("{new_pin}\n"),
    )
    .ok();
    let code = recovery_code(&on);
    assert_eq!(protection(&env, "job"), "tpm+pin+recovery");

    // The store taken to another TPM: the right PIN does not open it.
    env.stop_agent();
    let other = Swtpm::start();
    env.tcti = Some(other.tcti());
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "job", new_pin).refused(1, "bound to another TPM");
    // Its own TPM does.
    env.stop_agent();
    env.tcti = Some(tpm.tcti());
    unlock(&env, "job", new_pin).ok();
    // No TPM at all: the recovery code opens it, under a new PIN.
    env.stop_agent();
    env.tcti = Some("swtpm:host=127.0.0.1,port=1".into());
    env.run(&["lock", "--all"], "").ok();
    let recovered_pin = "pin-Rec0vered-7";
    reseal(
        &env,
        "job",
        "off",
        &["--recovery"],
        &format!("{}\n{recovered_pin}\n", code.to_lowercase()),
    )
    .ok();
    assert_eq!(protection(&env, "job"), "pin");
    unlock(&env, "job", recovered_pin).ok();
    env.run(&["remove", "job", "--yes"], "").ok();
}

/// Under a persistent SRK, wrong PINs past the TPM's threshold lock it
/// out: keyfob says how long the TPM makes it wait, and after that the
/// right PIN opens the key.
/// Then doctor's warning about the empty lockout authorization goes once
/// keyfob has set one (which then works in tpm2-tools).
#[test]
fn hardware_lockout_reports_its_wait_then_recovers_and_the_lockout_auth_warning_goes() {
    let tpm = Swtpm::start();
    // A persistent SRK at 0x81000001, as systemd-tpm2-setup and Windows
    // provision one: keyfob seals under it (the other tests use a
    // transient primary). tpm2_createprimary's attributes lack noDA, so
    // in lockout even loading under it is refused: keyfob must say lockout.
    let ctx = tempfile::tempdir().unwrap();
    let srk = ctx.path().join("srk.ctx");
    let srk = srk.to_str().unwrap();
    tpm.tool(&[
        "tpm2_createprimary",
        "-C",
        "o",
        "-G",
        "ecc256:aes128cfb",
        "-c",
        srk,
    ]);
    tpm.tool(&["tpm2_evictcontrol", "-C", "o", "-c", srk, "0x81000001"]);
    // swtpm has no resource manager: the transient copy would keep one of
    // its three object slots.
    tpm.tool(&["tpm2_flushcontext", "-t"]);
    let env = world(&tpm);
    with_identity(&env, "work", PIN);
    assert_eq!(protection(&env, "work"), "tpm+pin");
    // keyfob lets 5 wrong PINs through before its own wait; this TPM
    // locks out at 3.
    for left in [2, 1] {
        unlock(&env, "work", "wrong-pin-000")
            .refused(2, &format!("the TPM takes {left} more before it locks out"));
    }
    unlock(&env, "work", "wrong-pin-000").refused(2, "the TPM is now locked out");
    let run = unlock(&env, "work", PIN).refused(2, "TPM is locked out");
    assert!(run.stderr.contains("try again in 2 s"), "{}", run.stderr);
    std::thread::sleep(Duration::from_millis(2500));
    unlock(&env, "work", PIN).ok();

    let doctor = env.run(&["doctor"], "").ok();
    assert!(
        doctor.stdout.contains("lockout authorization EMPTY"),
        "{}",
        doctor.stdout
    );
    assert!(doctor.stdout.contains("work: tpm+pin"), "{}", doctor.stdout);
    env.run(
        &["doctor", "--set-lockout-auth", "--stdin"],
        "weak-pin\nweak-pin\n",
    )
    .refused(2, "too easy to guess");
    env.run(
        &["doctor", "--set-lockout-auth", "--stdin"],
        &format!("{STRONG}\n{STRONG}\n"),
    )
    .ok();
    let doctor = env.run(&["doctor", "--json"], "").ok();
    assert!(
        doctor.stdout.contains("lockout authorization set"),
        "{}",
        doctor.stdout
    );
    assert!(!doctor.stdout.contains("EMPTY"), "{}", doctor.stdout);
    let shown = env
        .run(
            &["doctor", "--show-lockout-auth", "--stdin"],
            &format!("{STRONG}\n"),
        )
        .ok();
    let auth = shown.stdout.trim();
    assert!(auth.starts_with("hex:") && auth.len() == 4 + 64, "{auth}");
    // It is the TPM's: tpm2-tools reset the counter with it.
    tpm.tool(&["tpm2_dictionarylockout", "-c", "-p", auth]);
}

/// A TPM that forgives one wrong PIN in 1000 s is locked out by three;
/// `keyfob doctor --reset-lockout`, with the lockout authorization keyfob
/// set (TPM2_DictionaryAttackLockReset through ESAPI), ends it at once:
/// the right PIN opens the key right after, and the TPM counts nothing.
/// Without a stored lockout authorization, or with a wrong PIN for it,
/// nothing is reset.
#[test]
fn a_lockout_ends_at_once_with_the_lockout_authorization_keyfob_set() {
    let tpm = Swtpm::start();
    tpm.tool(&[
        "tpm2_dictionarylockout",
        "-s",
        "-n",
        "3",
        "-t",
        "1000",
        "-l",
        "2",
    ]);
    let env = world(&tpm);
    with_identity(&env, "work", PIN);
    let reset = |pin: &str| {
        env.run(
            &["doctor", "--reset-lockout", "--stdin"],
            &format!("{pin}\n"),
        )
    };
    reset(STRONG).refused(2, "has no lockout authorization");
    env.run(
        &["doctor", "--set-lockout-auth", "--stdin"],
        &format!("{STRONG}\n{STRONG}\n"),
    )
    .ok();
    for _ in 0..2 {
        unlock(&env, "work", "wrong-pin-000").refused(2, "wrong PIN");
    }
    unlock(&env, "work", "wrong-pin-000").refused(2, "the TPM is now locked out");
    let run = unlock(&env, "work", PIN).refused(2, "TPM is locked out");
    assert!(
        run.stderr.contains("try again in 1000 s") && run.stderr.contains("--reset-lockout"),
        "{}",
        run.stderr
    );
    reset("wrong-pin-000").refused(2, "wrong PIN");
    unlock(&env, "work", PIN).refused(2, "TPM is locked out");
    reset(STRONG).ok();
    unlock(&env, "work", PIN).ok();
    let doctor = env.run(&["doctor"], "").ok();
    assert!(
        doctor.stdout.contains("(0 counted now)"),
        "{}",
        doctor.stdout
    );
}

/// `kill -9` at points across a measured reseal, alternating on and off
/// (against swtpm, which unlike /dev/tpmrm0 keeps what a killed client
/// loaded). The agent reseals, so the kill ends the command and the
/// agent together: after each, the identity is under the old protection
/// or the new one and opens with its PIN (the next reseal opens it). At
/// least two kills must land mid-reseal (the killed agent held the
/// vault's lock).
#[test]
fn a_reseal_killed_at_any_point_leaves_the_key_under_the_old_or_the_new_protection() {
    let tpm = Swtpm::start();
    let env = world(&tpm);
    with_identity(&env, "work", STRONG);
    let lock = env.root.path().join("run/keyfob/vault.lock");
    let mut bound = true;
    let mut window = KillWindow::default();
    let flip = |bound: &mut bool, window: &mut KillWindow| {
        let to = if *bound { "off" } else { "on" };
        window.time(|| {
            env.run(
                &["reseal", "work", "--tpm", to, "--stdin"],
                &format!("{STRONG}\n"),
            )
            .ok();
        });
        *bound = !*bound;
    };
    for _ in 0..3 {
        flip(&mut bound, &mut window);
    }
    let mut rng = Xorshift(0x9e3779b97f4a7c15);
    let (mut kills, mut mid) = (0, 0);
    for _ in 0..8 {
        let to = if bound { "off" } else { "on" };
        // The last reseal's agent still runs: this one goes to it.
        let agent = env.agent();
        let mut child = env
            .keyfob()
            .args(["reseal", "work", "--tpm", to, "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let _ = writeln!(child.stdin.take().unwrap(), "{STRONG}");
        }
        let killed = kill_9_with_agent(&mut child, agent, rng.delay(window.micros()));
        let began = lock_names(&lock, agent as u32);
        kills += u32::from(killed);
        mid += u32::from(killed && began);
        let now = protection(&env, "work");
        assert!(now == "pin" || now == "tpm+pin", "{now}");
        bound = now == "tpm+pin";
        // It opens under what it is now: the next (measured) reseal opens it.
        flip(&mut bound, &mut window);
        // swtpm has no resource manager: what a killed reseal had loaded
        // stays in its three object slots until keyfob's next connection
        // clears it (without that, three kills at the wrong time filled
        // them: "out of memory for object contexts").
        let left = tpm.tool(&["tpm2_getcap", "handles-transient"]);
        assert!(left.trim().is_empty(), "transient objects left: {left}");
    }
    eprintln!(
        "8 reseals: {kills} killed, {mid} mid-reseal (window {} ms; runs {:?} ms)",
        window.micros() / 1000,
        window.runs_ms()
    );
    assert!(mid >= 2, "only {mid} of {kills} kills landed mid-reseal");
}

/// With no TPM: one line says what protects the key and what does not, a
/// weak PIN is refused with the reason, and `--tpm require` refuses.
#[test]
fn without_a_tpm_the_pin_alone_must_be_strong_and_says_so() {
    let env = Env::new();
    let user = crate::util::create_user(&crate::util::unique("notpm"));
    let add = |pin: &str, extra: &[&str]| {
        let mut args = vec![
            "add",
            "work",
            "--access-key-id",
            &user.access_key_id,
            "--stdin",
        ];
        args.extend_from_slice(extra);
        env.run(&args, &format!("{}\n{pin}\n", user.secret_access_key))
    };
    add("keys-pin", &[]).refused(2, "PIN: too easy to guess");
    add(STRONG, &["--tpm", "require"]).refused(1, "no TPM 2.0 answers");
    add(STRONG, &["--tpm", "sometimes"]).refused(2, "tpm: must be require, prefer or off");
    let run = add(STRONG, &[]).ok();
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("protected by the PIN alone")
            && run.stderr.contains("not offline guessing"),
        "{}",
        run.stderr
    );
    assert_eq!(protection(&env, "work"), "pin");
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("{STRONG}\nkeys-pin\n"),
    )
    .refused(2, "too easy to guess");
    let doctor = env.run(&["doctor"], "").ok();
    assert!(doctor.stdout.contains("none answers"), "{}", doctor.stdout);
}

/// The agent does the TPM's work for `change-pin` and `reseal`, as for
/// every unseal: with the agent reaching the TPM and the CLI pointed at
/// a trap (a listener that counts connections and closes each), every
/// one of them works and the trap sees no connection from the CLI. A CLI
/// that unsealed or sealed itself would connect to the trap and fail.
#[test]
fn change_pin_and_reseal_run_in_the_agent_and_the_cli_never_reaches_a_tpm() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let tpm = Swtpm::start();
    let mut env = world(&tpm);
    with_identity(&env, "work", STRONG);
    assert_eq!(protection(&env, "work"), "tpm+pin");
    // The agent, started now, keeps the TCTI of the real TPM.
    let agent = env.agent();

    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = trap.local_addr().unwrap().port();
    trap.set_nonblocking(true).unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counter = {
        let (reached, done) = (reached.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                match trap.accept() {
                    Ok((conn, _)) => {
                        reached.fetch_add(1, Ordering::SeqCst);
                        drop(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    };
    env.tcti = Some(format!("swtpm:host=127.0.0.1,port={port}"));

    let new_pin = "pin-Only-N3w-str0ng-7";
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("{STRONG}\n{new_pin}\n"),
    )
    .ok();
    reseal(&env, "work", "off", &[], &format!("{new_pin}\n")).ok();
    assert_eq!(protection(&env, "work"), "pin");
    let on = reseal(
        &env,
        "work",
        "on",
        &["--recovery-code"],
        &format!("{new_pin}\n"),
    )
    .ok();
    let code = recovery_code(&on);
    assert_eq!(protection(&env, "work"), "tpm+pin+recovery");
    // The recovery code the CLI showed is the one the agent sealed with.
    reseal(
        &env,
        "work",
        "on",
        &["--recovery"],
        &format!("{code}\n{STRONG}\n"),
    )
    .ok();
    unlock(&env, "work", STRONG).ok();
    assert_eq!(env.agent_pid(), Some(agent), "one agent did it all");

    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the CLI connected to the TPM it was pointed at"
    );
    // The trap works: an agent started with the CLI's TCTI reaches it.
    env.stop_agent();
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "work", STRONG).refused(1, "TPM");
    // The agent's connection waits in the trap's backlog until its
    // thread next accepts (it polls every 5 ms): give it that time.
    let begun = std::time::Instant::now();
    while reached.load(Ordering::SeqCst) == 0 && begun.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(reached.load(Ordering::SeqCst) > 0, "the trap saw nothing");
    done.store(true, Ordering::SeqCst);
    counter.join().unwrap();
}

/// A logging proxy in front of a swtpm (its command port and, unlogged,
/// its control port at +1): what keyfob and the TPM say to each other,
/// each direction of each connection kept whole.
struct Tap {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acceptors: Vec<std::thread::JoinHandle<()>>,
    pumps: std::sync::Arc<std::sync::Mutex<Vec<std::thread::JoinHandle<Vec<u8>>>>>,
}

impl Tap {
    fn start(tpm: &Swtpm) -> Tap {
        use std::sync::atomic::Ordering;
        let port = free_port_pair();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pumps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut acceptors = Vec::new();
        for offset in [0, 1] {
            let listener = TcpListener::bind(("127.0.0.1", port + offset)).unwrap();
            listener.set_nonblocking(true).unwrap();
            let (stop, pumps, to) = (stop.clone(), pumps.clone(), tpm.port + offset);
            acceptors.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((client, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    };
                    client.set_nonblocking(false).unwrap();
                    let server = TcpStream::connect(("127.0.0.1", to)).unwrap();
                    let mut pumps = pumps.lock().unwrap();
                    pumps.push(pump(
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                    ));
                    pumps.push(pump(server, client));
                }
            }));
        }
        Tap {
            port,
            stop,
            acceptors,
            pumps,
        }
    }

    fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// Every direction of every connection so far (call once the client
    /// closed them: it waits for their ends).
    fn captured(self) -> Vec<Vec<u8>> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for a in self.acceptors {
            a.join().unwrap();
        }
        let pumps = std::mem::take(&mut *self.pumps.lock().unwrap());
        pumps.into_iter().map(|p| p.join().unwrap()).collect()
    }
}

/// Copies `from` to `to` until `from` ends; what it copied.
fn pump(mut from: TcpStream, mut to: TcpStream) -> std::thread::JoinHandle<Vec<u8>> {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
        seen
    })
}

/// Whether any 12 consecutive bytes of `needle` occur in `hay`.
fn leaks(hay: &[u8], needle: &[u8]) -> bool {
    needle
        .windows(12)
        .any(|w| hay.windows(w.len()).any(|h| h == w))
}

/// What crosses the bus between keyfob and the TPM, recorded by a proxy
/// in front of swtpm through a seal, an unseal and a wrong guess: the
/// PIN-derived authValue never appears (the TPM checks an HMAC keyed with
/// it, in a salted policy session; sealing sends it encrypted), and the
/// sealed secret never appears in clear (sent encrypted at sealing,
/// released encrypted under the session bound to the object). The
/// object's public blob, which is no secret, does appear: the recording
/// sees the traffic. A plain session (unsalted, unencrypted) shows both.
#[test]
fn neither_the_auth_value_nor_the_sealed_secret_crosses_the_bus_in_clear() {
    use keyfob::platform::tpm::{Tpm, TpmError};

    let tpm = Swtpm::start();
    let tap = Tap::start(&tpm);
    let bytes = || -> [u8; 32] {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).unwrap();
        b
    };
    let (auth, wrong) = (bytes(), bytes());
    let mut device = Tpm::open_at(&tap.tcti()).expect("swtpm through the proxy");
    let (object, secret) = device.seal(&auth).unwrap();
    let back = device.unseal(&object, &auth).unwrap();
    assert_eq!(back.as_slice(), secret.as_slice());
    assert!(matches!(
        device.unseal(&object, &wrong),
        Err(TpmError::AuthFail)
    ));
    drop(device);

    let wire = tap.captured();
    let total: usize = wire.iter().map(Vec::len).sum();
    assert!(
        wire.iter().any(|d| leaks(d, &object.public)),
        "the recording missed the traffic ({total} bytes)"
    );
    for (what, value) in [
        ("the authValue", &auth[..]),
        ("the wrong guess", &wrong[..]),
        ("the sealed secret", &secret[..]),
    ] {
        assert!(
            !wire.iter().any(|d| leaks(d, value)),
            "{what} crossed the bus in clear ({total} bytes recorded)"
        );
    }
}

/// "No permission", as a user without root's powers would meet it: as
/// nobody (no groups), with the TCTI naming a TPM device nobody may open
/// (root's, mode 0600; /dev/tpmrm0 is root:tss 0660 on most
/// distributions), `add --tpm require` refuses in one line that names the
/// `tss` group and how to join it, and `doctor`'s TPM line says the same.
#[test]
fn a_user_who_may_not_open_the_tpm_is_told_to_join_the_tss_group() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    let nobody = crate::util::Nobody::new();
    let device = nobody.root.join("tpmrm0");
    std::fs::write(&device, b"").unwrap();
    std::fs::set_permissions(&device, std::fs::Permissions::from_mode(0o600)).unwrap();
    let tcti = format!("device:{}", device.display());
    let mut add = nobody
        .command(&[
            "add",
            "work",
            "--access-key-id",
            "AKIAIOSFODNN7EXAMPLE",
            "--stdin",
            "--tpm",
            "require",
            "--no-verify",
        ])
        .env("TPM2TOOLS_TCTI", &tcti)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(
        add.stdin.take().unwrap(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n{STRONG}"
    )
    .unwrap();
    let out = add.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "added: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no permission to use the TPM at {}",
            device.display()
        )) && stderr.contains("the group that owns it")
            && stderr.contains("sudo usermod -aG tss $USER"),
        "{stderr}"
    );
    let doctor = nobody
        .command(&["doctor"])
        .env("TPM2TOOLS_TCTI", &tcti)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.contains("usermod -aG tss"), "{doctor}");
    // Root may open it: the refusal was the permission, not the path.
    assert!(std::fs::File::open(&device).is_ok());
}

/// Identity Center sign-ins bind to the TPM as access keys do: `sso add
/// --tpm require --recovery-code` seals the tokens in envelope v2; the
/// agent opens them through the TPM and renews tokens (of one second)
/// with the key it keeps, the entry staying bound; change-pin keeps it
/// bound; reseal moves it off and on; taken to another TPM the right PIN
/// opens nothing, and the recovery code opens it with no TPM at all.
#[test]
fn identity_center_sign_ins_are_bound_to_the_tpm_like_access_keys() {
    let tpm = Swtpm::start();
    let mut env = world(&tpm);
    let inst = crate::sso::configure(env.moto, 1, serde_json::json!({"access_token_ttl": 1}));
    let add = crate::sso::add_sso_with(
        &env,
        "corp",
        &inst,
        &["--tpm", "require", "--recovery-code"],
        PIN,
    )
    .ok();
    assert!(
        add.stdout.contains("bound to this machine's TPM"),
        "{}",
        add.stdout
    );
    let code = recovery_code(&add);
    assert_eq!(protection(&env, "corp"), "tpm+pin+recovery");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    unlock(&env, "acct-0-Admin", PIN).ok();
    // Another role's session needs a renewed access token (they last a
    // second here): sealed again with the agent's key, still bound.
    let refreshes = || {
        crate::sso::status(env.moto, &inst.start_url)["grants"]["refresh_token"]
            .as_u64()
            .unwrap()
    };
    let before = refreshes();
    env.run(&["credential-process", "acct-0-ReadOnly"], "").ok();
    assert!(refreshes() > before, "no token was renewed");
    assert_eq!(protection(&env, "corp"), "tpm+pin+recovery");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "acct-0-ReadOnly", "wrong-pin-000").refused(2, "wrong PIN");
    unlock(&env, "acct-0-ReadOnly", PIN).ok();

    let new_pin = "pin-Sso-n3w-one";
    env.run(
        &["change-pin", "corp", "--stdin"],
        &format!("{PIN}\n{new_pin}\n"),
    )
    .ok();
    assert_eq!(protection(&env, "corp"), "tpm+pin+recovery");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "acct-0-Admin", new_pin).ok();
    reseal(&env, "corp", "off", &[], &format!("{new_pin}\n")).ok();
    assert_eq!(protection(&env, "corp"), "pin");
    reseal(&env, "corp", "on", &[], &format!("{new_pin}\n")).ok();
    // The data key, so the recovery code, went with it through `off`?
    // No: a key under the PIN alone has no recovery wrap to keep.
    assert_eq!(protection(&env, "corp"), "tpm+pin");
    let on = reseal(
        &env,
        "corp",
        "on",
        &["--recovery-code"],
        &format!("{new_pin}\n"),
    )
    .ok();
    let code = {
        let again = recovery_code(&on);
        assert_ne!(again, code);
        again
    };
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "acct-0-Admin", new_pin).ok();

    // The store taken to another TPM: the right PIN does not open it.
    env.stop_agent();
    let other = Swtpm::start();
    env.tcti = Some(other.tcti());
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "acct-0-Admin", new_pin).refused(1, "bound to another TPM");
    // No TPM at all: the recovery code opens it, under a new PIN.
    env.stop_agent();
    env.tcti = Some("swtpm:host=127.0.0.1,port=1".into());
    let recovered = "pin-Rec0vered-sso-7";
    reseal(
        &env,
        "corp",
        "off",
        &["--recovery"],
        &format!("{code}\n{recovered}\n"),
    )
    .ok();
    assert_eq!(protection(&env, "corp"), "pin");
    unlock(&env, "acct-0-Admin", recovered).ok();
    env.stop_agent();
}

/// An authValue ending in zero bytes (one PIN-derived value in 256 does):
/// the TPM drops trailing zeros from an authValue (TPM 2.0 Part 1,
/// 19.6.5), tpm2-tss 3.2's ESAPI does not when it keys the session bound
/// to the object, so that session's key differed from the TPM's and such
/// an object never unsealed (the TPM counting each try as a wrong PIN).
#[test]
fn an_auth_value_ending_in_zero_bytes_unseals() {
    use keyfob::platform::tpm::Tpm;

    let tpm = Swtpm::start();
    let mut device = Tpm::open_at(&tpm.tcti()).unwrap();
    for zeros in [1, 2] {
        let mut auth = [0x5au8; 32];
        auth[32 - zeros..].fill(0);
        let (object, secret) = device.seal(&auth).unwrap();
        let back = device.unseal(&object, &auth).unwrap();
        assert_eq!(back.as_slice(), secret.as_slice(), "{zeros} zero bytes");
    }
}

/// An AWS sign-in (`aws login`'s kind) bound to the TPM like any identity:
/// the agent opens it through the TPM, renews its credentials (of 301 s:
/// due a second after each) and seals each rotated refresh token again
/// with the key it keeps, the entry staying bound; a wrong PIN is refused
/// after a lock, the right one opens it; change-pin keeps it bound.
#[test]
fn aws_sign_ins_are_bound_to_the_tpm_like_access_keys() {
    let tpm = Swtpm::start();
    let env = world(&tpm);
    let (arn, hint) = crate::login_session::console_user(
        env.moto,
        serde_json::json!({"credential_seconds": 301}),
    );
    let add = crate::login_session::with_browser(
        &env,
        &hint,
        &[],
        &[
            "login-session",
            "add",
            "me",
            "--region",
            "us-east-1",
            "--tpm",
            "require",
            "--pin-stdin",
        ],
        &format!("{PIN}\n"),
    )
    .ok();
    assert!(
        add.stdout.contains("bound to this machine's TPM"),
        "{}",
        add.stdout
    );
    assert_eq!(protection(&env, "me"), "tpm+pin");
    let refreshes = || {
        crate::login_session::status(env.moto, &arn)["refreshes"]
            .as_u64()
            .unwrap()
    };
    let before = refreshes();
    std::thread::sleep(std::time::Duration::from_secs(2));
    env.run(&["credential-process", "me"], "").ok();
    assert!(refreshes() > before, "no renewal");
    assert_eq!(protection(&env, "me"), "tpm+pin");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "me", "wrong-pin-000").refused(2, "wrong PIN");
    unlock(&env, "me", PIN).ok();
    let new_pin = "pin-Login-n3w-one";
    env.run(
        &["change-pin", "me", "--stdin"],
        &format!("{PIN}\n{new_pin}\n"),
    )
    .ok();
    assert_eq!(protection(&env, "me"), "tpm+pin");
    env.run(&["lock", "--all"], "").ok();
    unlock(&env, "me", new_pin).ok();
    env.stop_agent();
}
