//! Model descriptions parsed and built (every init pass run, the state_dict taken), on arbitrary
//! text, under the fuzzing builds' small limits (see the `replay` target), on three threads;
//! every tensor read, whole and cut, and written as one file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/read.rs"]
mod read;
use read::read_all;
use torch_rng::{Capability, Context, Torch};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(desc) = torch_rng::nn::ModelDesc::parse(text) {
            // Three threads: large fills are computed in parts and streamed on a line.
            let mut torch = Torch::new(Context::new(Capability::Avx2).with_threads(3));
            torch.manual_seed(0).expect("a small seed");
            if let Ok(sd) = desc.state_dict(&mut torch) {
                read_all(&sd);
            }
        }
    }
});
