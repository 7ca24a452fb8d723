//! Where an identity's secrets and sessions may be sent: AWS's own
//! endpoints for its region, or one endpoint URL (an emulator, a VPC
//! endpoint, a proxy) given when the identity was added. Every STS, IAM,
//! Identity Center (SSO, SSO-OIDC) and federation call made for an
//! identity goes there and nowhere else.
//!
//! This is fixed when the identity is added (`--endpoint-url`, else
//! `AWS_ENDPOINT_URL` then, with the region from `--region`, else
//! `AWS_REGION`/`AWS_DEFAULT_REGION`, else us-east-1), stored with it,
//! bound into its sealed secret's associated data (so the record cannot be
//! pointed elsewhere without the PIN) and changed only by
//! `keyfob endpoint NAME` under the PIN. A client's environment never
//! redirects the agent: nothing here reads it after an identity is added.
//!
//! Plain http is allowed only to a loopback address (an emulator on this
//! machine); anything else must be https.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::field::{Field, FieldError};

/// The region an identity gets when none was given: STS and IAM answer
/// there for every commercial account.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The longest endpoint URL accepted.
pub const URL_MAX: usize = 512;

/// Where an identity's calls go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// One endpoint URL for every service, or `None` for AWS's own.
    pub url: Option<String>,
    pub region: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints::aws(DEFAULT_REGION)
    }
}

impl Endpoints {
    /// AWS's own endpoints in `region` (not checked: for values already
    /// stored or constants).
    pub fn aws(region: &str) -> Endpoints {
        Endpoints {
            url: None,
            region: region.to_owned(),
        }
    }

    /// Checks an endpoint URL and a region given by a person.
    pub fn parse(url: Option<&str>, region: Option<&str>) -> Result<Endpoints, FieldError> {
        // Given means checked: an empty value is refused, not taken for
        // "AWS's own" (leaving the option out says that).
        let region = match region.map(str::trim) {
            Some(r) => {
                crate::model::limits::region(r)?;
                r.to_owned()
            }
            None => DEFAULT_REGION.to_owned(),
        };
        let url = match url {
            Some(u) => Some(check_url(u)?),
            None => None,
        };
        Ok(Endpoints { url, region })
    }

    /// The endpoint settings in force when an identity is added: the
    /// flags given, else the SDK's standard variables of the adding
    /// process (its person's own choice, shown to them).
    pub fn at_add(url: Option<&str>, region: Option<&str>) -> Result<Endpoints, FieldError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let url = url.map(str::to_owned).or_else(|| env("AWS_ENDPOINT_URL"));
        let region = region
            .map(str::to_owned)
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"));
        Endpoints::parse(url.as_deref(), region.as_deref())
    }

    /// The partition the region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// Whether calls go to AWS's own endpoints.
    pub fn is_aws(&self) -> bool {
        self.url.is_none()
    }

    /// The URL `/federation` is reached at: under the endpoint URL, else
    /// the partition's sign-in endpoint (`None`: the caller's default).
    pub fn federation_base(&self) -> Option<String> {
        self.url
            .as_deref()
            .map(|u| format!("{}/federation", u.trim_end_matches('/')))
    }

    /// How the endpoints read in a list or a confirmation.
    pub fn describe(&self) -> String {
        match &self.url {
            None => format!("AWS ({})", self.region),
            Some(u) => format!("{u} ({})", self.region),
        }
    }

    /// The bytes bound into a sealed secret's associated data. Identities
    /// stored before endpoints were kept have none (`stored: false`), and
    /// their sealed secrets keep the associated data they had.
    pub fn aad_part(&self) -> String {
        format!(
            "\0endpoint={}\0region={}",
            self.url.as_deref().unwrap_or("aws"),
            self.region
        )
    }
}

/// Checks an endpoint URL: https to any host, or http to a loopback
/// address only; no user name, password, query or fragment. Returns it
/// without a trailing `/`.
pub fn check_url(input: &str) -> Result<String, FieldError> {
    let refuse = |why: String| {
        Err(FieldError::new(
            Field::EndpointUrl,
            format!(
                "{why}; expected https://HOST[:PORT][/PATH], or http://127.0.0.1:PORT for an emulator on this machine"
            ),
        ))
    };
    // Surrounding white space (from a paste) is ignored; inside, white
    // space and control characters are refused here, since the URL parser
    // would silently drop some of them.
    let input = input.trim();
    if input.is_empty() {
        return refuse("is empty (leave it out for AWS's own endpoints)".into());
    }
    if input.len() > URL_MAX {
        return refuse(format!("is longer than {URL_MAX} characters"));
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("may not contain spaces or control characters".into());
    }
    let Ok(url) = url::Url::parse(input) else {
        return refuse("is not a URL".into());
    };
    let Some(host) = url.host() else {
        return refuse("has no host".into());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("may not hold a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse("may not have a query or fragment".into());
    }
    let loopback = match host {
        url::Host::Ipv4(a) => IpAddr::V4(a).is_loopback(),
        url::Host::Ipv6(a) => IpAddr::V6(a).is_loopback(),
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return refuse(format!(
                "uses plain http to {host}, which is not this machine (secrets would cross the network unencrypted)"
            ));
        }
        other => return refuse(format!("uses {other}:")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for good in [
            "https://sts.example.com",
            "https://vpce-1.sts.us-east-1.vpce.amazonaws.com/",
            "http://127.0.0.1:5000",
            "http://127.8.9.1:5000/x",
            "http://[::1]:4566",
            "http://localhost:4566",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        assert_eq!(
            check_url("http://127.0.0.1:5000/").unwrap(),
            "http://127.0.0.1:5000"
        );
        for (bad, why) in [
            ("http://10.0.0.1:5000", "plain http"),
            ("http://evil.example.com", "plain http"),
            ("ftp://127.0.0.1", "ftp"),
            ("https://user:pw@sts.example.com", "user name"),
            ("https://sts.example.com/?a=b", "query"),
            ("sts.example.com", "not a URL"),
            ("", "is empty"),
            ("https://sts.example.com\n[default]", "control characters"),
            ("https://sts .example.com", "spaces"),
        ] {
            let e = check_url(bad).unwrap_err();
            assert_eq!(e.field, Field::EndpointUrl);
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn regions_and_partitions() {
        let e = Endpoints::parse(None, None).unwrap();
        assert_eq!(e, Endpoints::aws("us-east-1"));
        assert_eq!(Endpoints::aws("cn-north-1").partition(), "aws-cn");
        assert_eq!(Endpoints::aws("us-gov-west-1").partition(), "aws-us-gov");
        assert_eq!(Endpoints::aws("eu-west-1").partition(), "aws");
        let e = Endpoints::parse(None, Some("nowhere")).unwrap_err();
        assert_eq!(e.field, Field::Region);
        // Two different endpoints never bind the same associated data.
        let a = Endpoints::parse(Some("http://127.0.0.1:1"), None).unwrap();
        let b = Endpoints::parse(Some("http://127.0.0.1:2"), None).unwrap();
        assert_ne!(a.aad_part(), b.aad_part());
        assert_ne!(Endpoints::aws("us-east-1").aad_part(), a.aad_part());
    }
}
