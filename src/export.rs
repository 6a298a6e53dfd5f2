//! Writing a `state_dict` as safetensors or as a NumPy `.npz`, both hand-written (no
//! dependencies): what `torch-rng init` writes.
//!
//! * safetensors: an 8-byte little-endian header length, a JSON header (tensors in `state_dict`
//!   order with ascending `data_offsets`, plus `__metadata__`), padded with spaces to a multiple of
//!   8, then the raw little-endian bytes. `safetensors.torch.load_file` reads it.
//! * npz: a stored (uncompressed) zip of one `.npy` (format 1.0) per tensor, named
//!   `<state_dict name>.npy`. NumPy has no bfloat16, so bfloat16 tensors are stored as their
//!   `uint16` bit patterns (`<u2`). Members are limited to 4 GiB (no zip64).

#![allow(clippy::doc_markdown)]

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::modules::StateDict;

fn st_dtype(d: DType) -> &'static str {
    match d {
        DType::Float32 => "F32",
        DType::Float64 => "F64",
        DType::Float16 => "F16",
        DType::BFloat16 => "BF16",
        DType::Int64 => "I64",
        DType::Int32 => "I32",
        DType::Int16 => "I16",
        DType::Int8 => "I8",
        DType::UInt8 => "U8",
        DType::Bool => "BOOL",
        DType::UInt16 => "U16",
        DType::UInt32 => "U32",
        DType::UInt64 => "U64",
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The safetensors file for `sd`, with `metadata` (string pairs) in `__metadata__`.
#[must_use]
pub fn safetensors_bytes(sd: &StateDict, metadata: &[(String, String)]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut entries = Vec::new();
    if !metadata.is_empty() {
        let m: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
            .collect();
        entries.push(format!("\"__metadata__\":{{{}}}", m.join(",")));
    }
    let mut offset = 0usize;
    let mut datas = Vec::with_capacity(sd.len());
    for (name, t) in sd {
        let bytes = t.to_le_bytes();
        let end = offset + bytes.len();
        let shape: Vec<String> = t.shape().iter().map(ToString::to_string).collect();
        entries.push(format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_string(name),
            st_dtype(t.dtype()),
            shape.join(",")
        ));
        offset = end;
        datas.push(bytes);
    }
    header.push_str(&entries.join(","));
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for d in datas {
        out.extend_from_slice(&d);
    }
    out
}

/// One tensor read back from a safetensors file: name, dtype string, shape, raw bytes.
pub type SafetensorsEntry = (String, String, Vec<usize>, Vec<u8>);

/// A safetensors file read back: its tensors in data order and its metadata pairs.
pub type SafetensorsFile = (Vec<SafetensorsEntry>, Vec<(String, String)>);

/// Reads a safetensors file back: tensor names, dtypes, shapes and bytes, in file order, plus the
/// metadata. For tests and for checking a written file.
///
/// # Errors
/// [`Error::InvalidArgument`] for a malformed file.
pub fn read_safetensors(bytes: &[u8]) -> Result<SafetensorsFile> {
    let bad = |r: &str| Error::arg("read_safetensors", r.to_string());
    let n = u64::from_le_bytes(
        bytes
            .get(..8)
            .ok_or_else(|| bad("too short"))?
            .try_into()
            .map_err(|_| bad("too short"))?,
    ) as usize;
    let header = bytes
        .get(8..8 + n)
        .ok_or_else(|| bad("header past the end"))?;
    let v: serde_json::Value = serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("header is not an object"))?;
    let data = &bytes[8 + n..];
    let mut tensors = Vec::new();
    let mut meta = Vec::new();
    for (k, e) in obj {
        if k == "__metadata__" {
            for (mk, mv) in e.as_object().ok_or_else(|| bad("bad metadata"))? {
                meta.push((mk.clone(), mv.as_str().unwrap_or_default().to_string()));
            }
            continue;
        }
        let dtype = e["dtype"]
            .as_str()
            .ok_or_else(|| bad("missing dtype"))?
            .to_string();
        let shape = e["shape"]
            .as_array()
            .ok_or_else(|| bad("missing shape"))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .map(|d| d as usize)
                    .ok_or_else(|| bad("bad shape"))
            })
            .collect::<Result<Vec<_>>>()?;
        let off = e["data_offsets"]
            .as_array()
            .ok_or_else(|| bad("missing data_offsets"))?;
        let (b, end) = (
            off.first()
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| bad("bad offsets"))? as usize,
            off.get(1)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| bad("bad offsets"))? as usize,
        );
        let slice = data.get(b..end).ok_or_else(|| bad("data past the end"))?;
        tensors.push((b, (k.clone(), dtype, shape, slice.to_vec())));
    }
    tensors.sort_by_key(|t| t.0);
    let tensors = tensors.into_iter().map(|(_, t)| t).collect();
    Ok((tensors, meta))
}

fn npy_descr(d: DType) -> &'static str {
    match d {
        DType::Float32 => "<f4",
        DType::Float64 => "<f8",
        DType::Float16 => "<f2",
        // NumPy has no bfloat16: the bit patterns as uint16.
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

fn npy(t: &crate::tensor::Tensor) -> Vec<u8> {
    let shape = match t.shape() {
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
        npy_descr(t.dtype())
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = Vec::new();
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(&t.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, e) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *e = c;
    }
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// The `.npz` file for `sd` (a stored zip of `.npy` members in `state_dict` order).
///
/// # Errors
/// [`Error::Unsupported`] for a member or archive over 4 GiB, or more than 65535 tensors.
pub fn npz_bytes(sd: &StateDict) -> Result<Vec<u8>> {
    let too_big =
        || Error::unsupported("npz over 4 GiB or 65535 members (no zip64); use .safetensors");
    if sd.len() > 0xFFFF {
        return Err(too_big());
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    // 1980-01-01 00:00, so that the file is byte-stable.
    let (time, date) = (0u16, 0x21u16);
    for (name, t) in sd {
        let data = npy(t);
        let fname = format!("{name}.npy");
        let offset = u32::try_from(out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let crc = crc32(&data);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&time.to_le_bytes());
            v.extend_from_slice(&date.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(fname.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(fname.as_bytes());
        out.extend_from_slice(&data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(fname.as_bytes());
    }
    let cd_offset = u32::try_from(out.len()).map_err(|_| too_big())?;
    let cd_size = u32::try_from(central.len()).map_err(|_| too_big())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // disk numbers
    out.extend_from_slice(&(sd.len() as u16).to_le_bytes());
    out.extend_from_slice(&(sd.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Storage, Tensor};

    fn sd() -> StateDict {
        vec![
            (
                "a.weight".into(),
                Tensor::new(vec![2, 2], Storage::F32(vec![1.0, -2.0, 0.5, 3.0])).unwrap(),
            ),
            (
                "n".into(),
                Tensor::new(vec![], Storage::I64(vec![7])).unwrap(),
            ),
        ]
    }

    #[test]
    fn safetensors_round_trip() {
        let meta = vec![("seed".to_string(), "1".to_string())];
        let bytes = safetensors_bytes(&sd(), &meta);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let (ts, m) = read_safetensors(&bytes).unwrap();
        assert_eq!(m, meta);
        assert_eq!(ts[0].0, "a.weight");
        assert_eq!(ts[0].1, "F32");
        assert_eq!(ts[0].2, [2, 2]);
        assert_eq!(ts[0].3, sd()[0].1.to_le_bytes());
        assert_eq!(ts[1].1, "I64");
    }

    #[test]
    fn crc_and_npz_layout() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let z = npz_bytes(&sd()).unwrap();
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(&z[30..30 + 12], b"a.weight.npy");
        let npy_start = 30 + 12;
        assert_eq!(&z[npy_start..npy_start + 6], b"\x93NUMPY");
        let hlen = u16::from_le_bytes([z[npy_start + 8], z[npy_start + 9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
    }
}
