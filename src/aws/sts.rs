//! STS calls: GetCallerIdentity (verify a key when it is added),
//! GetSessionToken (a session from the long-term key, with MFA when the
//! profile asks), AssumeRole (a role session from an identity session) and
//! GetFederationToken (a federated user's session, which unlike a
//! GetSessionToken session can sign in to the console).

use serde::Serialize;
use time::OffsetDateTime;

use super::{AwsError, block_on, map_sdk_error, sdk_config};
use crate::model::endpoints::Endpoints;
use crate::model::secret::{SecretAccessKey, SessionToken};
use crate::model::session::Session;

/// Who a key belongs to, as STS reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// Calls STS GetCallerIdentity signed with the given key. Needs no IAM
/// permission: it succeeds for any valid, active key.
pub fn get_caller_identity(
    endpoints: &Endpoints,
    access_key_id: &str,
    secret: &SecretAccessKey,
) -> Result<CallerIdentity, AwsError> {
    block_on(async {
        let config = sdk_config(endpoints, Some((access_key_id, secret, None)));
        let out = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .map_err(map_sdk_error)?;
        let missing = |what: &str| AwsError::Unexpected {
            message: format!("GetCallerIdentity returned no {what}"),
        };
        Ok(CallerIdentity {
            account: out.account.ok_or_else(|| missing("account"))?,
            arn: out.arn.ok_or_else(|| missing("ARN"))?,
            user_id: out.user_id.ok_or_else(|| missing("user ID"))?,
        })
    })?
}

/// What GetSessionToken needs beyond the long-term key.
pub struct SessionTokenRequest<'a> {
    pub duration_secs: u64,
    /// The MFA device's serial and the current code.
    pub mfa: Option<(&'a str, &'a str)>,
}

/// Calls STS GetSessionToken with the long-term key.
pub fn get_session_token(
    endpoints: &Endpoints,
    access_key_id: &str,
    secret: &SecretAccessKey,
    request: &SessionTokenRequest<'_>,
) -> Result<Session, AwsError> {
    block_on(async {
        let config = sdk_config(endpoints, Some((access_key_id, secret, None)));
        let mut call = aws_sdk_sts::Client::new(&config)
            .get_session_token()
            .duration_seconds(secs_i32(request.duration_secs));
        if let Some((serial, code)) = request.mfa {
            call = call.serial_number(serial).token_code(code);
        }
        let out = call.send().await.map_err(map_sdk_error)?;
        session_from(out.credentials, endpoints)
    })?
}

/// The session policy a console session of an identity gets: everything
/// the IAM user's own policies allow (a GetFederationToken session without
/// a session policy may do nothing at all).
pub const FEDERATION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Calls STS GetFederationToken with the long-term key: a session for the
/// federated user `name` whose permissions are the user's own (see
/// [`FEDERATION_POLICY`]). AWS accepts no MFA here.
pub fn get_federation_token(
    endpoints: &Endpoints,
    access_key_id: &str,
    secret: &SecretAccessKey,
    name: &str,
    duration_secs: u64,
) -> Result<Session, AwsError> {
    block_on(async {
        let config = sdk_config(endpoints, Some((access_key_id, secret, None)));
        let out = aws_sdk_sts::Client::new(&config)
            .get_federation_token()
            .name(name)
            .policy(FEDERATION_POLICY)
            .duration_seconds(secs_i32(duration_secs))
            .send()
            .await
            .map_err(map_sdk_error)?;
        session_from(out.credentials, endpoints)
    })?
}

/// What AssumeRole needs.
pub struct AssumeRoleRequest<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub external_id: Option<&'a str>,
    pub source_identity: Option<&'a str>,
    pub duration_secs: u64,
    /// Session tags, as checked by [`crate::model::limits::tags`].
    pub tags: &'a [(String, String)],
    pub transitive_tag_keys: &'a [String],
    /// Managed session policies.
    pub policy_arns: &'a [String],
}

/// Calls STS AssumeRole with a session's credentials, at the endpoints
/// the session came from; the role session keeps them.
pub fn assume_role(with: &Session, request: &AssumeRoleRequest<'_>) -> Result<Session, AwsError> {
    block_on(async {
        let config = sdk_config(
            &with.endpoints,
            Some((
                &with.access_key_id,
                &with.secret_access_key,
                Some(with.session_token.expose()),
            )),
        );
        let out = aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(request.role_arn)
            .role_session_name(request.role_session_name)
            .set_external_id(request.external_id.map(str::to_owned))
            .set_source_identity(request.source_identity.map(str::to_owned))
            .duration_seconds(secs_i32(request.duration_secs))
            .set_tags(tags(request.tags)?)
            .set_transitive_tag_keys(
                (!request.transitive_tag_keys.is_empty())
                    .then(|| request.transitive_tag_keys.to_vec()),
            )
            .set_policy_arns(policy_arns(request.policy_arns))
            .send()
            .await
            .map_err(map_sdk_error)?;
        session_from(out.credentials, &with.endpoints)
    })?
}

fn tags(tags: &[(String, String)]) -> Result<Option<Vec<aws_sdk_sts::types::Tag>>, AwsError> {
    if tags.is_empty() {
        return Ok(None);
    }
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_sts::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::Unexpected {
                    message: format!("session tag {k:?}: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn policy_arns(arns: &[String]) -> Option<Vec<aws_sdk_sts::types::PolicyDescriptorType>> {
    (!arns.is_empty()).then(|| {
        arns.iter()
            .map(|a| {
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(a)
                    .build()
            })
            .collect()
    })
}

/// Durations are checked against AWS's limits (at most 129600 s) before
/// any call, so they always fit an i32.
fn secs_i32(secs: u64) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn session_from(
    credentials: Option<aws_sdk_sts::types::Credentials>,
    endpoints: &Endpoints,
) -> Result<Session, AwsError> {
    let c = credentials.ok_or_else(|| AwsError::Unexpected {
        message: "STS returned no credentials".into(),
    })?;
    let expiration = OffsetDateTime::from_unix_timestamp(c.expiration.secs()).map_err(|_| {
        AwsError::Unexpected {
            message: "STS returned an impossible expiration".into(),
        }
    })?;
    Ok(Session {
        access_key_id: c.access_key_id,
        secret_access_key: SecretAccessKey::new(c.secret_access_key),
        session_token: SessionToken::new(c.session_token),
        expiration,
        endpoints: endpoints.clone(),
    })
}

/// Calls STS GetAccessKeyInfo: the account an access key ID belongs to.
/// AWS refuses it with GetSessionToken credentials, so it is signed with a
/// long-term key or a role session (`session_token`).
pub fn get_access_key_info(
    endpoints: &Endpoints,
    access_key_id: &str,
    secret: &SecretAccessKey,
    session_token: Option<&str>,
    key_id: &str,
) -> Result<String, AwsError> {
    block_on(async {
        let config = sdk_config(endpoints, Some((access_key_id, secret, session_token)));
        let out = aws_sdk_sts::Client::new(&config)
            .get_access_key_info()
            .access_key_id(key_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        out.account.ok_or_else(|| AwsError::Unexpected {
            message: "GetAccessKeyInfo returned no account".into(),
        })
    })?
}
