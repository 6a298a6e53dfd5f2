//! Recorded programs (`torch-rng-program/1`) parsed and replayed, on arbitrary text, under the
//! fuzzing builds' small limits (see the `replay` target); every tensor read, whole and cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch_rng::nn::Program;
use torch_rng::{Capability, Torch};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(program) = Program::parse(text) {
            if let Ok(cx) = program.context(Capability::Avx2) {
                let mut torch = Torch::new(cx);
                if let Ok(sd) = program.state_dict(&mut torch) {
                    read_all(&sd);
                }
            }
        }
    }
});

/// Reads every tensor as `init` writes it (streamed, deferred fills computed a chunk at a time)
/// and as a shard cuts it (a cut along the last dimension of each).
fn read_all(sd: &[(String, torch_rng::Tensor)]) {
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
