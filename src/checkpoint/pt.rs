//! PyTorch `.pt` files written by `torch.save`: the zip format and the legacy format.
//!
//! Mirrors: `torch/serialization.py` (`_save`, `_legacy_save`, `_load`, `_legacy_load`) and
//! `caffe2/serialize/inline_container.cc` (the zip records).

use std::collections::HashMap;
use std::io::{Read, Seek};

use super::pickle::{self, Machine, Obj, StorageRef};
use super::zip::{self, Entry};
use super::{malformed, Checkpoint, Plan, Src, StorageView, TensorInfo, Tie};
use crate::error::Result;

/// Where a storage's bytes are.
#[derive(Clone, Debug)]
pub(crate) enum StorageSource {
    /// A zip member `<archive>/data/<key>`.
    Zip(Entry),
    /// A file range (legacy format).
    Range { offset: u64, len: u64 },
}

/// Whether a zip archive is a `torch.save` file: it has `<archive>/data.pkl`.
pub(crate) fn is_torch_zip(entries: &[Entry]) -> bool {
    entries.iter().any(|e| pkl_prefix(&e.name).is_some())
}

fn pkl_prefix(name: &str) -> Option<&str> {
    let p = name.strip_suffix("data.pkl")?;
    (p.is_empty() || (p.ends_with('/') && p.matches('/').count() == 1)).then_some(p)
}

/// Reads a storage's bytes (a zip member is CRC-checked).
pub(crate) fn read_storage<R: Read + Seek>(src: &mut Src<R>, s: &StorageSource) -> Result<Vec<u8>> {
    match s {
        StorageSource::Zip(e) => zip::read_member(src, e),
        StorageSource::Range { offset, len } => src.read_at(*offset, *len, "a storage"),
    }
}

/// The contiguous bytes of a view (`shape`, `stride`, `offset` in elements of `elem` bytes) of
/// `storage`, byte-swapped per element if `swap`. The view was checked to lie in the storage.
pub(crate) fn gather(
    storage: Vec<u8>,
    elem: usize,
    shape: &[usize],
    offset: u64,
    stride: &[u64],
    swap: bool,
) -> Vec<u8> {
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel * elem);
    if numel > 0 {
        let contiguous = {
            let mut expect = 1u64;
            let mut ok = true;
            for (&d, &s) in shape.iter().zip(stride).rev() {
                if d != 1 && s != expect {
                    ok = false;
                    break;
                }
                expect *= d as u64;
            }
            ok
        };
        if contiguous && offset == 0 && numel * elem == storage.len() && !swap {
            // The whole storage, in order: no copy.
            return storage;
        }
        if contiguous {
            let start = offset as usize * elem;
            out.extend_from_slice(&storage[start..start + numel * elem]);
        } else {
            let nd = shape.len();
            let mut idx = vec![0usize; nd];
            for _ in 0..numel {
                let e = offset
                    + idx
                        .iter()
                        .zip(stride)
                        .map(|(&i, &s)| i as u64 * s)
                        .sum::<u64>();
                let b = e as usize * elem;
                out.extend_from_slice(&storage[b..b + elem]);
                for d in (0..nd).rev() {
                    idx[d] += 1;
                    if idx[d] < shape[d] {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
    }
    if swap && elem > 1 {
        for c in out.chunks_exact_mut(elem) {
            c.reverse();
        }
    }
    out
}

/// Adds the tensors found in `m` under `root` to `ck`, with `storage_of` giving each storage
/// key's bytes (source and byte length).
fn add_tensors<R: Read + Seek>(
    ck: &mut Checkpoint<R>,
    m: &Machine,
    root: pickle::Id,
    storages: &HashMap<String, (StorageSource, u64)>,
    swap: bool,
) -> Result<()> {
    let loc = ck.src.location.clone();
    let l = &ck.limits;
    let found = pickle::tensors(
        m,
        root,
        l.max_depth,
        l.max_tensors.saturating_mul(8).saturating_add(4096),
        l.max_name_bytes,
        l.max_pickle_bytes,
    )
    .map_err(|r| malformed(&loc, "data.pkl", r))?;
    let mut by_storage: Vec<(String, Vec<usize>)> = Vec::new();
    let mut storage_index: HashMap<String, usize> = HashMap::new();
    for f in found {
        let t = f.tensor;
        let item = format!("tensor '{}'", f.name);
        let bad = |r: String| malformed(&loc, &item, r);
        if t.size.len() > ck.limits.max_ndim {
            return Err(bad(format!(
                "{} dimensions are more than {} (Limits::max_ndim)",
                t.size.len(),
                ck.limits.max_ndim
            )));
        }
        let (source, nbytes) = storages
            .get(&t.storage.key)
            .ok_or_else(|| bad(format!("storage '{}' is not in the file", t.storage.key)))?;
        let elem = t.dtype.size() as u64;
        // The last element's index, if the view is not empty.
        let last = if t.size.contains(&0) {
            None
        } else {
            let mut last = Some(t.offset);
            for (&d, &s) in t.size.iter().zip(&t.stride) {
                last = last.and_then(|x| (d - 1).checked_mul(s).and_then(|y| x.checked_add(y)));
            }
            Some(last.ok_or_else(|| bad("the view's extent overflows".into()))?)
        };
        if let Some(last) = last {
            let end = last
                .checked_add(1)
                .and_then(|n| n.checked_mul(elem))
                .ok_or_else(|| bad("the view's extent overflows".into()))?;
            if end > *nbytes {
                return Err(bad(format!(
                    "the view (offset {}, size {:?}, stride {:?}) reaches byte {end} of a \
                     {nbytes}-byte storage",
                    t.offset, t.size, t.stride
                )));
            }
        }
        let shape = t
            .size
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| bad(format!("dimension {d} overflows"))))
            .collect::<Result<Vec<usize>>>()?;
        let view = StorageView {
            storage: t.storage.key.clone(),
            offset: t.offset,
            stride: t.stride.clone(),
        };
        let i = *storage_index
            .entry(t.storage.key.clone())
            .or_insert_with(|| {
                by_storage.push((t.storage.key.clone(), Vec::new()));
                by_storage.len() - 1
            });
        by_storage[i].1.push(ck.tensors.len());
        ck.push(
            TensorInfo {
                name: f.name,
                dtype: t.dtype,
                shape,
                view: Some(view),
            },
            Plan::Storage {
                source: source.clone(),
                offset: t.offset,
                stride: t.stride.clone(),
                swap,
            },
        )?;
    }
    for (storage, idx) in by_storage {
        if idx.len() > 1 {
            let first = &ck.tensors[idx[0]];
            let same_view = idx.iter().all(|&i| {
                let t = &ck.tensors[i];
                t.dtype == first.dtype && t.shape == first.shape && t.view == first.view
            });
            ck.ties.push(Tie {
                storage,
                names: idx.iter().map(|&i| ck.tensors[i].name.clone()).collect(),
                same_view,
            });
        }
    }
    Ok(())
}

/// Every storage the pickle names, checked for agreeing sizes and kinds.
fn storage_refs(m: &Machine) -> std::result::Result<HashMap<String, StorageRef>, String> {
    let mut refs: HashMap<String, StorageRef> = HashMap::new();
    for o in &m.objs {
        if let Obj::Storage(s) = o {
            match refs.get(&s.key) {
                Some(prev) if prev != s => {
                    return Err(format!(
                        "storage '{}' is named with two types or sizes",
                        s.key
                    ))
                }
                Some(_) => {}
                None => {
                    refs.insert(s.key.clone(), s.clone());
                }
            }
        }
    }
    Ok(refs)
}

/// Indexes a `torch.save` zip archive.
pub(crate) fn index_zip<R: Read + Seek>(ck: &mut Checkpoint<R>, entries: &[Entry]) -> Result<()> {
    let loc = ck.src.location.clone();
    let pkls: Vec<&Entry> = entries
        .iter()
        .filter(|e| pkl_prefix(&e.name).is_some())
        .collect();
    if pkls.len() != 1 {
        return Err(malformed(
            &loc,
            "",
            format!("{} data.pkl records", pkls.len()),
        ));
    }
    let pkl = pkls[0].clone();
    let prefix = pkl_prefix(&pkl.name).unwrap_or_default().to_string();
    if let Some(e) = entries.iter().find(|e| !e.name.starts_with(&prefix)) {
        return Err(malformed(
            &loc,
            &format!("record '{}'", e.name),
            format!("is outside the archive '{prefix}'"),
        ));
    }
    let by_name: HashMap<&str, &Entry> = entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let find = |n: &str| by_name.get(format!("{prefix}{n}").as_str()).copied();
    let swap = match find("byteorder") {
        None => false,
        Some(e) if e.usize <= 16 => match zip::read_member(&mut ck.src, e)?.as_slice() {
            b"little" => false,
            b"big" => true,
            o => {
                return Err(malformed(
                    &loc,
                    "byteorder",
                    format!("is {:?}, not little or big", String::from_utf8_lossy(o)),
                ))
            }
        },
        Some(_) => return Err(malformed(&loc, "byteorder", "is too long")),
    };
    if pkl.usize > ck.limits.max_pickle_bytes {
        return Err(malformed(
            &loc,
            "data.pkl",
            format!(
                "{} bytes are more than {} (Limits::max_pickle_bytes)",
                pkl.usize, ck.limits.max_pickle_bytes
            ),
        ));
    }
    let data = zip::read_member(&mut ck.src, &pkl)?;
    let mut m = Machine::default();
    let (root, end) = m
        .run(&data, 0)
        .map_err(|r| malformed(&loc, "data.pkl", r))?;
    if end != data.len() {
        return Err(malformed(
            &loc,
            "data.pkl",
            format!("{} bytes after STOP", data.len() - end),
        ));
    }
    let refs = storage_refs(&m).map_err(|r| malformed(&loc, "data.pkl", r))?;
    let mut storages = HashMap::new();
    for (key, s) in refs {
        let item = format!("storage '{key}'");
        let e = find(&format!("data/{key}"))
            .ok_or_else(|| malformed(&loc, &item, format!("no record {prefix}data/{key}")))?;
        let nbytes = s
            .numel
            .checked_mul(s.kind.elem_size())
            .ok_or_else(|| malformed(&loc, &item, "size overflows"))?;
        if e.usize != nbytes {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "holds {} bytes but the pickle says {} elements of {} bytes",
                    e.usize,
                    s.numel,
                    s.kind.elem_size()
                ),
            ));
        }
        if nbytes > ck.limits.max_tensor_bytes {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "{nbytes} bytes are more than {} (Limits::max_tensor_bytes)",
                    ck.limits.max_tensor_bytes
                ),
            ));
        }
        storages.insert(key, (StorageSource::Zip(e.clone()), nbytes));
    }
    add_tensors(ck, &m, root, &storages, swap)
}

/// The magic number `_legacy_save` pickles first (0x1950a86a20f9469cfc6c), little-endian.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Indexes a legacy `torch.save` file: pickles of the magic number, the protocol version (1001),
/// the system info, the object and the list of storage keys; then, per key in that order, an
/// 8-byte little-endian element count and the storage's bytes.
#[allow(clippy::too_many_lines)] // the file's records in order, each checked where it is read
pub(crate) fn index_legacy<R: Read + Seek>(ck: &mut Checkpoint<R>) -> Result<()> {
    let loc = ck.src.location.clone();
    let bad = |r: String| malformed(&loc, "", r);
    // The pickles are read from a prefix of the file that grows until they fit.
    let mut cap = (1u64 << 20).min(ck.src.len());
    loop {
        let data = ck.src.read_at(0, cap, "the legacy pickles")?;
        let mut m = Machine::default();
        let run = |m: &mut Machine, at: usize| m.run(&data, at);
        let result = (|| -> std::result::Result<_, String> {
            let (magic, p) = run(&mut m, 0)?;
            if m.get(magic) != &Obj::BigInt(LEGACY_MAGIC.to_vec()) {
                return Err("not a torch.save file (wrong magic number)".into());
            }
            let (proto, p) = run(&mut m, p)?;
            if m.get(proto) != &Obj::Int(1001) {
                return Err(format!("legacy protocol {:?} is not 1001", m.get(proto)));
            }
            let (info, p) = run(&mut m, p)?;
            let Obj::Dict(items) = m.get(info) else {
                return Err("the system info is not a dict".into());
            };
            let little = items.iter().any(|&(k, v)| {
                m.get(k) == &Obj::Str("little_endian".into()) && m.get(v) == &Obj::Bool(true)
            });
            if !little {
                return Err("big-endian legacy files are not supported".into());
            }
            let (root, p) = run(&mut m, p)?;
            let (keys, p) = run(&mut m, p)?;
            let Obj::List(keys) = m.get(keys) else {
                return Err("the storage key list is not a list".into());
            };
            let keys = keys
                .iter()
                .map(|&k| match m.get(k) {
                    Obj::Str(s) => Ok(s.clone()),
                    o => Err(format!("a storage key is {}", o.kind())),
                })
                .collect::<std::result::Result<Vec<String>, String>>()?;
            Ok((root, keys, p))
        })();
        let (root, keys, end) = match result {
            Ok(r) => r,
            Err(e) if e.starts_with("truncated pickle") && cap < ck.src.len() => {
                if cap >= ck.limits.max_pickle_bytes {
                    return Err(bad(format!(
                        "the pickles are longer than {} bytes (Limits::max_pickle_bytes)",
                        ck.limits.max_pickle_bytes
                    )));
                }
                cap = (cap * 8).min(ck.src.len()).min(ck.limits.max_pickle_bytes);
                continue;
            }
            Err(e) => return Err(bad(e)),
        };
        let refs = storage_refs(&m).map_err(&bad)?;
        let mut storages = HashMap::new();
        let mut at = end as u64;
        for key in keys {
            let item = format!("storage '{key}'");
            let s = refs
                .get(&key)
                .ok_or_else(|| malformed(&loc, &item, "is listed but never used"))?;
            if storages.contains_key(&key) {
                return Err(malformed(&loc, &item, "is listed twice"));
            }
            let n = ck.src.read_at(at, 8, "a storage size")?;
            let count = u64::from_le_bytes(n.try_into().expect("8 bytes"));
            if count != s.numel {
                return Err(malformed(
                    &loc,
                    &item,
                    format!("has {count} elements but the pickle says {}", s.numel),
                ));
            }
            let nbytes = count
                .checked_mul(s.kind.elem_size())
                .filter(|&b| b <= ck.src.len())
                .ok_or_else(|| malformed(&loc, &item, "is larger than the file"))?;
            if nbytes > ck.limits.max_tensor_bytes {
                return Err(malformed(
                    &loc,
                    &item,
                    format!(
                        "{nbytes} bytes are more than {} (Limits::max_tensor_bytes)",
                        ck.limits.max_tensor_bytes
                    ),
                ));
            }
            let offset = at + 8;
            at = offset
                .checked_add(nbytes)
                .filter(|&e| e <= ck.src.len())
                .ok_or_else(|| malformed(&loc, &item, "runs past the end of the file"))?;
            storages.insert(
                key,
                (
                    StorageSource::Range {
                        offset,
                        len: nbytes,
                    },
                    nbytes,
                ),
            );
        }
        if at != ck.src.len() {
            return Err(bad(format!(
                "{} bytes after the last storage",
                ck.src.len() - at
            )));
        }
        if let Some(k) = refs.keys().find(|k| !storages.contains_key(*k)) {
            return Err(malformed(
                &loc,
                &format!("storage '{k}'"),
                "is not in the file",
            ));
        }
        return add_tensors(ck, &m, root, &storages, false);
    }
}
