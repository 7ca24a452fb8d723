//! IAM Identity Center against the emulator (tests/support/sso_emulator.py,
//! in the shared launcher): the SSO OIDC device flow and the portal calls
//! of `keyfob::aws::sso`, then the `keyfob sso` commands. Each test has its
//! own start URL, so tests run in parallel without seeing each other.

use std::io::{Read, Write};
use std::time::Duration;

use keyfob::aws::sso::{self, Instance, SsoError};
use keyfob::aws::with_client_endpoint;

use crate::util::{Moto, moto, unique};

/// POST a JSON body to a launcher test endpoint; (status, JSON answer).
fn post(moto: &Moto, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.info.port)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
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
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[track_caller]
fn post_ok(moto: &Moto, path: &str, body: serde_json::Value) -> serde_json::Value {
    let (status, answer) = post(moto, path, &body);
    assert_eq!(status, 200, "POST {path}: {answer}");
    answer
}

/// An Identity Center instance of this test's own: `accounts` accounts
/// (111100000000 + i, named acct-i), user alice with role Admin in each and
/// also ReadOnly in the first.
pub struct Instance0 {
    pub start_url: String,
    pub region: &'static str,
}

pub fn configure(moto: &Moto, accounts: usize, settings: serde_json::Value) -> Instance0 {
    let start_url = format!("https://{}.awsapps.com/start", unique("d-sso"));
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("{}", 111_100_000_000u64 + i as u64))
        .collect();
    let mut assignments: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"account_id": id, "role_name": "Admin"}))
        .collect();
    assignments.push(serde_json::json!({"account_id": ids[0], "role_name": "ReadOnly"}));
    post_ok(
        moto,
        "/keyfob-test/sso/configure",
        serde_json::json!({
            "start_url": start_url,
            "region": "eu-west-1",
            "accounts": ids.iter().enumerate().map(|(i, id)| serde_json::json!({
                "account_id": id, "account_name": format!("acct-{i}"),
                "email": format!("acct-{i}@example.com")})).collect::<Vec<_>>(),
            "users": [{"name": "alice", "assignments": assignments}],
            "settings": settings,
        }),
    );
    Instance0 {
        start_url,
        region: "eu-west-1",
    }
}

fn status(moto: &Moto, start_url: &str) -> serde_json::Value {
    moto.test_get(&format!(
        "/keyfob-test/sso/status?start_url={}",
        url_encode(start_url)
    ))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn scopes() -> Vec<String> {
    vec!["sso:account:access".to_owned()]
}

/// The library's device flow: pending while nobody approved, tokens once
/// the person approves, refresh, portal calls, and a revoked sign-in that
/// can neither list nor refresh.
#[test]
fn device_flow_refresh_list_and_revoke() {
    let moto = moto();
    let inst = configure(moto, 3, serde_json::json!({}));
    let instance = Instance {
        start_url: &inst.start_url,
        region: inst.region,
    };
    with_client_endpoint(Some(moto.endpoint()), None, || {
        let client = sso::register_client(inst.region, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        assert!(device.verification_uri.starts_with("https://"));
        assert!(
            device
                .verification_uri_complete
                .as_deref()
                .unwrap()
                .contains(&device.user_code)
        );
        // Nobody approved yet.
        assert!(matches!(
            sso::create_token_device(inst.region, &client, &device),
            Err(SsoError::Pending)
        ));
        // The person approves while keyfob waits.
        let approver = {
            let (url, code) = (inst.start_url.clone(), device.user_code.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                post_ok(
                    moto,
                    "/keyfob-test/sso/approve",
                    serde_json::json!({"start_url": url, "user": "alice", "user_code": code}),
                )
            })
        };
        let mut polls = 0;
        let tokens = sso::wait_for_approval(inst.region, &client, &device, |_| polls += 1).unwrap();
        approver.join().unwrap();
        assert!(polls >= 1, "approved before the first poll?");
        let refresh = tokens.refresh_token.as_ref().expect("a refresh token");

        let assignments = sso::list_assignments(inst.region, &tokens.access_token).unwrap();
        assert_eq!(assignments.len(), 3);
        assert_eq!(assignments[0].0.account_name, "acct-0");
        assert_eq!(assignments[0].1, vec!["Admin", "ReadOnly"]);

        let session = sso::get_role_credentials(
            inst.region,
            &tokens.access_token,
            &assignments[1].0.account_id,
            "Admin",
        )
        .unwrap();
        assert!(session.access_key_id.starts_with("ASIA"));
        assert!(session.expiration > time::OffsetDateTime::now_utc());
        // A role not assigned is refused as such.
        assert!(matches!(
            sso::get_role_credentials(
                inst.region,
                &tokens.access_token,
                &assignments[1].0.account_id,
                "ReadOnly"
            ),
            Err(SsoError::Forbidden { .. })
        ));

        // Refresh: new tokens that work; the old refresh token is rotated away.
        let renewed = sso::refresh(inst.region, &client, refresh).unwrap();
        sso::list_accounts(inst.region, &renewed.access_token).unwrap();
        assert!(matches!(
            sso::refresh(inst.region, &client, refresh),
            Err(SsoError::InvalidGrant { .. })
        ));

        // Revoked: the portal and the refresh grant both refuse.
        post_ok(
            moto,
            "/keyfob-test/sso/revoke",
            serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
        );
        let err = sso::list_accounts(inst.region, &renewed.access_token).unwrap_err();
        assert!(matches!(err, SsoError::Unauthorized), "{err:?}");
        assert!(err.needs_sign_in());
        let err = sso::refresh(
            inst.region,
            &client,
            renewed.refresh_token.as_ref().unwrap(),
        )
        .unwrap_err();
        assert!(err.needs_sign_in(), "{err:?}");
    });
}

/// Polling too fast meets slow_down; a code nobody approves expires with a
/// clear error, and a refused sign-in says so.
#[test]
fn slow_down_expiry_and_denial() {
    let moto = moto();
    let inst = configure(moto, 1, serde_json::json!({"device_code_ttl": 2}));
    let instance = Instance {
        start_url: &inst.start_url,
        region: inst.region,
    };
    with_client_endpoint(Some(moto.endpoint()), None, || {
        let client = sso::register_client(inst.region, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        assert!(matches!(
            sso::create_token_device(inst.region, &client, &device),
            Err(SsoError::Pending)
        ));
        assert!(matches!(
            sso::create_token_device(inst.region, &client, &device),
            Err(SsoError::SlowDown)
        ));

        let never = sso::start_device_authorization(instance, &client).unwrap();
        let err = sso::wait_for_approval(inst.region, &client, &never, |_| {}).unwrap_err();
        assert!(matches!(err, SsoError::Expired), "{err:?}");
        assert!(err.to_string().contains("expired"), "{err}");

        let denied = sso::start_device_authorization(instance, &client).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/deny",
            serde_json::json!({"start_url": inst.start_url, "user_code": denied.user_code}),
        );
        let err = sso::wait_for_approval(inst.region, &client, &denied, |_| {}).unwrap_err();
        assert!(matches!(err, SsoError::Denied), "{err:?}");
    });
}

/// 150 accounts over pages of 20, with throttled pages: keyfob backs off
/// and gets every account, and makes no more calls than pages + throttles.
#[test]
fn lists_150_accounts_through_throttled_pages() {
    let moto = moto();
    let inst = configure(moto, 150, serde_json::json!({"page_size": 20}));
    let instance = Instance {
        start_url: &inst.start_url,
        region: inst.region,
    };
    with_client_endpoint(Some(moto.endpoint()), None, || {
        let client = sso::register_client(inst.region, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/approve",
            serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
        );
        let tokens = sso::wait_for_approval(inst.region, &client, &device, |_| {}).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/throttle",
            serde_json::json!({"start_url": inst.start_url, "operation": "sso:ListAccounts",
                "count": 2}),
        );
        let accounts = sso::list_accounts(inst.region, &tokens.access_token).unwrap();
        assert_eq!(accounts.len(), 150);
        assert_eq!(accounts[149].account_name, "acct-149");
        let calls = &status(moto, &inst.start_url)["calls"];
        // 8 pages, 2 of the tries throttled.
        assert_eq!(calls["sso:ListAccounts"], 10, "{calls}");

        // A storm-proof limit: a page throttled for good fails after a
        // bounded number of tries.
        post_ok(
            moto,
            "/keyfob-test/sso/throttle",
            serde_json::json!({"start_url": inst.start_url, "operation": "sso:ListAccounts",
                "count": 100}),
        );
        let err = sso::list_accounts(inst.region, &tokens.access_token).unwrap_err();
        assert!(
            matches!(err, SsoError::Throttled { attempts } if attempts == sso::THROTTLE_ATTEMPTS),
            "{err:?}"
        );
        let calls = &status(moto, &inst.start_url)["calls"];
        assert_eq!(
            calls["sso:ListAccounts"],
            10 + sso::THROTTLE_ATTEMPTS,
            "{calls}"
        );
    });
}
