//! Model descriptions parsed and built (every init pass run, the state_dict taken), on arbitrary
//! text, under the fuzzing builds' small limits (see the `replay` target); every tensor read,
//! whole and cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch_rng::Torch;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(desc) = torch_rng::nn::ModelDesc::parse(text) {
            if let Ok(sd) = desc.state_dict(&mut Torch::with_seed(0)) {
                read_all(&sd);
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
