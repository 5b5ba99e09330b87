use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
pub fn command(_args: &[String], _root: &Path) -> Result<ExitCode> { todo!() }
