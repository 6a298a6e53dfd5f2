//! The generator state importers: `set_rng_state` on the CPU (5056 bytes) and on a CUDA device
//! (16 bytes; 816 in 2.0), on arbitrary bytes. A blob is an error or a generator, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch_rng::{Context, DType, DeviceProfile, Torch};

fuzz_target!(|data: &[u8]| {
    let mut cpu = Torch::new(Context::default());
    if cpu.set_rng_state(data).is_ok() {
        let _ = cpu.rand(&[3], DType::Float64);
        assert_eq!(cpu.get_rng_state().len(), data.len());
    }
    for release in ["2.0.1", "2.15.0"] {
        let cx = Context::default()
            .on_cuda(DeviceProfile::t4(), release)
            .expect("a supported release");
        let mut cuda = Torch::new(cx);
        if cuda.set_rng_state(data).is_ok() {
            let _ = cuda.rand(&[3], DType::Float32);
        }
    }
});
