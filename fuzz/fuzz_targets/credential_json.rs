//! The credential_process JSON parser and writer: no input panics, and
//! whatever parses is written back to JSON that parses to the same values.
#![no_main]

use keyfob::model::session::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((session, _)) = Session::from_json(data) {
        let json = session.to_process_json();
        let (again, fp) = Session::from_json(json.as_bytes()).expect("our JSON parses");
        assert!(fp.is_none());
        assert_eq!(again.access_key_id, session.access_key_id);
        assert_eq!(
            again.secret_access_key.expose(),
            session.secret_access_key.expose()
        );
        assert_eq!(again.session_token.expose(), session.session_token.expose());
        assert_eq!(again.expiration, session.expiration);
    }
});
