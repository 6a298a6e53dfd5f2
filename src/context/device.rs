//! The two properties of a GPU that decide PyTorch's launch geometry, and presets.
//!
//! Mirrors: `aten/src/ATen/native/cuda/DistributionTemplates.h` (`calc_execution_policy` reads
//! `multiProcessorCount` and `maxThreadsPerMultiProcessor` of the current device) and
//! `aten/src/ATen/native/cuda/Dropout.cu` (the same two, for the fused dropout kernel).
//!
//! The grid of every grid-stride random kernel is capped at `SMs × (maxThreadsPerSM / 256)`
//! blocks of 256 threads, so for tensors larger than one such "wave" of threads the element →
//! Philox block mapping depends on the GPU. Use the numbers the process sees
//! (`torch.cuda.get_device_properties(0).multi_processor_count` and
//! `.max_threads_per_multi_processor`); a MIG slice reports its own, smaller SM count, and is a
//! [`DeviceProfile::custom`] pair.

use crate::error::{Error, Result};

/// The block size of `distribution_nullary_kernel` and the fused dropout kernel.
pub const BLOCK_SIZE: u64 = 256;

/// A GPU as the random kernels see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceProfile {
    /// The preset's device name, or `custom`.
    name: &'static str,
    sm_count: u32,
    max_threads_per_sm: u32,
}

/// Presets: (short name, device name, SM count, max threads per SM), from NVIDIA's published
/// specifications (SM counts of the full products; compute capability limits: 2048 threads per
/// SM for sm_70/80/90, 1536 for sm_86/89, 1024 for sm_75).
pub const PRESETS: &[(&str, &str, u32, u32)] = &[
    ("h100-sxm", "NVIDIA H100 80GB HBM3", 132, 2048),
    ("h200", "NVIDIA H200", 132, 2048),
    ("h100-pcie", "NVIDIA H100 PCIe", 114, 2048),
    ("a100", "NVIDIA A100", 108, 2048),
    ("l4", "NVIDIA L4", 58, 1536),
    ("rtx4090", "NVIDIA GeForce RTX 4090", 128, 1536),
    ("t4", "Tesla T4", 40, 1024),
    ("v100", "Tesla V100", 80, 2048),
    ("a10g", "NVIDIA A10G", 80, 1536),
];

impl DeviceProfile {
    /// A profile from a preset's short name (case-insensitive; `h100` is `h100-sxm`, `4090` and
    /// `rtx-4090` are `rtx4090`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown name (the message lists the presets).
    pub fn preset(name: &str) -> Result<DeviceProfile> {
        // The device name a process reports (`NVIDIA H200`, what `gen_golden_cuda.py` records)
        // names its preset too.
        if let Some(&(_, n, sm, t)) = PRESETS.iter().find(|p| p.1.eq_ignore_ascii_case(name)) {
            return Ok(DeviceProfile {
                name: n,
                sm_count: sm,
                max_threads_per_sm: t,
            });
        }
        let key = name.to_ascii_lowercase().replace('_', "-");
        let key = match key.as_str() {
            "h100" | "h100sxm" => "h100-sxm",
            "h100pcie" => "h100-pcie",
            "4090" | "rtx-4090" => "rtx4090",
            k => k,
        };
        PRESETS
            .iter()
            .find(|p| p.0 == key)
            .map(|&(_, n, sm, t)| DeviceProfile {
                name: n,
                sm_count: sm,
                max_threads_per_sm: t,
            })
            .ok_or_else(|| {
                let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
                Error::unsupported(format!(
                    "GPU '{name}' (presets: {}; or give the SM count and max threads per SM)",
                    names.join(", ")
                ))
            })
    }

    /// A profile from the command line's `--gpu` text: a preset's short or device name
    /// ([`DeviceProfile::preset`]), or `SMS,THREADS` / `SMS:THREADS` (the SM count and max
    /// threads per SM, a MIG slice or any other GPU: `16,2048`).
    ///
    /// ```
    /// use torch_rng::DeviceProfile;
    /// assert_eq!(DeviceProfile::parse("H100")?, DeviceProfile::h100_sxm());
    /// let mig = DeviceProfile::parse("16:2048")?;
    /// assert_eq!((mig.sm_count(), mig.max_threads_per_sm()), (16, 2048));
    /// # Ok::<(), torch_rng::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown preset; [`Error::InvalidArgument`] for a pair that
    /// does not parse or that [`DeviceProfile::custom`] refuses.
    pub fn parse(text: &str) -> Result<DeviceProfile> {
        let Some((sms, threads)) = text.split_once([':', ',']) else {
            return DeviceProfile::preset(text.trim());
        };
        let num = |s: &str, what: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                Error::arg(
                    "DeviceProfile",
                    format!("'{text}': the {what} '{s}' is not a non-negative integer (expected SMS:THREADS, e.g. 16:2048)"),
                )
            })
        };
        DeviceProfile::custom(num(sms, "SM count")?, num(threads, "max threads per SM")?)
    }

    /// The profile with another SM count (a MIG slice of this GPU keeps its threads per SM).
    ///
    /// # Errors
    /// As [`DeviceProfile::custom`].
    pub fn with_sm_count(self, sm_count: u32) -> Result<DeviceProfile> {
        DeviceProfile::custom(sm_count, self.max_threads_per_sm)
    }

    /// The profile with another max threads per SM.
    ///
    /// # Errors
    /// As [`DeviceProfile::custom`].
    pub fn with_max_threads_per_sm(self, max_threads_per_sm: u32) -> Result<DeviceProfile> {
        DeviceProfile::custom(self.sm_count, max_threads_per_sm)
    }

    /// NVIDIA H100 SXM (132 SMs, 2048 threads per SM).
    #[must_use]
    pub fn h100_sxm() -> DeviceProfile {
        Self::from_preset(0)
    }

    /// NVIDIA H200 (132 SMs, 2048 threads per SM): the same geometry as the H100 SXM.
    #[must_use]
    pub fn h200() -> DeviceProfile {
        Self::from_preset(1)
    }

    /// NVIDIA A100 (108 SMs, 2048 threads per SM).
    #[must_use]
    pub fn a100() -> DeviceProfile {
        Self::from_preset(3)
    }

    /// NVIDIA L4 (58 SMs, 1536 threads per SM).
    #[must_use]
    pub fn l4() -> DeviceProfile {
        Self::from_preset(4)
    }

    /// NVIDIA GeForce RTX 4090 (128 SMs, 1536 threads per SM).
    #[must_use]
    pub fn rtx_4090() -> DeviceProfile {
        Self::from_preset(5)
    }

    /// NVIDIA T4 (40 SMs, 1024 threads per SM).
    #[must_use]
    pub fn t4() -> DeviceProfile {
        Self::from_preset(6)
    }

    fn from_preset(i: usize) -> DeviceProfile {
        let (_, n, sm, t) = PRESETS[i];
        DeviceProfile {
            name: n,
            sm_count: sm,
            max_threads_per_sm: t,
        }
    }

    /// Any other GPU or a MIG slice: its SM count and max threads per SM.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no SMs, or fewer than 256 threads per SM (PyTorch's grid
    /// would be empty and its offset computation would divide by zero).
    pub fn custom(sm_count: u32, max_threads_per_sm: u32) -> Result<DeviceProfile> {
        if sm_count == 0 {
            return Err(Error::arg("DeviceProfile", "the SM count must be positive"));
        }
        if u64::from(max_threads_per_sm) < BLOCK_SIZE {
            return Err(Error::arg(
                "DeviceProfile",
                format!(
                    "max threads per SM must be at least {BLOCK_SIZE}, got {max_threads_per_sm}"
                ),
            ));
        }
        Ok(DeviceProfile {
            name: "custom",
            sm_count,
            max_threads_per_sm,
        })
    }

    /// The device name (`custom` for [`DeviceProfile::custom`]).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `multiProcessorCount`.
    #[must_use]
    pub fn sm_count(&self) -> u32 {
        self.sm_count
    }

    /// `maxThreadsPerMultiProcessor`.
    #[must_use]
    pub fn max_threads_per_sm(&self) -> u32 {
        self.max_threads_per_sm
    }

    /// The grid cap `SMs × (maxThreadsPerSM / 256)` in blocks of 256.
    #[must_use]
    pub fn max_grid(&self) -> u64 {
        u64::from(self.sm_count) * (u64::from(self.max_threads_per_sm) / BLOCK_SIZE)
    }

    /// `T`, the most threads one grid-stride launch runs: `256 × max_grid`.
    #[must_use]
    pub fn max_threads(&self) -> u64 {
        BLOCK_SIZE * self.max_grid()
    }

    /// The grid for `numel` elements: `min(ceil(numel / 256), max_grid)` (at least 1 for a
    /// non-empty launch).
    #[must_use]
    pub fn grid_for(&self, numel: u64) -> u64 {
        numel.div_ceil(BLOCK_SIZE).min(self.max_grid())
    }
}

/// The device a model description, a recorded program or a command line asks for: the CPU, or a
/// CUDA device with its [`DeviceProfile`] (or, in a file that leaves the GPU to the command line,
/// still without one).
///
/// In a file it is the top-level fields `device` (`"cpu"`, the default, or `"cuda"`) with, for
/// CUDA, `sm_count` and `max_threads_per_sm`, or `gpu` naming a preset whose numbers those two
/// may override (a MIG slice); with both numbers given, `gpu` is only a label (the device name
/// a recording reports). Case files use the same fields ([`crate::replay`]).
///
/// ```
/// use torch_rng::{DeviceProfile, DeviceSpec};
/// let spec = DeviceSpec::from_fields(Some("cuda"), Some("a100"), Some(14), None)?;
/// assert_eq!(spec, DeviceSpec::Cuda(Some(DeviceProfile::custom(14, 2048)?)));
/// assert_eq!(DeviceSpec::from_fields(None, None, None, None)?, DeviceSpec::Cpu);
/// # Ok::<(), torch_rng::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DeviceSpec {
    /// The CPU.
    #[default]
    Cpu,
    /// A CUDA device: its profile, or `None` where the file leaves it to the command line.
    Cuda(Option<DeviceProfile>),
}

impl DeviceSpec {
    /// The spec of the fields `device`, `gpu`, `sm_count` and `max_threads_per_sm` (each absent
    /// as `None`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a device other than `cpu`/`cuda`, GPU fields on the CPU, a
    /// lone number without a preset, an unknown preset without both numbers, or numbers that
    /// [`DeviceProfile::custom`] refuses.
    pub fn from_fields(
        device: Option<&str>,
        gpu: Option<&str>,
        sm_count: Option<u32>,
        max_threads_per_sm: Option<u32>,
    ) -> Result<DeviceSpec> {
        let bad = |reason: String| Error::arg("device", reason);
        match device.unwrap_or("cpu") {
            "cpu" => {
                let given = [
                    ("gpu", gpu.is_some()),
                    ("sm_count", sm_count.is_some()),
                    ("max_threads_per_sm", max_threads_per_sm.is_some()),
                ];
                match given.iter().find(|(_, g)| *g) {
                    Some((k, _)) => Err(bad(format!(
                        "'{k}' describes a CUDA device: only with \"device\": \"cuda\""
                    ))),
                    None => Ok(DeviceSpec::Cpu),
                }
            }
            "cuda" => {
                let preset = gpu.and_then(|g| DeviceProfile::preset(g).ok());
                let profile = match (preset, sm_count, max_threads_per_sm) {
                    (_, Some(sm), Some(t)) => DeviceProfile::custom(sm, t)?,
                    (Some(p), Some(sm), None) => p.with_sm_count(sm)?,
                    (Some(p), None, Some(t)) => p.with_max_threads_per_sm(t)?,
                    (Some(p), None, None) => p,
                    (None, None, None) if gpu.is_none() => return Ok(DeviceSpec::Cuda(None)),
                    (None, ..) => {
                        return Err(bad(format!(
                            "a CUDA device needs \"sm_count\" and \"max_threads_per_sm\", or \
                             \"gpu\" naming a preset{} (presets: {})",
                            gpu.map(|g| format!(" ('{g}' is none)")).unwrap_or_default(),
                            PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                        )))
                    }
                };
                Ok(DeviceSpec::Cuda(Some(profile)))
            }
            other => Err(bad(format!(
                "device '{other}' is not supported (torch-rng reproduces \"cpu\" and \"cuda\")"
            ))),
        }
    }

    /// `cx` on this device under the CUDA rules of `release` (unchanged on the CPU).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for CUDA without a profile (give one: `--gpu` on the command
    /// line); as [`Context::on_cuda`](super::Context::on_cuda) for the release.
    pub fn context(self, cx: super::Context, release: &str) -> Result<super::Context> {
        match self {
            DeviceSpec::Cpu => Ok(super::Context {
                device: Device::Cpu,
                ..cx
            }),
            DeviceSpec::Cuda(Some(p)) => cx.on_cuda(p, release),
            DeviceSpec::Cuda(None) => Err(Error::arg(
                "device",
                "CUDA without a GPU profile: the launch geometry depends on the GPU's SM count \
                 (give --gpu PRESET or --gpu SMS,THREADS)",
            )),
        }
    }

    /// The spec of a context's device.
    #[must_use]
    pub fn of(device: Device) -> DeviceSpec {
        match device {
            Device::Cpu => DeviceSpec::Cpu,
            Device::Cuda(d) => DeviceSpec::Cuda(Some(d.profile)),
        }
    }

    /// The top-level fields that write this spec back (`device`, `sm_count`,
    /// `max_threads_per_sm`, and `gpu` for a preset): empty for the CPU.
    #[must_use]
    pub fn fields(self) -> Vec<(&'static str, String)> {
        match self {
            DeviceSpec::Cpu => Vec::new(),
            DeviceSpec::Cuda(p) => {
                let mut v = vec![("device", "cuda".to_string())];
                if let Some(p) = p {
                    if p.name() != "custom" {
                        v.push(("gpu", p.name().to_string()));
                    }
                    v.push(("sm_count", p.sm_count().to_string()));
                    v.push(("max_threads_per_sm", p.max_threads_per_sm().to_string()));
                }
                v
            }
        }
    }
}

/// Where tensors live, and so which generator and kernels draw them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// The CPU: PyTorch's MT19937 generator and its CPU kernels (in the context's kernel
    /// variant).
    #[default]
    Cpu,
    /// A CUDA device: its Philox generator, and the CUDA kernels with the launch geometry of
    /// this GPU and the CUDA behaviour of this release.
    Cuda(CudaDevice),
}

/// A CUDA device as the random kernels see it: its geometry and the release's CUDA rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CudaDevice {
    /// The GPU's SM count and threads per SM.
    pub profile: DeviceProfile,
    /// The release's CUDA era (its own boundaries: the offset rule changes at 2.4).
    pub era: super::CudaEra,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cuda-philox.md section 4, the table of grid caps.
    #[test]
    fn grid_caps() {
        let cases = [
            (DeviceProfile::h100_sxm(), 1056, 270_336),
            (DeviceProfile::h200(), 1056, 270_336),
            (DeviceProfile::preset("h100-pcie").unwrap(), 912, 233_472),
            (DeviceProfile::a100(), 864, 221_184),
            (DeviceProfile::rtx_4090(), 768, 196_608),
            (DeviceProfile::l4(), 348, 89_088),
            (DeviceProfile::t4(), 160, 40_960),
        ];
        for (p, grid, t) in cases {
            assert_eq!((p.max_grid(), p.max_threads()), (grid, t), "{}", p.name());
        }
    }

    #[test]
    fn presets_and_custom() {
        assert_eq!(
            DeviceProfile::preset("H100").unwrap(),
            DeviceProfile::h100_sxm()
        );
        assert_eq!(DeviceProfile::preset("RTX_4090").unwrap().sm_count(), 128);
        assert!(DeviceProfile::preset("gtx480").is_err());
        let mig = DeviceProfile::custom(16, 2048).unwrap();
        assert_eq!(mig.max_threads(), 32_768);
        assert!(DeviceProfile::custom(0, 2048).is_err());
        assert!(DeviceProfile::custom(10, 255).is_err());
        assert_eq!(DeviceProfile::custom(1, 300).unwrap().max_grid(), 1);
    }

    #[test]
    fn parse_profiles() {
        assert_eq!(DeviceProfile::parse("h200").unwrap(), DeviceProfile::h200());
        assert_eq!(
            DeviceProfile::parse("NVIDIA H100 80GB HBM3").unwrap(),
            DeviceProfile::h100_sxm()
        );
        assert_eq!(
            DeviceProfile::parse("16,2048").unwrap(),
            DeviceProfile::custom(16, 2048).unwrap()
        );
        let p = DeviceProfile::parse(" 16 : 2048 ").unwrap();
        assert_eq!(
            (p.sm_count(), p.max_threads_per_sm(), p.name()),
            (16, 2048, "custom")
        );
        assert!(DeviceProfile::parse("16:").is_err());
        assert!(DeviceProfile::parse("x:2048").is_err());
        assert!(DeviceProfile::parse("0:2048").is_err());
        assert!(DeviceProfile::parse("16:128").is_err());
        assert!(DeviceProfile::parse("gtx480").is_err());
        let mig = DeviceProfile::a100().with_sm_count(14).unwrap();
        assert_eq!((mig.sm_count(), mig.max_threads_per_sm()), (14, 2048));
        assert_eq!(
            DeviceProfile::t4()
                .with_max_threads_per_sm(2048)
                .unwrap()
                .max_grid(),
            320
        );
    }

    #[test]
    fn grid_for_sizes() {
        let p = DeviceProfile::h200();
        assert_eq!(p.grid_for(1), 1);
        assert_eq!(p.grid_for(256), 1);
        assert_eq!(p.grid_for(257), 2);
        assert_eq!(p.grid_for(10_u64.pow(9)), 1056);
    }
}
