//! The AWS config editor: any text round-trips; setting a value either
//! reads back exactly or is refused without change.
#![no_main]

use keyfob::aws::config_file::{AwsFile, Flavor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line, if any, is a value to set; the rest is the file.
    let (value, body) = text.split_once('\n').unwrap_or(("v", text));
    for flavor in [Flavor::Config, Flavor::Credentials] {
        let mut file = AwsFile::parse(body, flavor);
        assert_eq!(file.to_text(), body);
        let before = file.to_text();
        match file.set_profile("fuzz", &[("credential_process", value)]) {
            Ok(()) => assert_eq!(
                file.get("fuzz", "credential_process").as_deref(),
                Some(value)
            ),
            Err(_) => assert_eq!(file.to_text(), before),
        }
    }
});
