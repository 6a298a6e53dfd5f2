//! Lists a checkpoint's tensors (safetensors, npz or torch.save `.pt`) with their sha256, reading
//! one tensor at a time.
//!
//! Usage: cargo run --release --example read_checkpoint -- FILE

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: read_checkpoint FILE")?;
    let start = std::time::Instant::now();
    let mut ck = torch_rng::checkpoint::Checkpoint::open(&path)?;
    println!(
        "{path}: {} ({} tensors)",
        ck.format().name(),
        ck.tensors().len()
    );
    for (k, v) in ck.metadata() {
        println!("  metadata {k} = {v}");
    }
    for t in ck.ties() {
        println!(
            "  tie on storage {}: {:?} (same view: {})",
            t.storage, t.names, t.same_view
        );
    }
    let mut bytes = 0u64;
    for i in 0..ck.tensors().len() {
        let info = ck.tensors()[i].clone();
        let t = ck.read_tensor(i)?;
        bytes += t.bytes().len() as u64;
        println!(
            "  {} {} {:?} {}",
            info.name(),
            info.dtype(),
            info.shape(),
            t.sha256_hex()
        );
    }
    let s = start.elapsed().as_secs_f64();
    eprintln!(
        "{bytes} bytes in {s:.3} s ({:.0} MB/s)",
        bytes as f64 / s / 1e6
    );
    Ok(())
}
