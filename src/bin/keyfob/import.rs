//! `import`: moving plaintext keys out of the shared credentials file.

use crate::Context;
use crate::cli::ImportArgs;

pub fn run(_ctx: &Context, _args: ImportArgs) -> anyhow::Result<()> {
    anyhow::bail!("import is not available yet")
}
