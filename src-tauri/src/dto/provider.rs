//! The provider page (screen `provider`): an external ID issued to a
//! customer and the trust-policy form.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::thirdparty::Issued;

use super::rfc3339;

/// An external ID generated on the provider page.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ExternalIdView {
    pub external_id: String,
    /// The customer it was issued to and recorded for, if one was named.
    pub customer: Option<String>,
    /// False when the customer already had this ID.
    pub new: bool,
    /// RFC 3339.
    pub issued_at: Option<String>,
}

impl From<Issued> for ExternalIdView {
    fn from(i: Issued) -> Self {
        Self {
            external_id: i.external_id,
            customer: Some(i.customer),
            new: i.new,
            issued_at: Some(rfc3339(i.issued_at)),
        }
    }
}

/// The provider page's trust-policy form (`keyfob trust-policy`).
#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct TrustPolicyForm {
    /// The provider's account ID (12 digits); may be empty when a
    /// principal ARN is given.
    pub account: String,
    /// A role of the provider's to name as the principal instead of the
    /// whole account; may be empty.
    pub principal_arn: String,
    pub external_id: String,
}
