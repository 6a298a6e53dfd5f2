//! What the model-building targets share: reading every tensor of a `state_dict`.

/// Writes every tensor into one safetensors file in memory as `init` does (the deferred fills'
/// chunks on one line across tensors, on their threads), reads each tensor streamed (deferred
/// fills computed a chunk at a time) and checks it against its bytes in the file, and reads a
/// cut of each as a shard does (along the last dimension).
pub fn read_all(sd: &[(String, torch_rng::Tensor)]) {
    let index: Vec<(&str, torch_rng::DType, &[usize])> = sd
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    let items: Vec<(&str, &torch_rng::Tensor)> = sd.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let file = torch_rng::checkpoint::SafetensorsWriter::new(Vec::new(), &index, &[])
        .ok()
        .map(|mut w| {
            w.write_many(&items).expect("writing to memory");
            w.finish().expect("every tensor written")
        });
    let data: usize = sd.iter().map(|(_, t)| t.numel() * t.dtype().size()).sum();
    let mut at = file.as_ref().map_or(0, |f| f.len() - data);
    for (_, t) in sd {
        t.for_each_le_chunk(|b| {
            if let Some(f) = &file {
                assert!(f[at..at + b.len()] == *b, "the line's bytes differ at {at}");
                at += b.len();
            }
        });
        if let Some(&last) = t.shape().last() {
            let dim = t.shape().len() - 1;
            if let Ok(part) = t.narrow(dim, last / 3, last - last / 3) {
                let _ = part.sha256_hex();
            }
        }
    }
}
