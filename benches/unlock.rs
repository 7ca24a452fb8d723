//! `cargo bench --bench unlock`: how long a PIN unlock takes (one Argon2id
//! derivation plus XChaCha20-Poly1305 open) at the default KDF parameters
//! and at stronger ones, as medians over repeated runs. A bench, not a
//! test: figures vary with the machine and its load.
//!
//! With a TPM (`TPM2TOOLS_TCTI`/`TCTI`, e.g. a `swtpm`, or /dev/tpmrm0) it
//! also times a TPM-bound unlock (envelope v2: the same Argon2id, then the
//! TPM's unseal: a salted policy session, the answer encrypted under a
//! session bound to the object) and the TPM's part alone.

use std::time::{Duration, Instant};

use keyfob::model::secret::Pin;
use keyfob::platform::bound;
use keyfob::platform::crypto::{self, KdfParams};
use keyfob::platform::tpm::Tpm;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let runs = 11;
    let pin = Pin::new("correct horse battery".into());
    let secret = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    println!("PIN unlock (Argon2id + XChaCha20-Poly1305 open), median of {runs} runs:");
    for (label, params) in [
        ("default", KdfParams::DEFAULT),
        (
            "128 MiB, t=3",
            KdfParams {
                m_cost_kib: 128 * 1024,
                ..KdfParams::DEFAULT
            },
        ),
        (
            "64 MiB, t=6",
            KdfParams {
                t_cost: 6,
                ..KdfParams::DEFAULT
            },
        ),
    ] {
        let sealed = crypto::seal(&pin, params, b"bench", secret).expect("seal");
        let samples = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let opened = crypto::open(&pin, b"bench", &sealed).expect("open");
                let took = start.elapsed();
                assert_eq!(opened.expose(), secret);
                took
            })
            .collect();
        println!(
            "  {label:<14} m={} KiB t={} p={}: {:.0} ms",
            params.m_cost_kib,
            params.t_cost,
            params.p_cost,
            median(samples).as_secs_f64() * 1000.0
        );
    }
    tpm_bound(runs, &pin, secret);
}

fn tpm_bound(runs: usize, pin: &Pin, secret: &[u8]) {
    keyfob::platform::tpm::quiet_tss_logs();
    let mut tpm = match Tpm::open() {
        Ok(t) => t,
        Err(e) => {
            println!("TPM-bound unlock: not measured ({e})");
            return;
        }
    };
    let params = KdfParams::DEFAULT;
    let sealed = bound::seal(&mut tpm, pin, params, b"bench", secret, None, None).expect("seal");
    let time = |f: &mut dyn FnMut()| {
        median(
            (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    f();
                    start.elapsed()
                })
                .collect(),
        )
    };
    let whole = time(&mut || {
        // A new connection each time, as the agent makes one per unseal.
        let mut tpm = Tpm::open().expect("TPM");
        let (opened, _) = bound::open(&mut tpm, pin, b"bench", &sealed).expect("open");
        assert_eq!(opened.expose(), secret);
    });
    let (object, _) = tpm.seal(&[7; 32]).expect("seal object");
    let tpm_only = time(&mut || {
        let mut tpm = Tpm::open().expect("TPM");
        tpm.unseal(&object, &[7; 32]).expect("unseal");
    });
    println!(
        "TPM-bound unlock at {} (default KDF), median of {runs} runs: {:.0} ms; the TPM's part alone (connect, primary, load, bound and policy sessions, unseal): {:.0} ms",
        tpm.tcti(),
        whole.as_secs_f64() * 1000.0,
        tpm_only.as_secs_f64() * 1000.0
    );
}
