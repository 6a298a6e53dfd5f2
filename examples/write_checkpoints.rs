//! Writes checkpoints with torch-rng's own writers (`checkpoint::SafetensorsWriter`,
//! `checkpoint::NpzWriter`) for tools/check_checkpoint_writers.py, which loads them with the real
//! libraries (safetensors.torch, numpy) and compares with manifest.json written here.
//!
//! Usage: cargo run --release --example write_checkpoints -- OUTDIR

use std::fmt::Write as _;

use torch_rng::checkpoint::{NpzWriter, RawTensor, SafetensorsWriter, Zip64};
use torch_rng::DType;

fn tensors() -> Vec<(String, RawTensor)> {
    let mut out = Vec::new();
    let mut k = 0u8;
    for d in DType::ALL {
        for shape in [vec![2, 3], vec![], vec![0, 4]] {
            let n: usize = shape.iter().product();
            let data: Vec<u8> = (0..n * d.size())
                .map(|_| {
                    k = k.wrapping_mul(31).wrapping_add(7);
                    // Bool bytes must be 0 or 1.
                    if d == DType::Bool {
                        k & 1
                    } else {
                        k
                    }
                })
                .collect();
            let name = format!(
                "{}.{}",
                d.name(),
                shape
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("x")
            );
            out.push((name, RawTensor::new(d, shape, data).unwrap()));
        }
    }
    let one = |name: &str| {
        (
            name.to_string(),
            RawTensor::new(DType::UInt8, vec![1], vec![42]).unwrap(),
        )
    };
    out.push(one("poids_é.ünï"));
    out.push(one("layers/0/weight"));
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: OUTDIR")?);
    std::fs::create_dir_all(&dir)?;
    let ts = tensors();
    let specs: Vec<(&str, DType, &[usize])> = ts
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    let meta = vec![
        ("seed".to_string(), "1".to_string()),
        ("note".to_string(), "é \"q\" \\ \n".to_string()),
    ];
    let mut w = SafetensorsWriter::create(dir.join("ours.safetensors"), &specs, &meta)?;
    for (n, t) in &ts {
        w.write_tensor(n, t.bytes())?;
    }
    w.finish()?;
    for (file, z) in [("ours.npz", Zip64::Auto), ("ours_zip64.npz", Zip64::Always)] {
        let f = torch_rng::checkpoint::AtomicFile::create(dir.join(file))?;
        let mut w = NpzWriter::with_zip64(f, &specs, z)?;
        for (n, t) in &ts {
            w.write_tensor(n, t.bytes())?;
        }
        w.finish()?;
    }
    // More members than a plain zip's 16-bit count: zip64 end records.
    let names: Vec<String> = (0..70_000).map(|i| format!("m{i}")).collect();
    let many: Vec<(&str, DType, &[usize])> = names
        .iter()
        .map(|n| (n.as_str(), DType::UInt8, &[1][..]))
        .collect();
    let mut w = NpzWriter::create(dir.join("ours_many.npz"), &many)?;
    for (i, n) in names.iter().enumerate() {
        w.write_tensor(n, &[(i % 251) as u8])?;
    }
    w.finish()?;

    let mut m = String::from("{\"tensors\": [\n");
    for (i, (n, t)) in ts.iter().enumerate() {
        let name: String = n
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let shape: Vec<String> = t.shape().iter().map(ToString::to_string).collect();
        let _ = write!(
            m,
            "{}  {{\"name\": \"{name}\", \"dtype\": \"{}\", \"shape\": [{}], \"sha256\": \"{}\"}}",
            if i > 0 { ",\n" } else { "" },
            t.dtype().name(),
            shape.join(", "),
            t.sha256_hex()
        );
    }
    m.push_str("\n], \"metadata\": {\"seed\": \"1\", \"note\": \"\\u00e9 \\\"q\\\" \\\\ \\n\"}}\n");
    std::fs::write(dir.join("manifest.json"), m)?;
    println!("wrote {}", dir.display());
    Ok(())
}
