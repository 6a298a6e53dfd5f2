//! What the model-building targets share: reading every tensor of a `state_dict`.

/// Reads every tensor as `init` writes it (streamed, deferred fills computed a chunk at a time)
/// and as a shard cuts it (a cut along the last dimension of each), and checks that a
/// safetensors file of them all (the deferred fills' chunks on one line across tensors, on
/// their threads) holds each tensor's own bytes.
pub fn read_all(sd: &[(String, torch_rng::Tensor)]) {
    let index: Vec<(&str, torch_rng::DType, &[usize])> = sd
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    let items: Vec<(&str, &torch_rng::Tensor)> = sd.iter().map(|(n, t)| (n.as_str(), t)).collect();
    if let Ok(mut w) = torch_rng::checkpoint::SafetensorsWriter::new(Vec::new(), &index, &[]) {
        w.write_many(&items).expect("writing to memory");
        let file = w.finish().expect("every tensor written");
        let mut data = Vec::new();
        for (_, t) in sd {
            data.extend_from_slice(&t.to_le_bytes());
        }
        assert!(
            file.ends_with(&data),
            "the line's bytes differ from the tensors'"
        );
    }
    for (_, t) in sd {
        let _ = t.sha256_hex();
        if let Some(&last) = t.shape().last() {
            let dim = t.shape().len() - 1;
            if let Ok(part) = t.narrow(dim, last / 3, last - last / 3) {
                let _ = part.sha256_hex();
            }
        }
    }
}
