//! The error of starting an emulator (re-exported at the crate root).

/// Errors of starting an emulator.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The listener could not be bound.
    Io(std::io::Error),
    /// The seed is invalid.
    Seed(String),
    /// The state file cannot be read (torn, foreign, or from a newer version) or written.
    State(String),
    /// A webhook cannot be sent (unknown type, or a URL that is not `http://`).
    Webhook(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "trophy-emulator: {e}"),
            Error::Seed(m) | Error::State(m) | Error::Webhook(m) => write!(f, "trophy-emulator: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Seed(_) | Error::State(_) | Error::Webhook(_) => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
