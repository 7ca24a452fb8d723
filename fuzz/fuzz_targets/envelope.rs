//! The sealed-key envelope parser: no input panics or opens. Parameters
//! are capped before any work; only envelopes asking for the cheapest
//! parameters are opened here, so each run stays fast.
#![no_main]

use keyfob::platform::crypto::{self, KdfParams};
use keyfob::model::secret::Pin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = crypto::params_of(data) {
        assert!(params.check().is_ok());
        if params == KdfParams::MIN {
            let pin = Pin::new("123456".into());
            assert!(crypto::open(&pin, b"ctx", data).is_err());
        }
    }
});
