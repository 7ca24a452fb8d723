//! `cargo bench --bench unlock`: how long a PIN unlock takes (one Argon2id
//! derivation plus XChaCha20-Poly1305 open) at the default KDF parameters
//! and at stronger ones, as medians over repeated runs. A bench, not a
//! test: figures vary with the machine and its load.

use std::time::{Duration, Instant};

use keyfob::model::secret::Pin;
use keyfob::platform::crypto::{self, KdfParams};

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
}
