//! Case files parsed and run: every step of every case, on arbitrary text. A case yields outputs
//! (an error output for a rejected step), never a panic. Fuzzing builds cap every tensor at
//! 64 MiB, a model at 256 MiB and 10,000 modules, and a QR at 2^24 multiply-adds, so no input can
//! exhaust the fuzzer's memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = torch_rng::replay::replay_str(text);
    }
});
