//! The `.npy` header: reading (versions 1.0, 2.0, 3.0) and writing (1.0, or 2.0 when the
//! header does not fit in 65,535 bytes).
//!
//! Format: NumPy's `numpy/lib/format.py` (NEP 1): the magic `\x93NUMPY`, major and minor
//! version bytes, a little-endian header length (`u16` in 1.0, `u32` in 2.0 and 3.0), then a
//! Python dict literal with exactly the keys `descr`, `fortran_order` and `shape`, padded with
//! spaces and a newline so that the data starts at a multiple of 64. Version 3.0 only allows the
//! header to be UTF-8 instead of latin-1.

use crate::dtype::DType;

/// The descriptor NumPy writes for a dtype (`<f4`); bfloat16, which NumPy lacks, as its
/// `uint16` bit patterns.
pub(crate) fn descr(d: DType) -> &'static str {
    match d {
        DType::Float32 => "<f4",
        DType::Float64 => "<f8",
        DType::Float16 => "<f2",
        DType::BFloat16 | DType::UInt16 => "<u2",
        DType::Int16 => "<i2",
        DType::Int64 => "<i8",
        DType::Int32 => "<i4",
        DType::Int8 => "|i1",
        DType::UInt8 => "|u1",
        DType::Bool => "|b1",
        DType::UInt32 => "<u4",
        DType::UInt64 => "<u8",
    }
}

fn parse_descr(s: &str) -> Result<DType, String> {
    Ok(match s {
        "<f4" => DType::Float32,
        "<f8" => DType::Float64,
        "<f2" => DType::Float16,
        "<i8" => DType::Int64,
        "<i4" => DType::Int32,
        "<i2" => DType::Int16,
        "|i1" | "<i1" => DType::Int8,
        "|u1" | "<u1" => DType::UInt8,
        "|b1" | "<b1" => DType::Bool,
        "<u2" => DType::UInt16,
        "<u4" => DType::UInt32,
        "<u8" => DType::UInt64,
        s if s.starts_with('>') => {
            return Err(format!("big-endian dtype '{s}' is not supported"));
        }
        s if s.ends_with('O') => {
            return Err(format!("object arrays ('{s}') need pickle and are refused"));
        }
        s => return Err(format!("dtype '{s}' is not supported")),
    })
}

/// A parsed header: where the data starts, its dtype and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) data_offset: u64,
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
}

/// The bytes needed to know the header length.
pub(crate) const PREAMBLE: u64 = 12;

/// Parses the header at the start of `b` (which holds at least the header, or the whole member
/// if shorter). `max_header` bounds the header length; `max_ndim` the dimensions.
pub(crate) fn parse_header(b: &[u8], max_header: u64, max_ndim: usize) -> Result<Header, String> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (no \\x93NUMPY magic)".into());
    }
    let (major, minor) = (b[6], b[7]);
    let (hlen, start) = match (major, minor) {
        (1, 0) => (u64::from(u16::from_le_bytes([b[8], b[9]])), 10u64),
        (2 | 3, 0) => {
            let l = b.get(8..12).ok_or("truncated header length")?;
            (u64::from(u32::from_le_bytes([l[0], l[1], l[2], l[3]])), 12)
        }
        _ => {
            return Err(format!(
                ".npy format version {major}.{minor} is not supported"
            ))
        }
    };
    if hlen > max_header {
        return Err(format!(
            "header of {hlen} bytes is longer than {max_header} (Limits::max_npy_header_bytes)"
        ));
    }
    let text = b
        .get(start as usize..(start + hlen) as usize)
        .ok_or("the header is truncated")?;
    let text: String = if major == 3 {
        std::str::from_utf8(text)
            .map_err(|_| "the header is not UTF-8")?
            .to_string()
    } else {
        // latin-1: every byte is the code point of the same value.
        text.iter().map(|&c| char::from(c)).collect()
    };
    let (descr, fortran, shape) = parse_dict(&text)?;
    if fortran {
        return Err("Fortran-order arrays are not supported (C order only)".into());
    }
    let dtype = parse_descr(&descr)?;
    if shape.len() > max_ndim {
        return Err(format!(
            "{} dimensions are more than {max_ndim} (Limits::max_ndim)",
            shape.len()
        ));
    }
    Ok(Header {
        data_offset: start + hlen,
        dtype,
        shape,
    })
}

/// A tiny reader for the one Python literal NumPy writes: `{'descr': '<f4', 'fortran_order':
/// False, 'shape': (2, 3), }` (any key order, optional trailing commas, spaces).
fn parse_dict(t: &str) -> Result<(String, bool, Vec<usize>), String> {
    let mut p = Lit {
        b: t.as_bytes(),
        i: 0,
    };
    p.ws();
    p.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
            break;
        }
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        match key.as_str() {
            "descr" if descr.is_none() => {
                if p.peek() == Some(b'[') {
                    return Err("structured dtypes are not supported".into());
                }
                descr = Some(p.string()?);
            }
            "fortran_order" if fortran.is_none() => {
                fortran = Some(if p.word("True") {
                    true
                } else if p.word("False") {
                    false
                } else {
                    return Err("fortran_order is not True or False".into());
                });
            }
            "shape" if shape.is_none() => shape = Some(p.tuple()?),
            k @ ("descr" | "fortran_order" | "shape") => {
                return Err(format!("key '{k}' appears twice in the header"))
            }
            k => return Err(format!("unexpected key '{k}' in the header")),
        }
        p.ws();
        match p.peek() {
            Some(b',') => p.i += 1,
            Some(b'}') => {}
            _ => return Err(format!("expected ',' or '}}' at {} in the header", p.i)),
        }
    }
    p.ws();
    if p.i != p.b.len() {
        return Err("unexpected text after the header dict".into());
    }
    Ok((
        descr.ok_or("the header has no 'descr'")?,
        fortran.ok_or("the header has no 'fortran_order'")?,
        shape.ok_or("the header has no 'shape'")?,
    ))
}

struct Lit<'a> {
    b: &'a [u8],
    i: usize,
}

impl Lit<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at {} in the header",
                char::from(c),
                self.i
            ))
        }
    }
    fn word(&mut self, w: &str) -> bool {
        if self.b[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
    /// A quoted string without escapes (NumPy's keys and descriptors have none).
    fn string(&mut self) -> Result<String, String> {
        let Some(q @ (b'\'' | b'"')) = self.peek() else {
            return Err(format!(
                "expected a quoted string at {} in the header",
                self.i
            ));
        };
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == q {
                let s = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
                self.i += 1;
                return Ok(s);
            }
            if c == b'\\' {
                return Err("escapes in header strings are not supported".into());
            }
            self.i += 1;
        }
        Err("unterminated string in the header".into())
    }
    /// `()`, `(3,)`, `(2, 3)`, `(2, 3,)`; Python 2's `3L` is accepted.
    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b')') {
                self.i += 1;
                // A one-element tuple needs its comma: `(3)` is the integer 3, not a shape.
                return Ok(dims);
            }
            let start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default();
            if digits.is_empty() {
                return Err(format!("expected a dimension at {} in the shape", self.i));
            }
            let d: usize = digits
                .parse()
                .map_err(|_| format!("dimension {digits} is too large"))?;
            if self.peek() == Some(b'L') {
                self.i += 1;
            }
            dims.push(d);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b')') if dims.len() > 1 => {}
                Some(b')') => return Err("a one-dimension shape needs a trailing comma".into()),
                _ => return Err(format!("expected ',' or ')' at {} in the shape", self.i)),
            }
            if dims.len() > 1024 {
                return Err("too many dimensions".into());
            }
        }
    }
}

/// The `.npy` header for a C-order array, exactly as `numpy.save` writes it: version 1.0 unless
/// the header needs more than 65,535 bytes, padded so that the data starts at a multiple of 64.
pub(crate) fn header(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let shape = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        s => format!(
            "({})",
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut h = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        descr(dtype)
    );
    // The v1 header length after padding (the data starts at a multiple of 64).
    let v1 = (10 + h.len() + 1).div_ceil(64) * 64 - 10 <= 0xFFFF;
    let pre = if v1 { 10 } else { 12 };
    while (pre + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = Vec::with_capacity(pre + h.len());
    out.extend_from_slice(b"\x93NUMPY");
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(h.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_refusals() {
        for (d, s) in [
            (DType::Float32, vec![2usize, 3]),
            (DType::Bool, vec![]),
            (DType::Int8, vec![5]),
        ] {
            let h = header(d, &s);
            assert_eq!(h.len() % 64, 0);
            let p = parse_header(&h, 10_000, 64).unwrap();
            assert_eq!((p.data_offset, p.dtype, p.shape), (h.len() as u64, d, s));
        }
        let hdr = |text: &str| {
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend_from_slice(&(text.len() as u16).to_le_bytes());
            b.extend_from_slice(text.as_bytes());
            parse_header(&b, 10_000, 64)
        };
        assert!(hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}").is_ok());
        assert!(hdr("{\"shape\": (2, 3L), \"descr\": \"|u1\", \"fortran_order\": False,}").is_ok());
        for (bad, why) in [
            (
                "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }",
                "Fortran",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }",
                "object",
            ),
            (
                "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
                "big-endian",
            ),
            (
                "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }",
                "not supported",
            ),
            (
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }",
                "structured",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
                "comma",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }",
                "dimension",
            ),
            ("{'descr': '<f4', 'fortran_order': False}", "no 'shape'"),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                "twice",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
                "unexpected key",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "too large",
            ),
        ] {
            let e = hdr(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
