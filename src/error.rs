//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in torch-rng.
///
/// Every variant is returned instead of panicking: a bad argument, a bad state blob or a malformed
/// case file never aborts the process.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A tensor larger than [`crate::tensor::MAX_BYTES`] was asked for; refused before allocating.
    TooLarge {
        /// The op that would have allocated.
        op: String,
        /// The number of elements asked for.
        numel: u128,
        /// Their dtype.
        dtype: crate::dtype::DType,
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
        /// The operating system's message.
        message: String,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub(crate) fn arg(op: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            op: op.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Unsupported`].
    pub(crate) fn unsupported(what: impl Into<String>) -> Error {
        Error::Unsupported { what: what.into() }
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
            Error::TooLarge { op, numel, dtype } => write!(
                f,
                "{op}: {numel} elements of {dtype} need more than the limit of {} bytes",
                crate::tensor::MAX_BYTES
            ),
            Error::CaseFile { location, reason } | Error::Malformed { location, reason } => {
                write!(f, "{location}: {reason}")
            }
            Error::Io { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

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
                dtype: crate::dtype::DType::Float32,
            },
            Error::CaseFile {
                location: "case 'x', step 0".into(),
                reason: "unknown op 'foo'".into(),
            },
            Error::Malformed {
                location: "w.npz: member 'a.npy'".into(),
                reason: "fortran order is not supported".into(),
            },
            Error::Io {
                path: "a.json".into(),
                message: "not found".into(),
            },
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert!(!s.ends_with('.'), "{s}");
            assert_eq!(s.chars().next().unwrap().to_lowercase().to_string(), s[..1]);
        }
    }
}
