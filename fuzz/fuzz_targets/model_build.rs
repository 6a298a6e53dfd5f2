//! Model descriptions parsed and built (every init pass run, the state_dict taken), on arbitrary
//! text, under the fuzzing builds' small limits (see the `replay` target).
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch_rng::Torch;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(desc) = torch_rng::nn::ModelDesc::parse(text) {
            let _ = desc.state_dict(&mut Torch::with_seed(0));
        }
    }
});
