//! The crate's one error type. A leaf: it names no other module of the crate.

use std::fmt;
use std::sync::Arc;

/// Everything that can go wrong in torch-rng.
///
/// Every variant is returned instead of panicking: a bad argument, a bad state blob or a malformed
/// case file never aborts the process.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Error {
    /// An argument PyTorch rejects (a `TORCH_CHECK` or Python `ValueError` on the same call).
    InvalidArgument {
        /// The op, spelled as in PyTorch (`uniform_`, `manual_seed`, `nn.Linear`, ...).
        op: String,
        /// What is wrong, naming the offending value.
        reason: String,
    },
    /// A dtype, op, capability or release that torch-rng does not reproduce (or PyTorch lacks).
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// A `get_rng_state` blob that cannot be imported.
    InvalidState {
        /// The field that is wrong (`length`, `left`, ...).
        field: &'static str,
        /// What the field must be.
        expected: String,
        /// What it was.
        actual: String,
    },
    /// A tensor larger than the allocation limit was asked for; refused before allocating.
    TooLarge {
        /// The op that would have allocated.
        op: String,
        /// The number of elements asked for.
        numel: u128,
        /// Their dtype, as PyTorch names it (`float32`).
        dtype: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The allocator could not provide a tensor's memory (the process goes on; nothing was
    /// written).
    OutOfMemory {
        /// The op that allocated.
        op: String,
        /// The bytes asked for.
        bytes: u128,
    },
    /// A malformed case file or model description (unknown op or field, wrong type, ...).
    CaseFile {
        /// Where: `case 'name', step 3` or a file position.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A malformed or unsupported input file (a checkpoint: safetensors, `.npz`, `.pt`).
    Malformed {
        /// The file and the item in it (`model.npz: member 'w.npy'`).
        location: String,
        /// What is wrong, naming the offending value.
        reason: String,
    },
    /// An I/O failure (reading a case file, writing an output).
    Io {
        /// The path or stream involved.
        path: String,
        /// The operating system's error.
        source: Arc<std::io::Error>,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidArgument`]: `op` rejects an argument for `reason`.
    #[must_use]
    pub fn arg(op: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            op: op.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Unsupported`]: `what` is not reproduced.
    #[must_use]
    pub fn unsupported(what: impl Into<String>) -> Error {
        Error::Unsupported { what: what.into() }
    }

    /// An [`Error::Io`] on `path`, keeping the operating system's error as the source.
    #[must_use]
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

/// Two errors are equal when they say the same thing (an I/O error compares by its kind and
/// message, since `std::io::Error` has no equality of its own).
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        match (self, other) {
            (Error::Io { path: p, source: s }, Error::Io { path: q, source: t }) => {
                p == q && s.kind() == t.kind() && s.to_string() == t.to_string()
            }
            (Error::Io { .. }, _) | (_, Error::Io { .. }) => false,
            _ => self.to_string() == other.to_string() && self.variant() == other.variant(),
        }
    }
}

impl Eq for Error {}

impl Error {
    fn variant(&self) -> u8 {
        match self {
            Error::InvalidArgument { .. } => 0,
            Error::Unsupported { .. } => 1,
            Error::InvalidState { .. } => 2,
            Error::TooLarge { .. } => 3,
            Error::CaseFile { .. } => 4,
            Error::Io { .. } => 5,
            Error::Malformed { .. } => 6,
            Error::OutOfMemory { .. } => 7,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { op, reason } => write!(f, "{op}: {reason}"),
            Error::Unsupported { what } => write!(f, "unsupported: {what}"),
            Error::InvalidState {
                field,
                expected,
                actual,
            } => write!(
                f,
                "invalid generator state: {field} must be {expected}, found {actual}"
            ),
            Error::TooLarge {
                op,
                numel,
                dtype,
                limit,
            } => write!(
                f,
                "{op}: {numel} elements of {dtype} need more than the limit of {limit} bytes"
            ),
            Error::OutOfMemory { op, bytes } => {
                write!(f, "{op}: out of memory allocating {bytes} bytes")
            }
            Error::CaseFile { location, reason } | Error::Malformed { location, reason } => {
                write!(f, "{location}: {reason}")
            }
            Error::Io { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_message() {
        let all = [
            Error::arg("rand", "negative dimension -1"),
            Error::unsupported("dtype complex64"),
            Error::InvalidState {
                field: "length",
                expected: "5056".into(),
                actual: "12".into(),
            },
            Error::TooLarge {
                op: "rand".into(),
                numel: 1 << 40,
                dtype: "float32",
                limit: 1 << 33,
            },
            Error::OutOfMemory {
                op: "rand".into(),
                bytes: 1 << 33,
            },
            Error::CaseFile {
                location: "case 'x', step 0".into(),
                reason: "unknown op 'foo'".into(),
            },
            Error::Malformed {
                location: "w.npz: member 'a.npy'".into(),
                reason: "fortran order is not supported".into(),
            },
            Error::io(
                "a.json",
                std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
            ),
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert!(!s.ends_with('.'), "{s}");
            assert_eq!(s.chars().next().unwrap().to_lowercase().to_string(), s[..1]);
        }
    }

    #[test]
    fn io_errors_keep_their_source() {
        use std::error::Error as _;
        let e = Error::io(
            "out.npz",
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        let source = e.source().expect("an I/O error has a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the source is the io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
        assert!(e.to_string().starts_with("out.npz: "));
        assert_eq!(e.clone(), e);
        assert!(Error::arg("rand", "x").source().is_none());
    }
}
