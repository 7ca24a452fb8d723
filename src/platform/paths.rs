//! Where keyfob keeps its files. Owns nothing but path resolution; every
//! other module asks here, so tests isolate keyfob by setting `HOME` and the
//! `XDG_*` variables alone.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("cannot find the home directory: set HOME")]
    NoHome,
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
}

/// The folders keyfob uses.
#[derive(Clone, Debug)]
pub struct Paths {
    /// `$XDG_CONFIG_HOME/keyfob`: settings and profiles (not secret).
    pub config_dir: PathBuf,
    /// `$XDG_DATA_HOME/keyfob`: the encrypted-file store, when used.
    pub data_dir: PathBuf,
    /// `$XDG_RUNTIME_DIR/keyfob`: locks and sockets; falls back to
    /// `data_dir/run` where the platform has no runtime folder.
    pub runtime_dir: PathBuf,
}

impl Paths {
    /// Resolves the folders from the environment without creating them.
    pub fn from_env() -> Result<Paths, PathError> {
        let config = dirs::config_dir().ok_or(PathError::NoHome)?;
        let data = dirs::data_dir().ok_or(PathError::NoHome)?;
        let data_dir = data.join("keyfob");
        let runtime_dir = dirs::runtime_dir()
            .map(|d| d.join("keyfob"))
            .unwrap_or_else(|| data_dir.join("run"));
        Ok(Paths {
            config_dir: config.join("keyfob"),
            data_dir,
            runtime_dir,
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

/// Creates `dir` (and parents) if missing and makes it 0700: the folders
/// keyfob owns hold locks, sockets and sealed entries that other local users
/// have no business listing.
pub fn private_dir(dir: &Path) -> Result<(), PathError> {
    let err = |source| PathError::Create {
        path: dir.to_owned(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let mode = fs::metadata(dir).map_err(err)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}
