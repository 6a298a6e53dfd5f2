//! One test per failure mode of each reader, and the writers' round trips.
#![allow(clippy::too_many_lines, clippy::type_complexity)] // tables of hostile inputs

use std::io::Cursor;

use super::zip::{Zip64, ZipWriter};
use super::*;
use crate::tensor::{Storage, Tensor};

fn open(bytes: &[u8]) -> Result<Checkpoint<Cursor<&[u8]>>> {
    Checkpoint::from_bytes(bytes, "t", &Limits::default())
}

/// The reason of a `Malformed` error (panics on anything else).
fn reason(r: Result<Checkpoint<Cursor<&[u8]>>>) -> String {
    match r {
        Err(Error::Malformed { location, reason }) => format!("{location}: {reason}"),
        Err(e) => panic!("not Malformed: {e:?}"),
        Ok(_) => panic!("accepted"),
    }
}

fn st(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

fn sd() -> Vec<(String, Tensor)> {
    vec![
        (
            "a.weight".into(),
            Tensor::new(vec![2, 2], Storage::F32(vec![1.0, -2.0, 0.5, 3.0])).unwrap(),
        ),
        (
            "n".into(),
            Tensor::new(vec![], Storage::I64(vec![7])).unwrap(),
        ),
        (
            "h".into(),
            Tensor::new(
                vec![3],
                Storage::BF16(vec![half::bf16::from_bits(0x3f80); 3]),
            )
            .unwrap(),
        ),
        (
            "e".into(),
            Tensor::new(vec![0, 4], Storage::U8(vec![])).unwrap(),
        ),
        (
            "m".into(),
            Tensor::new(vec![2], Storage::Bool(vec![true, false])).unwrap(),
        ),
    ]
}

/// The writers' announcement of `tensors`: name, dtype, shape.
fn specs_of(tensors: &[(String, Tensor)]) -> Vec<(&str, DType, &[usize])> {
    tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect()
}

// ---- safetensors ----

#[test]
fn safetensors_reads_what_it_writes() {
    let meta = vec![
        ("seed".to_string(), "1".to_string()),
        ("é".into(), "\"x\"\n".into()),
    ];
    let bytes = safetensors_bytes(&sd(), &meta).unwrap();
    let mut ck = open(&bytes).unwrap();
    assert_eq!(ck.format(), Format::Safetensors);
    assert_eq!(ck.metadata(), meta);
    let all = ck.read_all().unwrap();
    for ((n, t), (m, r)) in sd().iter().zip(&all) {
        assert_eq!(n, m);
        assert_eq!(r, &RawTensor::from_tensor(t));
        assert_eq!(&r.to_tensor().unwrap(), t);
    }
}

#[test]
fn safetensors_shape_must_match_its_byte_range() {
    // Issue 10, item 6: the reader torch-rng had before accepted this.
    let b = st(
        r#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#,
        &[0; 20],
    );
    assert!(reason(open(&b)).contains("needs 24 bytes but data_offsets [0, 20] hold 20"));
}

#[test]
fn safetensors_refusals() {
    let ok_entry = r#""w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![1, 2, 3], "unrecognised"),
        (
            (200_000_000u64)
                .to_le_bytes()
                .iter()
                .copied()
                .chain(*b"{}")
                .collect(),
            "Limits::max_header_bytes",
        ),
        (
            (1000u64)
                .to_le_bytes()
                .iter()
                .copied()
                .chain(*b"{}")
                .collect(),
            "past the end",
        ),
        (st("{\"\u{0}", &[]), "not valid JSON"),
        (
            {
                let mut b = st("{}  ", &[]);
                b[10] = 0xff;
                b
            },
            "not UTF-8",
        ),
        (st(r#"{"a":1,"a":2}"#, &[]), "duplicate key"),
        (
            st(&format!("{{{ok_entry},{ok_entry}}}"), &[0; 8]),
            "duplicate key",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}"#,
                &[0; 4],
            ),
            "unknown field",
        ),
        (
            st(r#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, &[0; 4]),
            "no dtype",
        ),
        (
            st(r#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, &[0; 4]),
            "no shape",
        ),
        (
            st(r#"{"w":{"dtype":"F32","shape":[1]}}"#, &[0; 4]),
            "no data_offsets",
        ),
        (
            st(
                r#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "unknown dtype",
        ),
        (
            st(
                r#"{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "F8_E4M3 is not supported",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "not a dimension",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "not a dimension",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "overflows",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#,
                &[0; 4],
            ),
            "ascending",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#,
                &[0; 4],
            ),
            "not [begin, end]",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            "gap",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
                &[0; 8],
            ),
            "overlap",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                &[0; 5],
            ),
            "the data but the file has 5",
        ),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                &[0; 4],
            ),
            "past the end of the data",
        ),
        (st(r#"{"__metadata__":{"a":1}}"#, &[]), "not a string"),
        (st(r#"{"__metadata__":[]}"#, &[]), "not an object"),
        (st(r#"{"w":[]}"#, &[]), "not an object"),
        (
            st(
                r#"{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "nested too deeply",
        ),
        (
            st(
                &format!(
                    r#"{{"w":{{"dtype":"U8","shape":[{}],"data_offsets":[0,1]}}}}"#,
                    vec!["1"; 65].join(",")
                ),
                &[0],
            ),
            "Limits::max_ndim",
        ),
    ];
    for (bytes, want) in cases {
        let r = reason(open(&bytes));
        assert!(r.contains(want), "{want:?} not in {r:?}");
    }
}

#[test]
fn safetensors_empty_tensors_share_an_offset() {
    let b = st(
        r#"{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"c":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}}"#,
        &[0; 4],
    );
    let ck = open(&b).unwrap();
    let names: Vec<&str> = ck.tensors().iter().map(TensorInfo::name).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn writers_refuse_bad_announcements_and_writes() {
    let t: &[(&str, DType, &[usize])] = &[("a", DType::Float32, &[2]), ("a", DType::Float32, &[2])];
    assert!(SafetensorsWriter::new(Vec::new(), t, &[]).is_err());
    assert!(NpzWriter::new(Cursor::new(Vec::new()), t).is_err());
    let reserved: &[(&str, DType, &[usize])] = &[("__metadata__", DType::Float32, &[2])];
    assert!(SafetensorsWriter::new(Vec::new(), reserved, &[]).is_err());
    let big: &[(&str, DType, &[usize])] = &[("a", DType::Float64, &[usize::MAX, 2])];
    assert!(SafetensorsWriter::new(Vec::new(), big, &[]).is_err());
    assert!(NpzWriter::new(Cursor::new(Vec::new()), big).is_err());
    let one: &[(&str, DType, &[usize])] = &[("a", DType::Float32, &[2]), ("b", DType::UInt8, &[1])];
    let mut w = SafetensorsWriter::new(Vec::new(), one, &[]).unwrap();
    assert!(w.write_tensor("b", &[0]).is_err(), "out of order");
    assert!(w.write_tensor("a", &[0; 7]).is_err(), "wrong size");
    w.write_tensor("a", &[0; 8]).unwrap();
    assert!(w.finish().is_err(), "b is missing");
    let mut w = NpzWriter::new(Cursor::new(Vec::new()), one).unwrap();
    assert!(w.write_tensor("b", &[0]).is_err());
    w.write_tensor("a", &[0; 8]).unwrap();
    w.write_tensor("b", &[0]).unwrap();
    assert!(w.write_tensor("c", &[0]).is_err());
    assert!(w.finish().is_ok());
}

/// `write` encodes a tensor a chunk at a time (no copy of it); the file is byte for byte what
/// `write_tensor` of its whole `to_le_bytes` writes, for every dtype of [`sd`] and a tensor of
/// several chunks (20,001 float64 elements), and it refuses what `write_tensor` refuses.
#[test]
fn chunked_writes_equal_whole_writes() {
    let mut tensors = sd();
    let big: Vec<f64> = (0..20_001).map(|i| f64::from(i) * 0.37 - 5.0).collect();
    tensors.push((
        "big".into(),
        Tensor::new(vec![20_001], Storage::F64(big)).unwrap(),
    ));
    let specs = specs_of(&tensors);
    let meta = [("k".to_string(), "v".to_string())];
    let mut a = SafetensorsWriter::new(Vec::new(), &specs, &meta).unwrap();
    let mut b = SafetensorsWriter::new(Vec::new(), &specs, &meta).unwrap();
    let mut c = NpzWriter::new(Cursor::new(Vec::new()), &specs).unwrap();
    let mut d = NpzWriter::new(Cursor::new(Vec::new()), &specs).unwrap();
    assert!(a.write("big", &tensors[5].1).is_err(), "out of order");
    assert!(c.write("big", &tensors[5].1).is_err(), "out of order");
    assert!(a.write("a.weight", &tensors[1].1).is_err(), "wrong size");
    assert!(c.write("a.weight", &tensors[1].1).is_err(), "wrong size");
    for (n, t) in &tensors {
        a.write(n, t).unwrap();
        b.write_tensor(n, &t.to_le_bytes()).unwrap();
        c.write(n, t).unwrap();
        d.write_tensor(n, &t.to_le_bytes()).unwrap();
    }
    // `write_many`: the same bytes, written in two calls; the same refusals.
    let items: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut e = SafetensorsWriter::new(Vec::new(), &specs, &meta).unwrap();
    let mut f = NpzWriter::new(Cursor::new(Vec::new()), &specs).unwrap();
    assert!(e.write_many(&items[1..]).is_err(), "out of order");
    assert!(f.write_many(&items[1..]).is_err(), "out of order");
    let wrong = [(items[0].0, items[1].1)];
    assert!(e.write_many(&wrong).is_err(), "wrong size");
    assert!(f.write_many(&wrong).is_err(), "wrong size");
    e.write_many(&items[..2]).unwrap();
    e.write_many(&items[2..]).unwrap();
    f.write_many(&items[..3]).unwrap();
    f.write_many(&items[3..]).unwrap();
    assert!(e.write_many(&items[..1]).is_err(), "all written");
    let (a, b) = (a.finish().unwrap(), b.finish().unwrap());
    assert_eq!(a, b);
    assert_eq!(e.finish().unwrap(), b);
    let (c, d) = (c.finish().unwrap(), d.finish().unwrap());
    assert_eq!(c, d);
    assert_eq!(f.finish().unwrap(), d);
}

/// Checks the phases `w` (a writer of [`sd`]) gives the line against where its data lands in
/// the output `finish` returns: before anything is written and after the first `k` tensors.
fn phases_match<W: TensorSink>(mut w: W, k: usize, finish: impl FnOnce(W) -> Vec<u8>) {
    let tensors = sd();
    let n = tensors.len();
    let items: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let before = w.phases(n + 2);
    write_items(&mut w, &items[..k]).unwrap();
    let after = w.phases(n - k);
    write_items(&mut w, &items[k..]).unwrap();
    let bytes = finish(w);
    let ck = open(&bytes).unwrap();
    let starts: Vec<usize> = ck
        .plans
        .iter()
        .map(|p| match p {
            Plan::Range { offset, .. } => (offset % 64) as usize,
            Plan::Npy { member, header_len } => ((member.data_offset + header_len) % 64) as usize,
            Plan::Storage { .. } => panic!("not written by a streaming writer"),
        })
        .collect();
    assert_eq!(before[..n], starts[..]);
    assert_eq!(before[n..], [0, 0], "past the tensors announced");
    assert_eq!(after, starts[k..]);
}

/// The phases the safetensors and npz writers give the line are where each tensor's data starts
/// in their output, modulo 64 (after the header; after each member's local and `.npy`
/// headers), with and without metadata, with and without zip64 sizes.
#[test]
fn writers_phases_are_where_the_data_goes() {
    let tensors = sd();
    let specs = specs_of(&tensors);
    for (k, meta) in [(2, vec![]), (1, vec![("k".to_string(), "v".to_string())])] {
        let w = SafetensorsWriter::new(Vec::new(), &specs, &meta).unwrap();
        phases_match(w, k, |w| w.finish().unwrap());
    }
    for (k, zip64) in [(1, Zip64::Auto), (3, Zip64::Always)] {
        let w = NpzWriter::with_zip64(Cursor::new(Vec::new()), &specs, zip64).unwrap();
        phases_match(w, k, |w| w.finish().unwrap());
    }
}

// ---- npz ----

fn npz_of(tensors: &[(String, Tensor)], zip64: Zip64) -> Vec<u8> {
    let specs = specs_of(tensors);
    let mut w = NpzWriter::with_zip64(Cursor::new(Vec::new()), &specs, zip64).unwrap();
    for (n, t) in tensors {
        w.write(n, t).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn npz_reads_what_it_writes_with_and_without_zip64() {
    for z in [Zip64::Auto, Zip64::Always] {
        let bytes = npz_of(&sd(), z);
        let mut ck = open(&bytes).unwrap();
        assert_eq!(ck.format(), Format::Npz);
        let all = ck.read_all().unwrap();
        for ((n, t), (m, r)) in sd().iter().zip(&all) {
            assert_eq!(n, m);
            if t.dtype() == DType::BFloat16 {
                // Stored as its uint16 bit patterns.
                assert_eq!(r.dtype(), DType::UInt16);
                let r = r.clone().reinterpret(DType::BFloat16).unwrap();
                assert_eq!(r, RawTensor::from_tensor(t));
            } else {
                assert_eq!(r, &RawTensor::from_tensor(t));
            }
        }
    }
}

#[test]
fn npz_non_ascii_names_carry_the_utf8_flag() {
    // Issue 10, item 6: the writer torch-rng had before wrote them without the flag, so they
    // read back garbled.
    let t = vec![(
        "poids_é".to_string(),
        Tensor::new(vec![1], Storage::U8(vec![1])).unwrap(),
    )];
    let bytes = npz_bytes(&t).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]) & 0x0800, 0x0800);
    let cd = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    assert_eq!(
        u16::from_le_bytes([bytes[cd + 8], bytes[cd + 9]]) & 0x0800,
        0x0800
    );
    assert_eq!(open(&bytes).unwrap().tensors()[0].name(), "poids_é");
}

#[test]
fn npz_names_that_escape_or_overflow_are_refused() {
    // Issue 10, item 6: export wrote `/tmp/evil` as an absolute member and truncated long names.
    for name in ["/tmp/evil", "../x", "a/../../x", &"n".repeat(70_000)] {
        let spec: &[(&str, DType, &[usize])] = &[(name, DType::UInt8, &[1])];
        let e = NpzWriter::new(Cursor::new(Vec::new()), spec).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    }
}

#[test]
fn npz_with_more_than_65535_members_uses_zip64() {
    let t = Tensor::new(vec![1], Storage::U8(vec![9])).unwrap();
    let names: Vec<String> = (0..70_000).map(|i| format!("t{i}")).collect();
    let specs: Vec<(&str, DType, &[usize])> = names
        .iter()
        .map(|n| (n.as_str(), DType::UInt8, t.shape()))
        .collect();
    let mut w = NpzWriter::new(Cursor::new(Vec::new()), &specs).unwrap();
    for n in &names {
        w.write(n, &t).unwrap();
    }
    let bytes = w.finish().unwrap();
    assert!(bytes.windows(4).any(|w| w == b"PK\x06\x06"));
    let mut ck = open(&bytes).unwrap();
    assert_eq!(ck.tensors().len(), 70_000);
    assert_eq!(ck.tensors()[69_999].name(), "t69999");
    assert_eq!(ck.read_tensor(69_999).unwrap().bytes(), [9]);
}

/// A one-member zip holding `content` as `name`, stored.
fn zip1(name: &str, content: &[u8]) -> Vec<u8> {
    let mut z = ZipWriter::new(Cursor::new(Vec::new()), Zip64::Auto, "t".into());
    z.start(name, content.len() as u64).unwrap();
    z.data(content).unwrap();
    z.end().unwrap();
    z.finish().unwrap().into_inner()
}

fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn npz_refusals() {
    let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (zip1("a.txt", b"x"), "is not a .npy array"),
        (zip1("a.npy", b"nonsense"), "no \\x93NUMPY magic"),
        (
            zip1("a.npy", &npy(good, &[0; 7])),
            "holds 7 bytes of array data",
        ),
        (zip1("a.npy", &npy(good, &[0; 9])), "holds 9 bytes"),
        (
            zip1(
                "a.npy",
                &npy(
                    "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                    &[0; 8],
                ),
            ),
            "Fortran",
        ),
        (
            zip1(
                "a.npy",
                &npy(
                    "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                    &[0; 16],
                ),
            ),
            "object arrays",
        ),
        (
            zip1(
                "a.npy",
                &npy(
                    "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                    &[0; 8],
                ),
            ),
            "big-endian",
        ),
        (
            zip1("a.npy", &{
                let mut b = npy(good, &[0; 8]);
                b[6] = 4;
                b
            }),
            "version 4.0",
        ),
        (
            zip1("a.npy", &{
                let mut b = b"\x93NUMPY\x02\x00".to_vec();
                b.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
                b
            }),
            "Limits::max_npy_header_bytes",
        ),
        (
            zip1("a.npy", &npy(good, &[0; 8]))[..40].to_vec(),
            "no zip end",
        ),
        (
            {
                let mut b = zip1("a.npy", &npy(good, &[0; 8]));
                b.extend_from_slice(b"trailing");
                b
            },
            "no zip end-of-central-directory record",
        ),
        (
            {
                let mut b = b"prefix".to_vec();
                b.extend_from_slice(&zip1("a.npy", &npy(good, &[0; 8])));
                b
            },
            "unrecognised",
        ),
        (
            {
                let mut b = zip1("a.npy", &npy(good, &[0; 8]));
                b[6] |= 1; // encrypted
                let cd = b.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
                b[cd + 8] |= 1;
                b
            },
            "encrypted",
        ),
        (
            {
                let mut b = zip1("a.npy", &npy(good, &[0; 8]));
                let cd = b.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
                b[cd + 10] = 12; // bzip2
                b
            },
            "compression method 12",
        ),
        (
            {
                let mut b = zip1("a.npy", &npy(good, &[0; 8]));
                let cd = b.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
                b[cd + 46] = b'b'; // the name in the directory: "b.npy"
                b
            },
            "names differ",
        ),
    ];
    for (bytes, want) in cases {
        let r = match Checkpoint::from_reader_as(
            Cursor::new(&bytes[..]),
            "t",
            &Limits::default(),
            Format::Npz,
        ) {
            Err(e) => e.to_string(),
            Ok(_) => "accepted".into(),
        };
        let r2 = reason(open(&bytes));
        assert!(
            r.contains(want) || r2.contains(want),
            "{want:?} not in {r:?} / {r2:?}"
        );
    }
}

#[test]
fn npz_crc_mismatch_is_found_when_the_tensor_is_read() {
    let mut b = npz_bytes(&sd()).unwrap();
    let at = b.windows(4).position(|w| w == [0, 0, 0x80, 0x3f]).unwrap();
    b[at + 3] = 0x40;
    let mut ck = open(&b).unwrap();
    let e = ck.read_tensor(0).unwrap_err().to_string();
    assert!(e.contains("CRC-32"), "{e}");
}

#[test]
fn npz_members_that_overlap_are_refused() {
    let good = npy(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }",
        &[5],
    );
    let mut z = ZipWriter::new(Cursor::new(Vec::new()), Zip64::Auto, "t".into());
    for n in ["a.npy", "b.npy"] {
        z.start(n, good.len() as u64).unwrap();
        z.data(&good).unwrap();
        z.end().unwrap();
    }
    let mut b = z.finish().unwrap().into_inner();
    // Point b's directory record at a's local header.
    let cds: Vec<usize> = b
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .collect();
    b[cds[1] + 42..cds[1] + 46].copy_from_slice(&0u32.to_le_bytes());
    let r = reason(open(&b));
    assert!(r.contains("names differ") || r.contains("overlap"), "{r}");
}

#[test]
fn npz_deflate_bombs_and_lies_are_refused() {
    // A deflated member whose stream inflates to more than its declared size.
    let payload = npy(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }",
        &[0; 4],
    );
    let mut more = payload.clone();
    more.extend_from_slice(&[0; 1000]);
    let deflated = miniz_oxide::deflate::compress_to_vec(&more, 6);
    let mut b = zip_deflated(
        "a.npy",
        &deflated,
        payload.len() as u64,
        zip::crc32(&payload),
    );
    let mut ck = open(&b).unwrap();
    assert!(ck
        .read_tensor(0)
        .unwrap_err()
        .to_string()
        .contains("more than"));
    // A declared size past the limits is refused before anything is inflated.
    let huge = npy(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296,), }",
        &[],
    );
    let d = miniz_oxide::deflate::compress_to_vec(&huge, 6);
    b = zip_deflated("a.npy", &d, huge.len() as u64 + (1u64 << 35), 0);
    assert!(reason(open(&b)).contains("Limits::max_tensor_bytes"));
    // A truncated stream.
    let d = miniz_oxide::deflate::compress_to_vec(&payload, 6);
    b = zip_deflated("a.npy", &d[..d.len() / 2], payload.len() as u64, 0);
    let r = match open(&b) {
        Ok(mut ck) => ck.read_tensor(0).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(r.contains("truncated") || r.contains("corrupt"), "{r}");
}

/// A one-member zip whose member is `deflated` (raw deflate), declared as `usize` bytes.
fn zip_deflated(name: &str, deflated: &[u8], usize_: u64, crc: u32) -> Vec<u8> {
    let mut b = Vec::new();
    let h = |v: &mut Vec<u8>, central: bool| {
        v.extend_from_slice(if central {
            b"PK\x01\x02"
        } else {
            b"PK\x03\x04"
        });
        if central {
            v.extend_from_slice(&45u16.to_le_bytes());
        }
        v.extend_from_slice(&45u16.to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&8u16.to_le_bytes());
        v.extend_from_slice(&[0, 0, 0x21, 0]);
        v.extend_from_slice(&crc.to_le_bytes());
        v.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
        v.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        v.extend_from_slice(&(name.len() as u16).to_le_bytes());
        v.extend_from_slice(&12u16.to_le_bytes());
        if central {
            v.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
            v.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            v.extend_from_slice(&0u32.to_le_bytes()); // offset
        }
        v.extend_from_slice(name.as_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&8u16.to_le_bytes());
        v.extend_from_slice(&usize_.to_le_bytes());
    };
    h(&mut b, false);
    b.extend_from_slice(deflated);
    let cd = b.len();
    h(&mut b, true);
    let cd_size = b.len() - cd;
    b.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    b.extend_from_slice(&(cd_size as u32).to_le_bytes());
    b.extend_from_slice(&(cd as u32).to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b
}

// ---- pt ----

fn x(s: &str) -> Vec<u8> {
    let mut b = vec![b'X'];
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
    b
}

fn ints(v: &[u8]) -> Vec<u8> {
    let mut b = vec![b'('];
    for &i in v {
        b.extend_from_slice(&[b'K', i]);
    }
    b.push(b't');
    b
}

/// The pickle `_rebuild_tensor_v2` record of a view of storage `key`.
fn tensor_pkl(
    key: &str,
    storage: &str,
    numel: u8,
    offset: u8,
    size: &[u8],
    stride: &[u8],
) -> Vec<u8> {
    let mut b = b"ctorch._utils\n_rebuild_tensor_v2\n((".to_vec();
    b.extend(x("storage"));
    b.extend_from_slice(format!("ctorch\n{storage}\n").as_bytes());
    b.extend(x(key));
    b.extend(x("cpu"));
    b.extend_from_slice(&[b'K', numel, b't', b'Q', b'K', offset]);
    b.extend(ints(size));
    b.extend(ints(stride));
    b.extend_from_slice(b"\x89ccollections\nOrderedDict\n)RtR");
    b
}

fn dict_pkl(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = b"\x80\x02}(".to_vec();
    for (k, v) in entries {
        b.extend(x(k));
        b.extend_from_slice(v);
    }
    b.extend_from_slice(b"u.");
    b
}

fn torch_zip(pkl: &[u8], storages: &[(&str, &[u8])], byteorder: Option<&str>) -> Vec<u8> {
    let mut z = ZipWriter::new(Cursor::new(Vec::new()), Zip64::Auto, "t".into());
    let mut put = |n: &str, c: &[u8]| {
        z.start(&format!("archive/{n}"), c.len() as u64).unwrap();
        z.data(c).unwrap();
        z.end().unwrap();
    };
    put("data.pkl", pkl);
    if let Some(o) = byteorder {
        put("byteorder", o.as_bytes());
    }
    for (k, d) in storages {
        put(&format!("data/{k}"), d);
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn pt_views_ties_and_byte_order() {
    let data: Vec<u8> = (0u8..24).collect(); // six float32 slots
    let pkl = dict_pkl(&[
        ("a", tensor_pkl("0", "FloatStorage", 6, 0, &[2, 3], &[3, 1])),
        ("t", tensor_pkl("0", "FloatStorage", 6, 0, &[3, 2], &[1, 3])),
        ("r", tensor_pkl("0", "FloatStorage", 6, 3, &[3], &[1])),
        ("z", tensor_pkl("0", "FloatStorage", 6, 0, &[2, 0], &[1, 1])),
    ]);
    for order in [None, Some("little"), Some("big")] {
        let b = torch_zip(&pkl, &[("0", &data)], order);
        let mut ck = open(&b).unwrap();
        assert_eq!(ck.format(), Format::TorchZip);
        assert_eq!(ck.ties().len(), 1);
        assert_eq!(ck.ties()[0].names, ["a", "t", "r", "z"]);
        assert!(!ck.ties()[0].same_view);
        assert_eq!(ck.tensors()[1].view().unwrap().stride, [1, 3]);
        let all = ck.read_all().unwrap();
        let el = |i: u8| -> Vec<u8> {
            let mut e: Vec<u8> = (4 * i..4 * i + 4).collect();
            if order == Some("big") {
                e.reverse();
            }
            e
        };
        let want_t: Vec<u8> = [0, 3, 1, 4, 2, 5].iter().flat_map(|&i| el(i)).collect();
        assert_eq!(all[1].1.bytes(), want_t);
        let want_r: Vec<u8> = [3, 4, 5].iter().flat_map(|&i| el(i)).collect();
        assert_eq!(all[2].1.bytes(), want_r);
        assert_eq!(all[3].1.shape(), [2, 0]);
    }
}

#[test]
fn pt_refusals() {
    let data = [0u8; 24];
    let t = |key: &str, numel: u8, off: u8, size: &[u8], stride: &[u8]| {
        tensor_pkl(key, "FloatStorage", numel, off, size, stride)
    };
    let cases: Vec<(Vec<u8>, Vec<(&str, &[u8])>, &str)> = vec![
        (
            dict_pkl(&[("a", t("0", 6, 4, &[3], &[1]))]),
            vec![("0", &data)],
            "reaches byte 28 of a 24-byte storage",
        ),
        (
            dict_pkl(&[("a", t("0", 6, 0, &[2, 2], &[5, 1]))]),
            vec![("0", &data)],
            "reaches byte 28",
        ),
        (
            dict_pkl(&[("a", t("1", 6, 0, &[1], &[1]))]),
            vec![("0", &data)],
            "no record archive/data/1",
        ),
        (
            dict_pkl(&[("a", t("0", 5, 0, &[1], &[1]))]),
            vec![("0", &data)],
            "holds 24 bytes but the pickle says 5",
        ),
        (
            dict_pkl(&[
                ("a", t("0", 6, 0, &[1], &[1])),
                ("a", t("0", 6, 0, &[1], &[1])),
            ]),
            vec![("0", &data)],
            "appears twice",
        ),
        (
            dict_pkl(&[(
                "a",
                tensor_pkl("0", "ComplexFloatStorage", 3, 0, &[1], &[1]),
            )]),
            vec![("0", &data)],
            "torch.ComplexFloatStorage is not supported",
        ),
        (
            dict_pkl(&[("a", b"cos\nsystem\n".to_vec())]),
            vec![],
            "global 'os.system' is not allowed",
        ),
        (
            dict_pkl(&[("a", b"cbuiltins\neval\n".to_vec())]),
            vec![],
            "global 'builtins.eval' is not allowed",
        ),
        (dict_pkl(&[("a", b"\x81".to_vec())]), vec![], "NEWOBJ"),
        (
            dict_pkl(&[("a", b"ccollections\nOrderedDict\n(K\x01tR".to_vec())]),
            vec![],
            "OrderedDict called with arguments",
        ),
        (
            dict_pkl(&[("a", b"K\x01)R".to_vec())]),
            vec![],
            "REDUCE calls an int",
        ),
        (b"\x80\x02]q\x00.".to_vec(), vec![], "a list, not a dict"),
        (b"\x80\x02}q\x00".to_vec(), vec![], "truncated pickle"),
        (b"\x80\x02}.extra".to_vec(), vec![], "bytes after STOP"),
        (b"\x80\x02h\x05.".to_vec(), vec![], "memo key 5 is unset"),
        (b"\x80\x09}.".to_vec(), vec![], "protocol 9"),
        (
            {
                // 40 nested dicts.
                let mut b = b"\x80\x02".to_vec();
                for _ in 0..40 {
                    b.extend_from_slice(b"}(");
                    b.extend(x("k"));
                }
                b.extend_from_slice(b"}");
                b.extend(std::iter::repeat_n(b'u', 40));
                b.push(b'.');
                b
            },
            vec![],
            "Limits::max_depth",
        ),
    ];
    for (pkl, storages, want) in cases {
        let b = torch_zip(&pkl, &storages, None);
        let r = reason(open(&b));
        assert!(r.contains(want), "{want:?} not in {r:?}");
    }
}

#[test]
fn pt_shared_dicts_are_walked_per_reference_within_budgets() {
    // {"a": D, "b": D} with D memoised: both a.w and b.w, as Python would see them.
    let mut d = b"}q\x01(".to_vec();
    d.extend(x("w"));
    d.extend(tensor_pkl("0", "ByteStorage", 1, 0, &[1], &[1]));
    d.push(b'u');
    let mut pkl = b"\x80\x02}(".to_vec();
    pkl.extend(x("a"));
    pkl.extend(d);
    pkl.extend(x("b"));
    pkl.extend_from_slice(b"h\x01u.");
    let b = torch_zip(&pkl, &[("0", &[7])], None);
    let ck = open(&b).unwrap();
    let names: Vec<&str> = ck.tensors().iter().map(TensorInfo::name).collect();
    assert_eq!(names, ["a.w", "b.w"]);
    assert!(ck.ties()[0].same_view);

    // A dict that references itself is a recursion the depth bound stops.
    let mut pkl = b"\x80\x02}q\x00(".to_vec();
    pkl.extend(x("self"));
    pkl.extend_from_slice(b"h\x00u.");
    assert!(reason(open(&torch_zip(&pkl, &[], None))).contains("Limits::max_depth"));

    // Fan-out: 20 levels of dicts holding the level below twice would be 2^20 names.
    let mut pkl = b"\x80\x02}q\x00".to_vec();
    pkl.extend_from_slice(b"(");
    pkl.extend(x("w"));
    pkl.extend(tensor_pkl("0", "ByteStorage", 1, 0, &[1], &[1]));
    pkl.extend_from_slice(b"u");
    for level in 1..=20u8 {
        pkl.extend_from_slice(&[b'}', b'q', level, b'(']);
        pkl.extend(x("l"));
        pkl.extend_from_slice(&[b'h', level - 1]);
        pkl.extend(x("r"));
        pkl.extend_from_slice(&[b'h', level - 1, b'u']);
    }
    pkl.push(b'.');
    let limits = Limits {
        max_tensors: 1000,
        ..Limits::default()
    };
    let b = torch_zip(&pkl, &[("0", &[7])], None);
    let r = Checkpoint::from_bytes(&b, "t", &limits)
        .unwrap_err()
        .to_string();
    assert!(
        r.contains("Limits::max_tensors") || r.contains("objects to visit"),
        "{r}"
    );
}

#[test]
fn pt_legacy_files_are_checked_to_the_last_byte() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/checkpoints");
    let b = std::fs::read(dir.join("state_dict_legacy.pt")).unwrap();
    assert_eq!(open(&b).unwrap().format(), Format::TorchLegacy);
    let mut longer = b.clone();
    longer.push(0);
    assert!(reason(open(&longer)).contains("1 bytes after the last storage"));
    let r = reason(open(&b[..b.len() - 1]));
    assert!(r.contains("lies past the end"), "{r}");
    let mut magic = b.clone();
    magic[4] ^= 1;
    assert!(reason(open(&magic)).contains("wrong magic number"));
}

#[test]
fn limits_are_enforced_before_reading() {
    let bytes = safetensors_bytes(&sd(), &[]).unwrap();
    for (l, want) in [
        (
            Limits {
                max_tensor_bytes: 15,
                ..Limits::default()
            },
            "Limits::max_tensor_bytes",
        ),
        (
            Limits {
                max_total_bytes: 20,
                ..Limits::default()
            },
            "Limits::max_total_bytes",
        ),
        (
            Limits {
                max_tensors: 2,
                ..Limits::default()
            },
            "Limits::max_tensors",
        ),
        (
            Limits {
                max_name_bytes: 3,
                ..Limits::default()
            },
            "Limits::max_name_bytes",
        ),
    ] {
        let r = Checkpoint::from_bytes(&bytes, "t", &l)
            .unwrap_err()
            .to_string();
        assert!(r.contains(want), "{r}");
    }
}

#[test]
fn raw_tensor_conversions() {
    assert!(RawTensor::new(DType::Float32, vec![2], vec![0; 7]).is_err());
    assert!(RawTensor::new(DType::Float32, vec![usize::MAX, 2], vec![]).is_err());
    let b = RawTensor::new(DType::Bool, vec![2], vec![1, 2]).unwrap();
    assert!(b.to_tensor().is_err(), "a bool byte of 2");
    assert!(b.clone().reinterpret(DType::Float16).is_err());
    assert_eq!(
        b.sha256_hex(),
        Tensor::new(vec![2], Storage::U8(vec![1, 2]))
            .unwrap()
            .sha256_hex()
    );
    let bytes = safetensors_bytes(&sd(), &[]).unwrap();
    let mut ck = open(&bytes).unwrap();
    assert!(matches!(
        ck.read_tensor(99),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn atomic_writers_leave_no_file_on_failure() {
    let dir = std::env::temp_dir().join(format!("torch-rng-ckw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    std::fs::write(&path, b"previous").unwrap();
    let specs: &[(&str, DType, &[usize])] = &[("a", DType::UInt8, &[2])];
    let w = SafetensorsWriter::create(&path, specs, &[]).unwrap();
    drop(w); // never finished
    assert_eq!(std::fs::read(&path).unwrap(), b"previous");
    let mut w = NpzWriter::create(dir.join("m.npz"), specs).unwrap();
    w.write_tensor("a", &[1, 2]).unwrap();
    w.finish().unwrap();
    let mut w = SafetensorsWriter::create(&path, specs, &[]).unwrap();
    w.write_tensor("a", &[1, 2]).unwrap();
    w.finish().unwrap();
    assert_eq!(read_path(&path).unwrap()[0].1.bytes(), [1, 2]);
    assert_eq!(read_path(dir.join("m.npz")).unwrap()[0].1.bytes(), [1, 2]);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temporary files left"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A sink that fails once `room` bytes are written, as a full disk does.
struct Full {
    data: Cursor<Vec<u8>>,
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.data.get_ref().len() + b.len() > self.room {
            return Err(std::io::Error::other("No space left on device"));
        }
        self.data.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Full {
    fn seek(&mut self, p: std::io::SeekFrom) -> std::io::Result<u64> {
        self.data.seek(p)
    }
}

impl Sink for Full {
    type Output = Vec<u8>;
    fn close(self) -> Result<Vec<u8>> {
        Ok(self.data.into_inner())
    }
}

#[test]
fn a_full_disk_is_an_io_error_at_every_point() {
    let tensors = sd();
    let specs = specs_of(&tensors);
    // `write_many` (which `write` is, for one tensor).
    let items: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let whole = npz_bytes(&sd()).unwrap().len();
    for room in 0..whole {
        let run = || -> Result<Vec<u8>> {
            let mut w = NpzWriter::new(
                Full {
                    data: Cursor::new(Vec::new()),
                    room,
                },
                &specs,
            )?;
            w.write_many(&items)?;
            w.finish()
        };
        assert!(matches!(run(), Err(Error::Io { .. })), "room {room}");
    }
    let whole = safetensors_bytes(&sd(), &[]).unwrap().len();
    for room in 0..whole {
        let run = || -> Result<Vec<u8>> {
            let mut w = SafetensorsWriter::new(
                Full {
                    data: Cursor::new(Vec::new()),
                    room,
                },
                &specs,
                &[],
            )?;
            w.write_many(&items)?;
            w.finish()
        };
        assert!(matches!(run(), Err(Error::Io { .. })), "room {room}");
    }
}

#[test]
fn a_memoised_record_reused_by_every_tensor_cannot_amplify() {
    // One `_rebuild_tensor_v2` argument tuple with 1000-dimension sizes, memoised and reduced
    // 100,000 times (5 bytes each): 2 * 10^8 words from half a megabyte, refused early.
    let mut b = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nq\x00((".to_vec();
    b.extend(x("storage"));
    b.extend_from_slice(b"ctorch\nByteStorage\n");
    b.extend(x("0"));
    b.extend(x("cpu"));
    b.extend_from_slice(b"K\x01tQK\x00(");
    b.extend(std::iter::repeat_n(*b"K\x01", 1000).flatten());
    b.extend_from_slice(b"t(");
    b.extend(std::iter::repeat_n(*b"K\x00", 1000).flatten());
    b.extend_from_slice(b"t\x89ccollections\nOrderedDict\n)Rtq\x010");
    b.extend(std::iter::repeat_n(*b"h\x00h\x01R0", 100_000).flatten());
    b.extend_from_slice(b"}.");
    let start = std::time::Instant::now();
    let e = pickle::Machine::default().run(&b, 0).unwrap_err();
    assert!(e.contains("copies more than"), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn deflated_members_larger_than_one_read_chunk_stream_through() {
    // Incompressible data: the deflate stream is longer than the 1 MiB the reader takes at a
    // time, so the inflater resumes across chunks.
    let n = 3 << 19;
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let data: Vec<u8> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect();
    let member = [npy::header(DType::UInt8, &[n]), data.clone()].concat();
    let deflated = miniz_oxide::deflate::compress_to_vec(&member, 1);
    assert!(deflated.len() > 1 << 20);
    let b = zip_deflated(
        "big.npy",
        &deflated,
        member.len() as u64,
        zip::crc32(&member),
    );
    let mut ck = open(&b).unwrap();
    assert_eq!(ck.tensors()[0].shape(), [n]);
    assert_eq!(ck.read_tensor(0).unwrap().bytes(), data);
}
