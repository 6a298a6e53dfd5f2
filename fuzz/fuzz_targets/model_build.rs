//! Model descriptions parsed and built (every init pass run, the state_dict taken), on arbitrary
//! text, under the fuzzing builds' small limits (see the `replay` target); every tensor read,
//! whole and cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/read.rs"]
mod read;
use read::read_all;
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
