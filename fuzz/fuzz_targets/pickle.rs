//! The `.pt` pickle machine alone, on arbitrary bytes (pickles back to back).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    torch_rng::checkpoint::fuzz_pickle(data);
});
