//! Recorded programs (`torch-rng-program/1`) parsed and replayed, on arbitrary text, under the
//! fuzzing builds' small limits (see the `replay` target); every tensor read, whole and cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/read.rs"]
mod read;
use read::read_all;
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
