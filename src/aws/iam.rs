//! IAM calls on the caller's own access keys: list, last use, create,
//! activate/deactivate, delete. They are signed with the identity's
//! long-term key (AWS refuses IAM calls made with session credentials that
//! lack MFA), opened only for the command's duration.

use aws_sdk_iam::types::StatusType;
use serde::Serialize;
use time::OffsetDateTime;

use super::{AwsError, map_sdk_error, sdk_config};
use crate::model::endpoints::Endpoints;
use crate::model::secret::SecretAccessKey;

/// The IAM guide's policy that lets users manage their own access keys
/// ("ManageOwnAccessKeys"), quoted when AWS refuses a key command.
pub const MANAGE_OWN_ACCESS_KEYS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ManageOwnAccessKeys",
      "Effect": "Allow",
      "Action": [
        "iam:CreateAccessKey",
        "iam:DeleteAccessKey",
        "iam:GetAccessKeyLastUsed",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:TagUser"
      ],
      "Resource": "arn:aws:iam::*:user/${aws:username}"
    }
  ]
}"#;

/// One of the user's access keys, as ListAccessKeys reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
}

/// When and where a key was last used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LastUsed {
    #[serde(with = "time::serde::rfc3339::option")]
    pub date: Option<OffsetDateTime>,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// A new access key; the secret is shown only now, so it goes straight
/// into the vault.
pub struct NewKey {
    pub access_key_id: String,
    pub secret: SecretAccessKey,
    pub created: Option<OffsetDateTime>,
}

/// An IAM client signed with one long-term key, with its own runtime for
/// the few calls a command makes.
pub struct Iam {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_iam::Client,
}

fn date(d: Option<&aws_sdk_iam::primitives::DateTime>) -> Option<OffsetDateTime> {
    d.and_then(|d| OffsetDateTime::from_unix_timestamp(d.secs()).ok())
}

impl Iam {
    /// A client for the identity at `endpoints`, signed with its key.
    pub fn connect(
        endpoints: &Endpoints,
        access_key_id: &str,
        secret: &SecretAccessKey,
    ) -> Result<Iam, AwsError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AwsError::Runtime {
                message: e.to_string(),
            })?;
        let config = sdk_config(endpoints, Some((access_key_id, secret, None)));
        Ok(Iam {
            client: aws_sdk_iam::Client::new(&config),
            rt,
        })
    }

    /// The caller's access keys (at most two).
    pub fn list_keys(&self) -> Result<Vec<AccessKeyInfo>, AwsError> {
        let out = self
            .rt
            .block_on(self.client.list_access_keys().send())
            .map_err(map_sdk_error)?;
        Ok(out
            .access_key_metadata
            .into_iter()
            .filter_map(|k| {
                Some(AccessKeyInfo {
                    access_key_id: k.access_key_id?,
                    active: k.status == Some(StatusType::Active),
                    created: date(k.create_date.as_ref()),
                })
            })
            .collect())
    }

    pub fn last_used(&self, key_id: &str) -> Result<LastUsed, AwsError> {
        let out = self
            .rt
            .block_on(
                self.client
                    .get_access_key_last_used()
                    .access_key_id(key_id)
                    .send(),
            )
            .map_err(map_sdk_error)?;
        let used = out.access_key_last_used;
        // AWS reports "N/A" for a service or region a key never used.
        let known = |s: String| (s != "N/A").then_some(s);
        Ok(LastUsed {
            date: date(used.as_ref().and_then(|u| u.last_used_date.as_ref())),
            service: used.as_ref().and_then(|u| known(u.service_name.clone())),
            region: used.and_then(|u| known(u.region)),
        })
    }

    pub fn create_key(&self) -> Result<NewKey, AwsError> {
        let out = self
            .rt
            .block_on(self.client.create_access_key().send())
            .map_err(map_sdk_error)?;
        let key = out.access_key.ok_or_else(|| AwsError::Unexpected {
            message: "CreateAccessKey returned no key".into(),
        })?;
        Ok(NewKey {
            access_key_id: key.access_key_id,
            created: date(key.create_date.as_ref()),
            secret: SecretAccessKey::new(key.secret_access_key),
        })
    }

    pub fn set_active(&self, key_id: &str, active: bool) -> Result<(), AwsError> {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.rt
            .block_on(
                self.client
                    .update_access_key()
                    .access_key_id(key_id)
                    .status(status)
                    .send(),
            )
            .map_err(map_sdk_error)?;
        Ok(())
    }

    pub fn delete_key(&self, key_id: &str) -> Result<(), AwsError> {
        self.rt
            .block_on(self.client.delete_access_key().access_key_id(key_id).send())
            .map_err(map_sdk_error)?;
        Ok(())
    }
}

/// The IAM action behind each key command, for refusal messages.
pub fn permission_hint(action: &str) -> String {
    format!(
        "this key may not call iam:{action}. Ask an administrator to attach the IAM guide's ManageOwnAccessKeys policy to the user:\n{MANAGE_OWN_ACCESS_KEYS}"
    )
}
