//! The fields of one JSON object of a case file, read one by one (so that leftovers are reported)
//! with errors that name the case and step.

use serde_json::{Map, Value};

use super::case_error;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::View;

/// Fields of one JSON object, consumed one by one so that leftovers can be reported.
pub(crate) struct Fields<'a> {
    pub(super) map: Map<String, Value>,
    pub(super) at: &'a str,
    /// Whether the step belongs to a CUDA case (fields that only a device tensor has, such as a
    /// dropout input's layout, are refused elsewhere).
    pub(super) cuda: bool,
}

impl Fields<'_> {
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// Whether `key` holds a tensor argument (a JSON object or a bare list) rather than a number.
    pub(crate) fn is_object(&self, key: &str) -> bool {
        matches!(self.map.get(key), Some(Value::Object(_) | Value::Array(_)))
    }

    /// Whether the step belongs to a CUDA case.
    pub(crate) fn cuda(&self) -> bool {
        self.cuda
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> crate::error::Error {
        case_error(self.at, reason)
    }

    pub(crate) fn finish(self) -> Result<()> {
        if let Some(k) = self.map.keys().next() {
            return Err(self.err(format!("unknown field '{k}'")));
        }
        Ok(())
    }

    pub(crate) fn int_of(&self, key: &str, v: &Value) -> Result<i128> {
        match v {
            Value::Number(n) => n
                .to_string()
                .parse::<i128>()
                .map_err(|_| self.err(format!("'{key}' must be an integer, found {n}"))),
            _ => Err(self.err(format!("'{key}' must be an integer, found {v}"))),
        }
    }

    /// A required JSON integer of any size: `Err` for a missing field or a non-integer, `Ok(None)`
    /// for an integer beyond 128 bits (for arguments whose range PyTorch checks when it runs).
    pub(crate) fn req_big_int(&mut self, key: &str) -> Result<Option<i128>> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        let text = match &v {
            Value::Number(n) => n.to_string(),
            _ => return Err(self.err(format!("'{key}' must be an integer, found {v}"))),
        };
        let digits = text.strip_prefix('-').unwrap_or(&text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!("'{key}' must be an integer, found {text}")));
        }
        Ok(text.parse::<i128>().ok())
    }

    pub(crate) fn req_int(&mut self, key: &str) -> Result<i128> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.int_of(key, &v)
    }

    pub(crate) fn req_i64(&mut self, key: &str) -> Result<i64> {
        let v = self.req_int(key)?;
        i64::try_from(v).map_err(|_| self.err(format!("'{key}' = {v} does not fit in int64")))
    }

    pub(crate) fn opt_f64(&mut self, key: &str, default: f64) -> Result<f64> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => self.float_of(key, &v),
        }
    }

    pub(crate) fn req_f64(&mut self, key: &str) -> Result<f64> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.float_of(key, &v)
    }

    /// A Python float: a JSON number, or one of the strings `inf`, `-inf`, `nan` (JSON has no
    /// literal for them; [`crate::init::special_float`]).
    pub(crate) fn float_of(&self, key: &str, v: &Value) -> Result<f64> {
        crate::init::json_float(v).ok_or_else(|| {
            self.err(format!(
                "'{key}' must be a number (or \"inf\", \"-inf\", \"nan\"), found {v}"
            ))
        })
    }

    pub(crate) fn opt_bool(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.take(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(v) => Err(self.err(format!("'{key}' must be true or false, found {v}"))),
        }
    }

    pub(crate) fn opt_str(&mut self, key: &str, default: &str) -> Result<String> {
        match self.take(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(self.err(format!("'{key}' must be a string, found {v}"))),
        }
    }

    pub(crate) fn dtype(&mut self) -> Result<DType> {
        match self.take("dtype") {
            None | Some(Value::Null) => Ok(DType::Float32),
            Some(Value::String(s)) => {
                DType::parse(&s).map_err(|_| self.err(format!("unknown dtype '{s}'")))
            }
            Some(v) => Err(self.err(format!("'dtype' must be a string, found {v}"))),
        }
    }

    pub(crate) fn size(&mut self) -> Result<Vec<i64>> {
        let v = self
            .take("size")
            .ok_or_else(|| self.err("missing field 'size'"))?;
        match &v {
            Value::Array(items) => items
                .iter()
                .map(|d| {
                    let d = self.int_of("size", d)?;
                    i64::try_from(d)
                        .map_err(|_| self.err(format!("size entry {d} does not fit in int64")))
                })
                .collect(),
            Value::Number(_) => Ok(vec![i64::try_from(self.int_of("size", &v)?)
                .map_err(|_| self.err("size does not fit in int64"))?]),
            _ => Err(self.err(format!("'size' must be a list of integers, found {v}"))),
        }
    }

    pub(crate) fn view(&mut self) -> Result<View> {
        let size = self.size()?;
        let dtype = self.dtype()?;
        match self.take("permute") {
            None | Some(Value::Null) => Ok(View::contiguous(&size, dtype)),
            Some(Value::Array(items)) => {
                let perm = items
                    .iter()
                    .map(|p| {
                        let p = self.int_of("permute", p)?;
                        usize::try_from(p)
                            .map_err(|_| self.err(format!("permute entry {p} is negative")))
                    })
                    .collect::<Result<Vec<usize>>>()?;
                View::permuted(&size, dtype, &perm).map_err(|e| self.err(e.to_string()))
            }
            Some(v) => Err(self.err(format!("'permute' must be a list of integers, found {v}"))),
        }
    }
}

impl crate::init::ArgSource for Fields<'_> {
    fn float(&mut self, key: &str) -> Result<Option<f64>> {
        self.take(key).map(|v| self.float_of(key, &v)).transpose()
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        self.take(key)
            .map(|v| {
                let i = self.int_of(key, &v)?;
                i64::try_from(i)
                    .map_err(|_| self.err(format!("'{key}' = {i} does not fit in int64")))
            })
            .transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!("'{key}' must be a string, found {v}"))),
        }
    }

    fn error(&self, reason: String) -> crate::error::Error {
        self.err(reason)
    }
}

pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    // Lowercase digits only, as the contract writes them (`from_str_radix` alone would also take
    // `AB` and `+a`).
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
