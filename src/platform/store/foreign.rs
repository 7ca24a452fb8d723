//! Reading (and, once the person agrees, deleting) the items another
//! tool keeps in a Secret Service collection of its own, for `import`:
//! aws-vault's `awsvault` collection, and the items keytar keeps for
//! Leapp ([`ForeignCollection::search`]). Never written to otherwise.
//!
//! The collection is found the way its owner finds it: aws-vault's
//! keyring (github.com/99designs/keyring v1.2.2 `secretservice.go`,
//! `openSecrets`) takes the collection whose object path, with the
//! daemon's `_XX` escapes decoded, is `/org/freedesktop/secrets/collection/NAME`.

use std::collections::HashMap;

use secret_service::blocking::SecretService;
use zeroize::Zeroizing;

use super::keychain;

/// A collection's object paths start with this.
const COLLECTIONS: &str = "/org/freedesktop/secrets/collection/";

#[derive(Debug, thiserror::Error)]
pub enum ForeignError {
    #[error("the Secret Service does not answer: {message}")]
    Unavailable { message: String },
    #[error("collection {collection} of the Secret Service: {op}: {message}")]
    Failed {
        collection: String,
        op: &'static str,
        message: String,
    },
}

/// One item of the collection. No `Debug`: `secret` is secret.
pub struct ForeignItem {
    /// The item's object path: what [`ForeignCollection::delete`] takes.
    pub path: String,
    pub label: String,
    pub attributes: HashMap<String, String>,
    /// The item's secret, wiped on drop.
    pub secret: Zeroizing<Vec<u8>>,
}

/// A session with the Secret Service and the collection's name.
pub struct ForeignCollection {
    ss: SecretService<'static>,
    name: String,
}

/// keyring's `decodeKeyringString`: `_XX` (two hex digits) is the byte
/// 0xXX; a string with a broken escape is kept as it is.
fn decode_path(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'_' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let Some(byte) = src
            .get(i + 1..i + 3)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        else {
            return src.to_owned();
        };
        out.push(byte);
        i += 3;
    }
    String::from_utf8(out).unwrap_or_else(|_| src.to_owned())
}

impl ForeignCollection {
    /// Connects to the Secret Service for collection `name`.
    pub fn connect(name: &str) -> Result<Self, ForeignError> {
        let ss = keychain::service().map_err(|message| ForeignError::Unavailable { message })?;
        Ok(Self {
            ss,
            name: name.to_owned(),
        })
    }

    fn failed(&self, op: &'static str) -> impl Fn(secret_service::Error) -> ForeignError + '_ {
        move |e| ForeignError::Failed {
            collection: self.name.clone(),
            op,
            // The crate's crypto and encoding errors never carry item
            // bytes in their text; the others are the daemon's words.
            message: e.to_string(),
        }
    }

    fn collection(&self) -> Result<Option<secret_service::blocking::Collection<'_>>, ForeignError> {
        let wanted = format!("{COLLECTIONS}{}", self.name);
        let all = self
            .ss
            .get_all_collections()
            .map_err(self.failed("list collections"))?;
        Ok(all
            .into_iter()
            .find(|c| decode_path(c.collection_path.as_str()) == wanted))
    }

    /// Every item of the collection (it is unlocked first, as aws-vault
    /// does); `None` when there is no such collection.
    pub fn items(&self) -> Result<Option<Vec<ForeignItem>>, ForeignError> {
        let Some(collection) = self.collection()? else {
            return Ok(None);
        };
        collection
            .ensure_unlocked()
            .map_err(self.failed("unlock"))?;
        let mut out = Vec::new();
        for item in collection
            .get_all_items()
            .map_err(self.failed("list items"))?
        {
            item.ensure_unlocked()
                .map_err(self.failed("unlock an item"))?;
            out.push(ForeignItem {
                path: item.item_path.as_str().to_owned(),
                label: item.get_label().map_err(self.failed("read a label"))?,
                attributes: item
                    .get_attributes()
                    .map_err(self.failed("read attributes"))?,
                secret: Zeroizing::new(item.get_secret().map_err(self.failed("read a secret"))?),
            });
        }
        Ok(Some(out))
    }

    /// The items of any collection whose attributes include `attributes`
    /// (the Secret Service's `SearchItems`, what libsecret's
    /// `secret_password_lookup_sync` asks, as keytar does for Leapp),
    /// locked ones unlocked first.
    pub fn search(&self, attributes: &[(&str, &str)]) -> Result<Vec<ForeignItem>, ForeignError> {
        let found = self
            .ss
            .search_items(attributes.iter().copied().collect())
            .map_err(self.failed("search items"))?;
        let mut out = Vec::new();
        for item in found.unlocked.into_iter().chain(found.locked) {
            item.ensure_unlocked()
                .map_err(self.failed("unlock an item"))?;
            out.push(ForeignItem {
                path: item.item_path.as_str().to_owned(),
                label: item.get_label().map_err(self.failed("read a label"))?,
                attributes: item
                    .get_attributes()
                    .map_err(self.failed("read attributes"))?,
                secret: Zeroizing::new(item.get_secret().map_err(self.failed("read a secret"))?),
            });
        }
        Ok(out)
    }

    /// Deletes the item at `path` (one [`Self::items`] gave).
    pub fn delete(&self, path: &str) -> Result<(), ForeignError> {
        let path = zbus::zvariant::OwnedObjectPath::try_from(path.to_owned()).map_err(|e| {
            ForeignError::Failed {
                collection: self.name.clone(),
                op: "delete an item",
                message: e.to_string(),
            }
        })?;
        let item = self
            .ss
            .get_item_by_path(path)
            .map_err(self.failed("delete an item"))?;
        item.delete().map_err(self.failed("delete an item"))
    }
}

#[cfg(test)]
mod tests {
    use super::decode_path;

    #[test]
    fn paths_decode_as_keyring_decodes_them() {
        assert_eq!(
            decode_path("/org/freedesktop/secrets/collection/aws_2dvault"),
            "/org/freedesktop/secrets/collection/aws-vault"
        );
        assert_eq!(decode_path("/a/awsvault"), "/a/awsvault");
        assert_eq!(decode_path("/a/x_2"), "/a/x_2");
        assert_eq!(decode_path("/a/x_zz"), "/a/x_zz");
    }
}
