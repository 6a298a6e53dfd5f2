//! Strict parsing of case files into typed steps.

use serde_json::Value;

use super::case_error;
use super::fields::Fields;
use super::ops::{Devices, Draws, StepOp, Which};
use super::output::Tolerance;
use crate::context::{Capability, Context, Device, DeviceSpec, Era, LATEST_RELEASE};
use crate::error::Result;

/// One parsed case.
#[derive(Debug)]
pub struct Case {
    /// Unique name.
    pub name: String,
    /// Kernel variant (`avx2` when absent).
    pub capability: Capability,
    /// The release named by the case (the latest when absent).
    pub torch_version: String,
    /// The era of that release.
    pub era: Era,
    /// Where the case's tensors live: the CPU, or a CUDA device (`"device": "cuda"` with its
    /// geometry and the CUDA era of the release).
    pub device: Device,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step: an op and the generator it uses (`None`: the default generator).
#[derive(Debug)]
pub struct Step {
    /// The call.
    pub op: Box<dyn StepOp>,
    /// Name of a private `torch.Generator()`, if the step names one.
    pub generator: Option<String>,
    /// The step's `tolerance`, if its output is compared within a bound instead of by sha256.
    pub tolerance: Option<Tolerance>,
    /// For an op whose output is a `state_dict`: the entries the `tolerance` applies to.
    pub bounded: Vec<String>,
}

/// The first dtype named anywhere in a step (its `dtype`, a tensor literal's, a model's) that
/// `release` does not have: `uint16`, `uint32` and `uint64` appeared in PyTorch 2.3.
fn absent_dtype(step: &Value, release: &str) -> Option<&'static str> {
    let minor = release
        .split('+')
        .next()
        .and_then(|r| r.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok())?;
    if minor >= 3 {
        return None;
    }
    match step {
        Value::Object(m) => {
            if let Some(Value::String(d)) = m.get("dtype") {
                if let Some(&n) = ["uint16", "uint32", "uint64"].iter().find(|&&n| n == d) {
                    return Some(n);
                }
            }
            m.values().find_map(|v| absent_dtype(v, release))
        }
        Value::Array(items) => items.iter().find_map(|v| absent_dtype(v, release)),
        _ => None,
    }
}

/// A step naming a dtype its release lacks: `torch.uint16` raises there, so the step is
/// rejected when it runs (the case file itself is fine).
#[derive(Debug)]
struct AbsentDtype {
    inner: Box<dyn StepOp>,
    dtype: &'static str,
    release: String,
}

impl StepOp for AbsentDtype {
    fn run(&self, _ctx: &mut super::StepContext<'_>) -> Result<super::Output> {
        Err(crate::error::Error::unsupported(format!(
            "dtype {} in torch {} (it exists from 2.3)",
            self.dtype, self.release
        )))
    }
    fn draws(&self) -> Draws {
        self.inner.draws()
    }
    fn references(&self) -> Vec<usize> {
        self.inner.references()
    }
    fn takes_generator(&self) -> bool {
        self.inner.takes_generator()
    }
    fn which(&self) -> Which {
        self.inner.which()
    }
    fn devices(&self) -> Devices {
        self.inner.devices()
    }
}

fn parse_step(value: Value, at: &str, cuda: bool) -> Result<Step> {
    let Value::Object(map) = value else {
        return Err(case_error(at, "a step must be a JSON object"));
    };
    let mut f = Fields { map, at, cuda };
    let op_name = match f.take("op") {
        Some(Value::String(s)) => s,
        Some(v) => return Err(f.err(format!("'op' must be a string, found {v}"))),
        None => return Err(f.err("missing field 'op'")),
    };
    let generator = match f.take("generator") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => return Err(f.err(format!("'generator' must be a string, found {v}"))),
    };
    let tolerance = match f.take("tolerance") {
        None | Some(Value::Null) => None,
        Some(v) => Some(Tolerance::from_json(&v).map_err(|reason| f.err(reason))?),
    };
    let bounded = match f.take("bounded") {
        None => Vec::new(),
        Some(Value::Array(a)) if !a.is_empty() => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) if !s.is_empty() => Ok(s),
                other => Err(f.err(format!(
                    "'bounded' must be a list of state_dict entry names, found {other}"
                ))),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => {
            return Err(f.err(format!(
                "'bounded' must be a non-empty list of state_dict entry names, found {v}"
            )))
        }
    };
    if !bounded.is_empty() && tolerance.is_none() {
        return Err(f.err("'bounded' needs a 'tolerance'"));
    }
    let op = super::ops::parse(&op_name, &mut f)?;
    if generator.is_some() && !op.takes_generator() {
        return Err(f.err(format!("op '{op_name}' takes no generator")));
    }
    match (op.devices(), cuda) {
        (Devices::CpuOnly, true) => {
            return Err(f.err(format!(
                "op '{op_name}' is not emulated on a CUDA device (torch-rng has it on the CPU only)"
            )))
        }
        (Devices::CudaOnly, false) => {
            return Err(f.err(format!(
                "op '{op_name}' needs a CUDA case (\"device\": \"cuda\")"
            )))
        }
        _ => {}
    }
    f.finish()?;
    Ok(Step {
        op,
        generator,
        tolerance,
        bounded,
    })
}

fn parse_case(value: Value, index: usize) -> Result<Case> {
    let at = format!("case #{index}");
    let Value::Object(map) = value else {
        return Err(case_error(at, "a case must be a JSON object"));
    };
    let mut f = Fields {
        map,
        at: &at,
        cuda: false,
    };
    let name = match f.take("name") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(v) => return Err(f.err(format!("'name' must be a non-empty string, found {v}"))),
        None => return Err(f.err("missing field 'name'")),
    };
    let at = format!("case '{name}'");
    f.at = &at;
    let capability = match f.take("capability") {
        None | Some(Value::Null) => Capability::Avx2,
        Some(Value::String(s)) => Capability::parse(&s).map_err(|e| f.err(e.to_string()))?,
        Some(v) => return Err(f.err(format!("'capability' must be a string, found {v}"))),
    };
    let torch_version = f.opt_str("torch_version", LATEST_RELEASE)?;
    let era = Era::of_release(&torch_version).map_err(|e| f.err(e.to_string()))?;
    let device = case_device(&mut f, &torch_version)?;
    let cuda = matches!(device, Device::Cuda(_));
    let steps = match f.take("steps") {
        Some(Value::Array(s)) => s,
        Some(v) => return Err(f.err(format!("'steps' must be a list, found {v}"))),
        None => return Err(f.err("missing field 'steps'")),
    };
    f.finish()?;
    let mut parsed = Vec::with_capacity(steps.len());
    // Whether the default CPU generator and the device's default CUDA generator were seeded.
    let (mut cpu_seeded, mut cuda_seeded) = (false, false);
    for (i, s) in steps.into_iter().enumerate() {
        let step_at = format!("case '{name}', step {i}");
        let absent = absent_dtype(&s, &torch_version);
        let mut step = parse_step(s, &step_at, cuda)?;
        if let Some(dtype) = absent {
            step.op = Box::new(AbsentDtype {
                inner: step.op,
                dtype,
                release: torch_version.clone(),
            });
        }
        if let Some(r) = step.op.references().into_iter().find(|&r| r >= i) {
            return Err(case_error(
                step_at,
                format!("refers to step {r}, which is not an earlier step of this case"),
            ));
        }
        // The default generators a step without `generator` addresses: (CPU, CUDA).
        let which = match (step.op.which(), cuda) {
            (Which::All, true) => (true, true),
            (Which::Cuda, _) | (Which::Device, true) => (false, true),
            _ => (true, false),
        };
        let named = step.generator.is_some();
        let (needs_cpu, needs_cuda) = match step.op.draws() {
            Draws::Nothing | Draws::Seeds => (false, false),
            Draws::StepGenerator if named => (false, false),
            Draws::StepGenerator => which,
            // sparse_: the step's generator, and the default CPU generator in any case.
            Draws::StepAndDefault if named => (true, false),
            Draws::StepAndDefault => (true, which.1),
        };
        let unseeded = if needs_cuda && !cuda_seeded {
            Some("the CUDA device's default generator")
        } else if needs_cpu && !cpu_seeded {
            Some("the default generator")
        } else {
            None
        };
        if let Some(which_gen) = unseeded {
            return Err(case_error(
                step_at,
                format!(
                    "uses {which_gen} before manual_seed or set_rng_state: PyTorch seeds it \
                     from the operating system, so the result is not reproducible"
                ),
            ));
        }
        if !named && step.op.draws() == Draws::Seeds {
            cpu_seeded |= which.0;
            cuda_seeded |= which.1;
        }
        parsed.push(step);
    }
    Ok(Case {
        name,
        capability,
        torch_version,
        era,
        device,
        steps: parsed,
    })
}

/// A case's `device` and the fields that describe a CUDA device (golden/README.md): `"cuda"`
/// with `sm_count` and `max_threads_per_sm`, or `gpu` naming a preset (`"h100"`, `"NVIDIA
/// H200"`), whose numbers `sm_count` / `max_threads_per_sm` may override (a MIG slice). With
/// both numbers given, `gpu` is only a label (what `tools/gen_golden_cuda.py` records).
fn case_device(f: &mut Fields<'_>, release: &str) -> Result<Device> {
    let device = match f.take("device") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => return Err(f.err(format!("'device' must be a string, found {v}"))),
    };
    let mut int = |key: &str| -> Result<Option<u32>> {
        match f.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let n = f.int_of(key, &v)?;
                u32::try_from(n)
                    .map(Some)
                    .map_err(|_| f.err(format!("'{key}' = {n} is out of range")))
            }
        }
    };
    let sm_count = int("sm_count")?;
    let max_threads = int("max_threads_per_sm")?;
    let gpu = match f.take("gpu") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => return Err(f.err(format!("'gpu' must be a string, found {v}"))),
    };
    let spec = DeviceSpec::from_fields(device.as_deref(), gpu.as_deref(), sm_count, max_threads)
        .map_err(|e| f.err(e.to_string()))?;
    if spec == DeviceSpec::Cuda(None) {
        return Err(f.err(
            "a CUDA case (\"device\": \"cuda\") needs \"sm_count\" and \"max_threads_per_sm\", \
             or \"gpu\" naming a preset",
        ));
    }
    let cx = spec
        .context(Context::default(), release)
        .map_err(|e| f.err(e.to_string()))?;
    Ok(cx.device)
}

/// Parses a `torch-rng-cases/1` document.
///
/// # Errors
/// [`crate::Error::CaseFile`] naming the case and step at fault.
pub fn parse_case_file(text: &str) -> Result<Vec<Case>> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| case_error("case file", format!("not valid JSON: {e}")))?;
    let Value::Object(map) = doc else {
        return Err(case_error(
            "case file",
            "the document must be a JSON object",
        ));
    };
    let mut f = Fields {
        map,
        at: "case file",
        cuda: false,
    };
    match f.take("format") {
        Some(Value::String(s)) if s == "torch-rng-cases/1" => {}
        Some(v) => return Err(f.err(format!("format must be \"torch-rng-cases/1\", found {v}"))),
        None => return Err(f.err("missing field 'format'")),
    }
    let cases = match f.take("cases") {
        Some(Value::Array(c)) => c,
        Some(v) => return Err(f.err(format!("'cases' must be a list, found {v}"))),
        None => return Err(f.err("missing field 'cases'")),
    };
    f.finish()?;
    let mut out: Vec<Case> = Vec::with_capacity(cases.len());
    let mut names = std::collections::HashSet::new();
    for (i, c) in cases.into_iter().enumerate() {
        let case = parse_case(c, i)?;
        if !names.insert(case.name.clone()) {
            return Err(case_error(
                format!("case '{}'", case.name),
                "duplicate case name",
            ));
        }
        out.push(case);
    }
    Ok(out)
}
