//! The safetensors reader on arbitrary bytes: an index or an error, then every tensor or an
//! error; never a panic, a hang or an allocation past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch_rng::checkpoint::{fuzz_read, Format};

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_read(data, Some(Format::Safetensors));
});
