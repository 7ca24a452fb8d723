//! STS calls: GetCallerIdentity (verify a key when it is added).

use serde::Serialize;

use super::{AwsError, block_on, map_sdk_error, sdk_config};
use crate::secret::SecretAccessKey;

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
    access_key_id: &str,
    secret: &SecretAccessKey,
) -> Result<CallerIdentity, AwsError> {
    block_on(async {
        let config = sdk_config(access_key_id, secret, None).await;
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
