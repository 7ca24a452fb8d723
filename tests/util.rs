//! Test helpers that start the real parts: a D-Bus session with
//! gnome-keyring's Secret Service for each test, and one moto server (the
//! AWS emulator, auth checks on) shared by the whole run.
//!
//! Every `keyfob` run gets a cleared environment: its own HOME and XDG
//! folders, the test's D-Bus address, and the emulator's endpoint through
//! the SDK's standard `AWS_ENDPOINT_URL`, exactly as a user would set it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The `keyfob` front: what users and AWS tools run.
pub const KEYFOB: &str = env!("CARGO_BIN_EXE_keyfob");
/// The full CLI the front hands everything but a warm call to (by exec:
/// the same process then runs this binary).
pub const KEYFOB_CLI: &str = env!("CARGO_BIN_EXE_keyfob-cli");

/// The project's root, for the Python helpers in tests/support.
pub fn support(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(file)
}

#[derive(Debug, Deserialize)]
pub struct MotoInfo {
    pub port: u16,
}

/// The shared emulator: started by `scripts/test` (which sets
/// `KEYFOB_TEST_MOTO` to its port file) or, when tests run on their own,
/// by the first test that needs it. A launcher started here exits when its
/// stdin closes, i.e. when this test process ends.
pub struct Moto {
    pub port_file: PathBuf,
    pub info: MotoInfo,
    _launcher: Option<Mutex<(Child, ChildStdin)>>,
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.info.port)
    }
}

pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        if let Ok(port_file) = std::env::var("KEYFOB_TEST_MOTO") {
            let port_file = PathBuf::from(port_file);
            let info = read_port_file(&port_file, Duration::from_secs(60));
            return Moto {
                port_file,
                info,
                _launcher: None,
            };
        }
        Moto::start()
    })
}

impl Moto {
    /// Starts a launcher of this process's own (it exits with it).
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().unwrap().keep();
        let port_file = dir.join("moto.json");
        let mut child = Command::new("python3")
            .arg(support("moto_launcher.py"))
            .arg("--port-file")
            .arg(&port_file)
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // To a file: an inherited stderr would outlive the test.
            .stderr(std::fs::File::create(dir.join("moto.log")).unwrap())
            .spawn()
            .expect("start tests/support/moto_launcher.py (pip install -r tests/support/requirements.txt)");
        let stdin = child.stdin.take().unwrap();
        let info = read_port_file(&port_file, Duration::from_secs(60));
        Moto {
            port_file,
            info,
            _launcher: Some(Mutex::new((child, stdin))),
        }
    }

    /// Runs an action of tests/support/iam_admin.py against this emulator
    /// and parses its JSON output.
    pub fn admin(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new("python3")
            .arg(support("iam_admin.py"))
            .arg(&self.port_file)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "iam_admin.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The emulator's request counts by `service:Action`.
    pub fn calls(&self) -> serde_json::Value {
        self.test_get("/keyfob-test/calls")
    }

    /// A launcher test endpoint's JSON (`/keyfob-test/…`).
    pub fn test_get(&self, path: &str) -> serde_json::Value {
        let (status, _, body) = self.http_get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// GET `path_and_query` on the emulator: (status, headers, body).
    pub fn http_get(&self, path_and_query: &str) -> (u16, String, String) {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.info.port)).unwrap();
        write!(
            stream,
            "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }
}

fn read_port_file(path: &Path, limit: Duration) -> MotoInfo {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(info) = serde_json::from_str(&text)
        {
            return info;
        }
        assert!(
            start.elapsed() < limit,
            "the emulator did not write {} within {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An IAM user in the emulator with one access key.
#[derive(Debug, Deserialize)]
pub struct User {
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Creates an IAM user (and key) in the shared emulator; the user may
/// call sts:AssumeRole.
pub fn create_user(name: &str) -> User {
    serde_json::from_value(moto().admin(&["create-user", name])).unwrap()
}

/// Adds the IAM user `user` as identity `identity` under `pin` (its key
/// verified with the emulator): the one way every test seeds an identity.
pub fn add_identity(env: &Env, identity: &str, user: &User, pin: &str) {
    env.run(
        &[
            "add",
            identity,
            "--access-key-id",
            &user.access_key_id,
            "--stdin",
        ],
        &format!("{}\n{pin}\n", user.secret_access_key),
    )
    .ok();
}

/// A fresh IAM user added as identity `identity` (with its plain profile)
/// under `pin`.
pub fn with_identity(env: &Env, identity: &str, pin: &str) -> User {
    with_identity_using(env, &[], identity, pin, &[])
}

/// [`with_identity`] with `keyfob` run through `wrapper` (see
/// [`Env::keyfob_in`]) and `extra` arguments to `add`.
pub fn with_identity_using(
    env: &Env,
    wrapper: &[&str],
    identity: &str,
    pin: &str,
    extra: &[&str],
) -> User {
    let user: User =
        serde_json::from_value(env.moto.admin(&["create-user", &unique(identity)])).unwrap();
    let mut args = vec![
        "add",
        identity,
        "--access-key-id",
        &user.access_key_id,
        "--stdin",
    ];
    args.extend_from_slice(extra);
    run_command(
        env.keyfob_in(wrapper),
        &args,
        &format!("{}\n{pin}\n", user.secret_access_key),
    )
    .ok();
    user
}

/// A role in `env`'s emulator (see iam_admin.py `create-role`): assumable
/// by the account, with `external_id` required if given. Returns its ARN.
pub fn create_role(env: &Env, base: &str, external_id: Option<&str>) -> String {
    let name = unique(base);
    let mut args = vec!["create-role", name.as_str()];
    args.extend(external_id);
    env.moto.admin(&args)["arn"].as_str().unwrap().to_owned()
}

/// Waits `delay`, then kills `child`'s whole process group with SIGKILL
/// if it is still running (keyfob runs under `setsid`, which makes it the
/// leader of a new session and group), and reaps it. Returns whether the
/// kill landed: the signal was delivered and the child died of it (a child
/// that exited on its own between the look and the kill is not counted).
/// The signal is sent from this process, not by starting `pkill`, whose
/// start-up alone outlasts many a short command.
pub fn kill_9_after(child: &mut Child, delay: Duration) -> bool {
    use std::os::unix::process::ExitStatusExt;
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    let group = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a negative pid signals that process group; it
    // touches no memory of ours.
    let signalled = running && unsafe { libc::kill(-group, libc::SIGKILL) } == 0;
    let status = child.wait().unwrap();
    signalled && status.signal() == Some(libc::SIGKILL)
}

/// [`kill_9_after`] for a command the agent runs (change-pin, reseal):
/// waits `delay`, then kills `child`'s process group and at once the
/// agent `agent`, the process doing the work, and waits until the agent
/// is gone. The command goes first, so it cannot ask a new agent to run
/// its request again (it waits 50 ms before that). Returns whether the
/// agent was killed while the command still ran, i.e. before it had
/// answered.
pub fn kill_9_with_agent(child: &mut Child, agent: i32, delay: Duration) -> bool {
    let in_flight = kill_9_after(child, delay);
    // SAFETY: kill(2) on one pid; it touches no memory of ours.
    let signalled = unsafe { libc::kill(agent, libc::SIGKILL) } == 0;
    let begun = Instant::now();
    while alive(agent) {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the agent {agent} outlived kill -9"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    in_flight && signalled
}

/// Whether the lock file at `path` names process `pid` as its last holder
/// (keyfob writes `PID NAME` into a lock once it holds it): the process
/// had begun the edit that lock guards.
pub fn lock_names(path: &Path, pid: u32) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|note| note.split_whitespace().next()?.parse::<u32>().ok())
        == Some(pid)
}

/// The kill window of a kill test, from this machine: unkilled runs of
/// the operation, timed from spawn to exit. Kills fall uniformly in 1.5×
/// the median of the last three, which lands about two in three inside
/// the command. A busy machine's load changes while a loop of hundreds of
/// kills runs, so a test measures again as it goes (a window measured once
/// at the start let only 19 of 200 change-pins finish on a 2-core machine
/// at load 5; a fixed 0–0.4 s window killed nothing but the start on a
/// loaded CI machine).
#[derive(Default)]
pub struct KillWindow {
    took: Vec<Duration>,
}

impl KillWindow {
    /// Times one unkilled run of the operation.
    pub fn time(&mut self, run: impl FnOnce()) {
        let start = Instant::now();
        run();
        self.took.push(start.elapsed());
    }

    /// The window, in microseconds (at least 1).
    pub fn micros(&self) -> u64 {
        let mut last: Vec<Duration> = self.took.iter().rev().take(3).copied().collect();
        last.sort();
        assert!(!last.is_empty(), "no unkilled run was timed");
        last[last.len() / 2].mul_f64(1.5).as_micros().max(1) as u64
    }

    /// The unkilled runs so far, in ms, for a test's report.
    pub fn runs_ms(&self) -> Vec<u128> {
        self.took.iter().map(Duration::as_millis).collect()
    }
}

/// A small xorshift generator: kill delays that differ round to round but
/// are the same in every run of a test.
pub struct Xorshift(pub u64);

impl Xorshift {
    /// A delay uniform in `0..micros` microseconds.
    pub fn delay(&mut self, micros: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_micros(self.0 % micros.max(1))
    }
}

/// A unique suffix for names shared with the emulator.
pub fn unique(base: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{base}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// One test's world: a HOME, XDG folders and (unless asked otherwise) a
/// private D-Bus session running gnome-keyring.
pub struct Env {
    pub root: tempfile::TempDir,
    bus: Option<String>,
    /// A private bus standing in for the system bus (see
    /// [`Env::start_system_bus`]), given as `DBUS_SYSTEM_BUS_ADDRESS`.
    system_bus: Option<String>,
    daemons: Vec<Child>,
    /// The emulator this world talks to: the shared one unless a test
    /// needs its own (e.g. to count calls undisturbed).
    pub moto: &'static Moto,
    /// The TPM every child is pointed at (`TPM2TOOLS_TCTI`), if any: see
    /// tests/tpm.rs. Without it keyfob finds none (no /dev/tpmrm0 here).
    pub tcti: Option<String>,
}

/// A finished `keyfob` run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "keyfob failed:\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn refused(self, code: i32, needle: &str) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}:\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "a refusal is one line on stderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

/// config.toml as the tests of other features start: approvals off.
pub const APPROVALS_OFF: &str = "[settings]\napprovals = \"off\"\n";

impl Env {
    /// A world with a running Secret Service.
    pub fn new() -> Env {
        let mut env = Env::bare();
        env.start_keyring();
        env
    }

    /// A world with a Secret Service and an emulator of its own.
    pub fn with_own_emulator() -> Env {
        let mut env = Env::new();
        env.moto = Box::leak(Box::new(Moto::start()));
        env
    }

    /// A world with no D-Bus session at all.
    pub fn bare() -> Env {
        let root = tempfile::Builder::new()
            .prefix("keyfob-test-")
            .tempdir()
            .unwrap();
        for dir in ["home", "config", "data", "run"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        // The tests of other features run as a setup made before approvals
        // existed (rule off); tests/approvals.rs turns them on.
        std::fs::create_dir_all(root.path().join("config/keyfob")).unwrap();
        std::fs::write(root.path().join("config/keyfob/config.toml"), APPROVALS_OFF).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            root.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        Env {
            root,
            bus: None,
            system_bus: None,
            daemons: Vec::new(),
            moto: moto(),
            tcti: None,
        }
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The variables every child gets; nothing is inherited but PATH.
    fn base_env(&self) -> Vec<(&'static str, String)> {
        let p = |d: &str| self.root.path().join(d).display().to_string();
        let mut vars = vec![
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("HOME", p("home")),
            ("XDG_CONFIG_HOME", p("config")),
            ("XDG_DATA_HOME", p("data")),
            ("XDG_RUNTIME_DIR", p("run")),
            ("LANG", "C.UTF-8".into()),
            // The app's agent in these tests runs in the test binary
            // itself (see `app_agent`): clients accept it as keyfob.
            (
                "KEYFOB_TRUSTED_AGENT",
                std::env::current_exe().unwrap().display().to_string(),
            ),
        ];
        if let Some(bus) = &self.bus {
            vars.push(("DBUS_SESSION_BUS_ADDRESS", bus.clone()));
        }
        if let Some(bus) = &self.system_bus {
            vars.push(("DBUS_SYSTEM_BUS_ADDRESS", bus.clone()));
        }
        if let Some(tcti) = &self.tcti {
            vars.push(("TPM2TOOLS_TCTI", tcti.clone()));
        }
        vars
    }

    /// Starts a private `dbus-daemon` at `root/NAME` and waits until it
    /// listens; it ends with this world. Returns its address.
    fn start_bus(&mut self, name: &str) -> String {
        let address = format!("unix:path={}", self.root.path().join(name).display());
        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address={address}"))
            .env_clear()
            .envs(self.base_env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon (apt-get install dbus)");
        // The address is printed once the daemon listens.
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        self.daemons.push(dbus);
        assert!(line.starts_with("unix:"), "dbus-daemon printed {line:?}");
        address
    }

    /// Gives this world a system bus of its own: a private `dbus-daemon`
    /// that every later child (and so the agent they start) reaches
    /// through `DBUS_SYSTEM_BUS_ADDRESS`, where a test can play logind.
    /// Call it before anything starts the agent. Returns its address.
    pub fn start_system_bus(&mut self) -> String {
        let address = self.start_bus("system_bus");
        self.system_bus = Some(address.clone());
        address
    }

    /// Starts `dbus-daemon` and `gnome-keyring-daemon --foreground` with
    /// this world's HOME, then waits until `org.freedesktop.secrets` has an
    /// owner, so no client can trigger D-Bus activation of a second daemon.
    fn start_keyring(&mut self) {
        let address = self.start_bus("bus");
        self.bus = Some(address);

        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .envs(self.base_env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(format!("/tmp/gk-logs/{}.log", unique("gk"))).unwrap())
            .spawn()
            .expect("start gnome-keyring-daemon (apt-get install gnome-keyring)");
        // The password of the login keyring it creates and unlocks.
        keyring.stdin.take().unwrap().write_all(b"pw").unwrap();
        self.daemons.push(keyring);

        let start = Instant::now();
        while !self.secrets_has_owner() {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "gnome-keyring did not take org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn secrets_has_owner(&self) -> bool {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env_clear()
            .envs(self.base_env())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// A `keyfob` command in this world, pointed at the emulator. It runs
    /// in a new session (`setsid`), without a controlling terminal, as under
    /// botocore or a desktop launcher: a test run from a terminal must not
    /// stop at a prompt.
    pub fn keyfob(&self) -> Command {
        self.keyfob_in(&[])
    }

    /// `keyfob` as [`Env::keyfob`], started through `wrapper` (a program
    /// and its arguments that execs the rest, e.g. the seccomp filter of
    /// tests/support/no_keyring.py).
    pub fn keyfob_in(&self, wrapper: &[&str]) -> Command {
        let moto = self.moto;
        let mut cmd = Command::new("setsid");
        cmd.arg("--wait").args(wrapper).arg(KEYFOB);
        cmd.env_clear()
            .envs(self.base_env())
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.home().join(".aws/config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home().join(".aws/credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    }

    /// A command (an AWS client, a shell) with this world's environment
    /// and the emulator as every AWS endpoint.
    pub fn command(&self, program: &str) -> Command {
        self.command_in(&[], program)
    }

    /// [`Env::command`] started through `wrapper` (see [`Env::keyfob_in`]).
    pub fn command_in(&self, wrapper: &[&str], program: &str) -> Command {
        let cmd = self.keyfob();
        let mut real = Command::new("setsid");
        real.arg("--wait").args(wrapper).arg(program);
        real.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                real.env(k, v);
            }
        }
        // keyfob on PATH, as an installed keyfob would be.
        let bin_dir = Path::new(KEYFOB).parent().unwrap().display().to_string();
        let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
        real.env("PATH", path);
        real
    }

    /// Runs `keyfob ARGS` with `stdin` as its input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        let cmd = self.keyfob();
        run_command(cmd, args, stdin)
    }

    /// Every Secret Service item keyfob can see, printed by `secret-tool`
    /// (labels, attributes and secrets).
    pub fn keyring_dump(&self) -> String {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "--unlock", "service", "keyfob"])
            .env_clear()
            .envs(self.base_env())
            .output()
            .expect("run secret-tool (apt-get install libsecret-tools)");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The number of keyfob items in the Secret Service.
    pub fn keyring_items(&self) -> usize {
        self.keyring_dump()
            .lines()
            .filter(|l| l.starts_with("attribute.service = keyfob"))
            .count()
    }

    /// Files under this world's root whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        walk(self.root.path())
            .into_iter()
            .filter(|p| {
                std::fs::read(p)
                    .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                    .unwrap_or(false)
            })
            .collect()
    }

    /// Every file under this world's root, with its bytes: a snapshot to
    /// compare before and after a refused command.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = walk(self.root.path())
            .into_iter()
            // Lock files hold no data, only the last holder's pid (the
            // runtime folder's: the vault's, the agent's, the sessions').
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let runtime = p.starts_with(self.root.path().join("run"));
                // The access log records refusals too (and the programs
                // seen): a log, not state a refused command may change.
                let log = name.starts_with("access.log") || name == "programs-seen";
                !(name == "vault.lock"
                    || name.ends_with(".keyfob.lock")
                    || (runtime && name.ends_with(".lock"))
                    || log)
            })
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    }
}

/// Runs `program ARGS` in this world (see [`Env::command`]).
impl Env {
    pub fn run_program(&self, program: &str, args: &[&str]) -> Run {
        run_command(self.command(program), args, "")
    }

    /// The AWS CLI v2 (Debian's), pointed at the emulator with
    /// --endpoint-url: it predates AWS_ENDPOINT_URL (keyfob itself reads
    /// that from the environment the CLI passes on).
    pub fn aws_v2(&self, args: &[&str]) -> Run {
        let endpoint = self.moto.endpoint();
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--endpoint-url", &endpoint, "--output", "json"]);
        self.run_program("/usr/bin/aws", &all)
    }

    /// The current AWS CLI v2 (2.38, which scripts/deps unpacks into
    /// target/awscli-v2; `KEYFOB_TEST_AWS_CLI_V2` names another): it
    /// honours AWS_ENDPOINT_URL.
    pub fn aws_v2_current(&self, args: &[&str]) -> Run {
        let cli = std::env::var("KEYFOB_TEST_AWS_CLI_V2").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/awscli-v2/dist/aws").to_owned()
        });
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--output", "json"]);
        self.run_program(&cli, &all)
    }

    /// The AWS CLI v1 (PyPI), which honours AWS_ENDPOINT_URL.
    pub fn aws_v1(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--output", "json"]);
        self.run_program("aws", &all)
    }

    /// boto3's GetCallerIdentity for `profile`, as JSON (boto3 honours
    /// AWS_ENDPOINT_URL).
    pub fn boto3_caller(&self, profile: &str) -> Run {
        self.run_program(
            "python3",
            &[
                "-c",
                "import boto3, json, sys; s = boto3.Session(profile_name=sys.argv[1]); print(json.dumps(s.client('sts').get_caller_identity()))",
                profile,
            ],
        )
    }
}

/// The `Arn` of a GetCallerIdentity answer (the AWS CLI's or boto3's).
#[track_caller]
pub fn arn_of(run: Run) -> String {
    let run = run.ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    v["Arn"].as_str().unwrap().to_owned()
}

pub fn run_command(mut cmd: Command, args: &[&str], stdin: &str) -> Run {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A program that refuses its arguments may exit before reading stdin;
    // the write then fails with a broken pipe, which is not the test's
    // concern (seen in a CI run).
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
        _ => {}
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files.extend(walk(&path)),
            Ok(t) if t.is_file() => files.push(path),
            _ => {}
        }
    }
    files
}

impl Env {
    /// This world's D-Bus session address (its gnome-keyring), if any.
    pub fn bus_address(&self) -> Option<&str> {
        self.bus.as_deref()
    }

    /// The pid of the keyfob agent serving this world, if one runs (its
    /// lock file names it).
    pub fn agent_pid(&self) -> Option<i32> {
        let note = std::fs::read_to_string(self.root.path().join("run/keyfob/agent.lock")).ok()?;
        let pid: i32 = note.split_whitespace().next()?.parse().ok()?;
        // A test that runs the agent in its own process ends it itself.
        if pid as u32 == std::process::id() {
            return None;
        }
        alive(pid).then_some(pid)
    }

    /// This world's agent: the one running, else `keyfob agent` started
    /// as a command starts it on demand, once it holds its lock. (Its
    /// `setsid` wrapper is reaped by a thread when it ends.)
    pub fn agent(&self) -> i32 {
        if let Some(pid) = self.agent_pid() {
            return pid;
        }
        let mut child = self
            .keyfob()
            .arg("agent")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let begun = Instant::now();
        let pid = loop {
            if let Some(pid) = self.agent_pid() {
                break pid;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(10),
                "keyfob agent did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        std::thread::spawn(move || child.wait());
        pid
    }

    /// Ends this world's agent (started on demand by keyfob commands).
    pub fn stop_agent(&self) {
        if let Some(pid) = self.agent_pid() {
            let killed = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap()
                .success();
            // It is not our child (it runs in its own session): wait until
            // it is gone. (A failed kill is fine only if it had just exited.)
            let begun = Instant::now();
            while alive(pid) {
                if begun.elapsed() > Duration::from_secs(10) {
                    // From `drop` while the test is already failing, a
                    // second panic would abort and hide the first.
                    assert!(
                        std::thread::panicking(),
                        "the agent (process {pid}) outlived kill -9 by 10 s (kill {})",
                        if killed { "succeeded" } else { "failed" }
                    );
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Whether process `pid` runs: it exists and is not a zombie waiting for
/// its parent to reap it.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.trim_start().chars().next()
        })
        .is_some_and(|state| state != 'Z' && state != 'X')
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop_agent();
        for child in self.daemons.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The app's agent for this world, asking with `asker`. The process's
/// environment is the test's, so the world's folders are given here and
/// the AWS endpoint comes from each request (as from a real client).
pub fn app_agent(
    env: &Env,
    asker: keyfob::agent::server::Asker,
) -> keyfob::agent::server::ServerHandle {
    let kf = world_keyfob(env);
    let runtime = kf.paths.runtime_dir.clone();
    let agent = std::sync::Arc::new(keyfob::agent::server::Agent::new(kf, Some(asker)));
    keyfob::agent::server::AgentServer::bind(&runtime)
        .unwrap()
        .spawn(agent)
}

/// The library's `Keyfob` over this world's folders, store and AWS config,
/// in the test process (as the app builds its own).
pub fn world_keyfob(env: &Env) -> keyfob::app::Keyfob {
    let root = env.root.path();
    let paths = keyfob::platform::paths::Paths {
        config_dir: root.join("config/keyfob"),
        data_dir: root.join("data/keyfob"),
        runtime_dir: root.join("run/keyfob"),
    };
    // Without this world's D-Bus, its commands use the file store: so does
    // this agent (whatever D-Bus the test process may see).
    let store = env
        .bus_address()
        .is_none()
        .then_some(keyfob::platform::store::Backend::File);
    let kf = keyfob::app::Keyfob::new(
        paths.clone(),
        store,
        PathBuf::from(KEYFOB),
        Some(env.home().join(".aws/config")),
    )
    .unwrap();
    // The vault's Secret Service is this world's D-Bus session. Setting
    // it process-wide is sound here: nextest runs each test in a process
    // of its own, and nothing else in this one reads the environment now.
    if let Some(bus) = env.bus_address() {
        unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus) };
    }
    kf
}

/// A hostile endpoint (tests/support/hostile.py): it logs every request it
/// receives and answers with credentials of its own (`ASIAHOSTILE…`).
/// Ended when dropped.
pub struct Hostile {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Hostile {
    pub fn start() -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port.json");
        let log = dir.path().join("requests.jsonl");
        let child = Command::new("python3")
            .arg(support("hostile.py"))
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/support/hostile.py");
        let info = read_port_file(&port_file, Duration::from_secs(30));
        Hostile {
            child,
            port: info.port,
            log,
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request it has received, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A world for `nobody` (uid 65534, no groups), a user without root's
/// powers: a folder under /tmp with its HOME, XDG folders and a 0700
/// runtime folder owned by nobody, and copies of keyfob's binaries nobody
/// can run (the build tree may sit in a folder closed to other users, as
/// a CI clone in a private temporary folder). Removed on drop.
pub struct Nobody {
    pub root: PathBuf,
    pub keyfob: PathBuf,
}

impl Nobody {
    pub fn new() -> Nobody {
        use std::os::unix::fs::PermissionsExt;
        // /tmp itself, not $TMPDIR, which may be a folder closed to others.
        let root = Path::new("/tmp").join(unique("keyfob-nobody"));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        for d in [&root, &root.join("bin")] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for d in ["home", "config", "data", "run"] {
            let p = root.join(d);
            std::fs::create_dir_all(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        // The front and the full CLI it hands over to, side by side.
        let keyfob = root.join("bin/keyfob");
        for (from, to) in [
            (KEYFOB, keyfob.clone()),
            (KEYFOB_CLI, root.join("bin/keyfob-cli")),
        ] {
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Nobody { root, keyfob }
    }

    /// `keyfob ARGS` as nobody, with this world's folders, the file store
    /// and nothing else of this process's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&self.keyfob)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.root.join("home"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_RUNTIME_DIR", self.root.join("run"))
            .env("KEYFOB_STORE", "file");
        cmd
    }

    /// Runs [`Self::command`] with no input: whether it succeeded, and
    /// its stdout then stderr.
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self
            .command(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }
}

impl Drop for Nobody {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
