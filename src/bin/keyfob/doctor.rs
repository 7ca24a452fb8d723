//! `doctor`: what protects the keys here (each identity's sealing, the
//! TPM and its dictionary-attack protection, the store, the agent,
//! approvals), what could be turned on, and the opt-in to set the TPM's
//! lockout authorization.

use anyhow::Context as _;
use serde::Serialize;

use keyfob::app::Keyfob;
use keyfob::app::access_log::AccessLog;
use keyfob::app::tpm::{self, TpmReport};
use keyfob::config::settings::Settings;
use keyfob::link::client::AgentLink;
use keyfob::model::approval::ApprovalRule;
use keyfob::model::identity::check_pin_confirmation;
use keyfob::platform::tpm::TpmError;
use keyfob::platform::tty;

use crate::cli::DoctorArgs;
use crate::terminal;

/// One line of `doctor`.
#[derive(Serialize)]
struct Check {
    what: &'static str,
    ok: bool,
    says: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

pub fn doctor(kf: &Keyfob, args: DoctorArgs) -> anyhow::Result<()> {
    if args.set_lockout_auth {
        return set_lockout_auth(kf, args.stdin);
    }
    if args.show_lockout_auth {
        let auth = tpm::lockout_auth(kf, &lockout_pin(args.stdin)?)?;
        let hex = zeroize::Zeroizing::new(hex::encode(auth.expose()));
        println!("hex:{}", hex.as_str());
        return Ok(());
    }
    if args.reset_lockout {
        tpm::reset_lockout(kf, &lockout_pin(args.stdin)?)
            .context("the TPM's lockout was not reset")?;
        println!("Reset the TPM's lockout: it counts no wrong PIN now.");
        return Ok(());
    }
    let mut checks = Vec::new();
    let settings = Settings::load(&kf.paths.config_file())?;
    let identities = tpm::protections(kf).context("reading the identities")?;
    checks.push(Check {
        what: "store",
        ok: true,
        says: format!(
            "{} identit{} sealed ({:?} store)",
            identities.len(),
            if identities.len() == 1 { "y" } else { "ies" },
            kf.backend
        ),
        fix: None,
    });
    let report = tpm::tpm_report();
    let tpm_answers = report.status.is_ok();
    checks.extend(tpm_checks(&report));
    for (i, p) in &identities {
        checks.push(match p {
            Ok(p) if p.tpm => Check {
                what: "identity",
                ok: true,
                says: format!(
                    "{}: {} — the PIN and this TPM open it; guesses only at the TPM's rate{}",
                    i.name,
                    p.describe(),
                    if p.recovery {
                        "; a recovery code opens it without the TPM"
                    } else {
                        "; no recovery code (a cleared TPM loses it)"
                    }
                ),
                fix: None,
            },
            Ok(p) => Check {
                what: "identity",
                ok: false,
                says: format!(
                    "{}: {} — {}",
                    i.name,
                    p.describe(),
                    keyfob::vault::PIN_ONLY_NOTICE
                ),
                fix: tpm_answers
                    .then(|| format!("keyfob reseal {} --tpm on --recovery-code", i.name)),
            },
            Err(e) => Check {
                what: "identity",
                ok: false,
                says: format!("{}: {e}", i.name),
                fix: None,
            },
        });
    }
    let status = AgentLink::status(&kf.paths.runtime_dir, &kf.cli)?;
    checks.push(match status {
        Some(s) => Check {
            what: "agent",
            ok: !s.dumpable,
            says: format!(
                "runs as process {}{}; its memory is {} other processes of yours; screen lock {}",
                s.pid,
                if s.app { " (the desktop app)" } else { "" },
                if s.dumpable {
                    "readable by"
                } else {
                    "closed to"
                },
                if s.watching {
                    "wipes every session"
                } else {
                    "is not watched"
                }
            ),
            fix: s
                .dumpable
                .then(|| "set kernel.yama.ptrace_scope to 1 or more".to_owned()),
        },
        None => Check {
            what: "agent",
            ok: true,
            says: "not running (started when a session is needed)".into(),
            fix: None,
        },
    });
    let rule = settings.approvals;
    checks.push(Check {
        what: "approvals",
        ok: rule.is_on(),
        says: match rule {
            ApprovalRule::Off => {
                "off: any program of yours gets an unlocked profile's session, unasked".into()
            }
            on => on.describe().to_owned(),
        },
        fix: (!rule.is_on()).then(|| {
            "turn them on: keyfob approvals rule new-programs (scripts and cron jobs: keyfob approvals add PROGRAM --profile P)".to_owned()
        }),
    });
    for (name, r) in &settings.approvals_by_profile {
        checks.push(Check {
            what: "approvals",
            ok: r.is_on(),
            says: format!("profile {name}: {}", r.describe()),
            fix: None,
        });
    }
    let log = AccessLog::new(&kf.paths.data_dir);
    let entries = log.read(&|_| true).map(|l| l.len()).unwrap_or(0);
    checks.push(Check {
        what: "access log",
        ok: true,
        says: format!(
            "{} entr{} in {} (keyfob log)",
            entries,
            if entries == 1 { "y" } else { "ies" },
            log.path().display()
        ),
        fix: None,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        return Ok(());
    }
    for c in &checks {
        println!(
            "{} {:<11} {}",
            if c.ok { "ok" } else { "!!" },
            c.what,
            c.says
        );
        if let Some(fix) = &c.fix {
            println!("   {:<11} → {fix}", "");
        }
    }
    Ok(())
}

/// The TPM's lines: whether one answers, its lockout parameters, and the
/// empty-lockoutAuth hole.
fn tpm_checks(report: &TpmReport) -> Vec<Check> {
    let s = match &report.status {
        Ok(s) => s,
        Err(e @ (TpmError::NoPermission { .. } | TpmError::Failed { .. })) => {
            return vec![Check {
                what: "tpm",
                ok: false,
                says: e.to_string(),
                fix: None,
            }];
        }
        Err(_) => {
            return vec![Check {
                what: "tpm",
                ok: false,
                says: format!(
                    "none answers at {} (TPM2TOOLS_TCTI or TCTI name another): keys are sealed under the PIN alone, so keyfob asks for stronger PINs",
                    report.tcti
                ),
                fix: None,
            }];
        }
    };
    let mut out = vec![Check {
        what: "tpm",
        ok: s.lockout_interval > 0,
        says: format!(
            "TPM 2.0 at {}: locks out after {} wrong PINs ({} counted now), one forgiven every {} s; a wrong lockout authorization blocks it for {} s{}",
            report.tcti,
            s.max_auth_fail,
            s.lockout_counter,
            s.lockout_interval,
            s.lockout_recovery,
            if s.in_lockout {
                format!(
                    "; LOCKED OUT: {}",
                    keyfob::platform::tpm::TpmError::Lockout {
                        wait_secs: s.lockout_wait_secs()
                    }
                )
            } else {
                String::new()
            }
        ),
        fix: (s.lockout_interval == 0)
            .then(|| "its dictionary-attack protection is off (interval 0)".to_owned()),
    }];
    out.push(if s.lockout_auth_set {
        Check {
            what: "tpm",
            ok: true,
            says: "lockout authorization set: nobody without it can reset the wrong-PIN counter".into(),
            fix: None,
        }
    } else {
        Check {
            what: "tpm",
            ok: false,
            says: "lockout authorization EMPTY: any program on this machine can reset the TPM's wrong-PIN counter (tpm2_dictionarylockout -c), which voids its limit on guessing PINs".into(),
            fix: Some("keyfob doctor --set-lockout-auth: sets a random one, sealed under a PIN you choose (keep it: clearing the TPM then needs it, or the firmware menu)".into()),
        }
    });
    out
}

fn set_lockout_auth(kf: &Keyfob, stdin: bool) -> anyhow::Result<()> {
    let pin = if stdin {
        let mut pins =
            terminal::pins_from_stdin(2, "--stdin expects the PIN twice, on lines 1 and 2")?;
        check_pin_confirmation(&pins[0], &pins[1])?;
        pins.remove(0)
    } else {
        println!(
            "This sets a random lockout authorization on the TPM. Without one, any program on this\n\
             machine can reset the TPM's count of wrong PINs and so guess without limit. keyfob keeps it\n\
             sealed under the PIN you choose now (a strong one: it is not TPM-bound); `keyfob doctor\n\
             --show-lockout-auth` prints it for tpm2-tools. Clearing the TPM will then need it."
        );
        terminal::new_pin(
            "PIN for the lockout authorization: ",
            "Again: ",
            "use --stdin to give the PIN twice on stdin",
        )?
    };
    tpm::set_lockout_auth(kf, &pin).context("the TPM's lockout authorization was not set")?;
    println!("Set the TPM's lockout authorization; keyfob keeps it sealed under that PIN.");
    Ok(())
}

/// The PIN of the lockout authorization keyfob keeps.
fn lockout_pin(stdin: bool) -> anyhow::Result<keyfob::model::secret::Pin> {
    Ok(if stdin {
        terminal::pins_from_stdin(1, "--stdin expects the PIN on line 1")?.remove(0)
    } else {
        tty::ask_pin(
            "PIN of the lockout authorization: ",
            "use --stdin to give the PIN on stdin",
        )?
    })
}
