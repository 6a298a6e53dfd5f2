//! `torch-rng explain`: what an init call, a module or a model derives, draws and stores; and the
//! README's generated blocks (`--readme-table`).

use std::fmt::Write as _;

use torch_rng::explain::{explain_model, Explanation, ParamExplanation};
use torch_rng::nn::init::{FanMode, InitCall, Nonlinearity};
use torch_rng::nn::{Limits, ModelDesc};

use super::init::{DeviceFlags, ModelFile};
use torch_rng::{Capability, Context, DType, DeviceSpec, Era, Error, Result};

/// Applies a flag that selects the build (`--capability`/`--variant`, `--torch-version`) to
/// `cx`; `false` for any other flag.
fn context_flag(cx: &mut Context, key: &str, value: &str) -> Result<bool> {
    match key {
        "capability" | "variant" => cx.capability = Capability::parse(value)?,
        "torch-version" | "torch_version" => cx.era = Era::of_release(value)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `cx` on the device of the flags over `file`'s.
fn on_device(flags: &DeviceFlags, file: DeviceSpec, cx: Context, release: &str) -> Result<Context> {
    flags
        .resolve(file)
        .map_err(|e| Error::arg("explain", e))?
        .context(cx, release)
}

/// `--json` output: the value pretty-printed, newline-terminated.
fn json_text(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `torch-rng explain ...`: an init call (`nn.init.F`, `F_`, `--readme-table`), or a module
/// (`nn.Class`) or model (`--model M.json`).
pub(crate) fn run(args: &[&str]) -> Result<String> {
    let init_call = args
        .first()
        .is_some_and(|a| a.starts_with("nn.init.") || a.ends_with('_') || *a == "--readme-table");
    if init_call {
        init(args)
    } else {
        module(args)
    }
}

/// `torch-rng explain FUNCTION --size D0,D1,... [--dtype T] [--capability C] [--torch-version V]
/// [--json] [--ARG VALUE ...]`, or `torch-rng explain --readme-table`: the text to print.
///
/// # Errors
/// A malformed command line, or what the call rejects.
fn init(args: &[&str]) -> Result<String> {
    if args == ["--readme-table"] {
        return Ok(readme_table());
    }
    let usage = || {
        Error::arg(
            "explain",
            "usage: torch-rng explain nn.init.FUNCTION --size D0,D1,... [--dtype float32] \
             [--capability avx2] [--torch-version 2.15.0] [--device cuda --gpu h100] [--json] \
             [--a 0.1 --mode fan_in ...]",
        )
    };
    let (name, rest) = args.split_first().ok_or_else(usage)?;
    let mut size = None;
    let mut dtype = DType::Float32;
    let mut cx = Context::default();
    let mut release = torch_rng::LATEST_RELEASE.to_string();
    let mut device = DeviceFlags::default();
    let mut json = false;
    let mut call_args = Vec::new();
    let mut it = rest.iter();
    while let Some(&flag) = it.next() {
        let key = flag.strip_prefix("--").ok_or_else(usage)?;
        if key == "json" {
            json = true;
            continue;
        }
        let value = *it.next().ok_or_else(usage)?;
        match key {
            "size" => {
                let dims: std::result::Result<Vec<usize>, _> = value
                    .split(',')
                    .filter(|d| !d.is_empty())
                    .map(|d| d.trim().parse::<usize>())
                    .collect();
                size = Some(dims.map_err(|_| {
                    Error::arg("explain", format!("--size {value}: not a list of sizes"))
                })?);
            }
            "dtype" => dtype = DType::parse(value)?,
            _ if device.take(key, value) => {}
            _ if context_flag(&mut cx, key, value)? => {
                if matches!(key, "torch-version" | "torch_version") {
                    release = value.to_string();
                }
            }
            other => call_args.push((other.to_string(), value.to_string())),
        }
    }
    let cx = on_device(&device, DeviceSpec::Cpu, cx, &release)?;
    let size = size.ok_or_else(|| Error::arg("explain", "--size is required"))?;
    let call = InitCall::from_text_args(name, &call_args)?;
    let e = Explanation::of_init(&call, &size, dtype, cx)?;
    Ok(if json {
        json_text(&e.to_json())
    } else {
        e.to_text()
    })
}

/// A command-line value as JSON: JSON itself (`3`, `false`, `[3, 2]`, `null`, an object), a
/// comma-separated list of integers (`3,2`), or else a string (`same`, `float64`).
fn cli_value(v: &str) -> serde_json::Value {
    if let Ok(j) = serde_json::from_str::<serde_json::Value>(v) {
        return j;
    }
    let ints: std::result::Result<Vec<i64>, _> = v.split(',').map(|d| d.trim().parse()).collect();
    match ints {
        Ok(list) if v.contains(',') => serde_json::Value::from(list),
        _ => serde_json::Value::String(v.to_string()),
    }
}

/// `torch-rng explain nn.CLASS [--kebab-case-argument VALUE ...] [--capability C]
/// [--torch-version V] [--json]`, or `torch-rng explain --model MODEL.json [...]`: the text to
/// print.
///
/// # Errors
/// A malformed command line, an unknown module or argument, a value of the wrong type, an
/// unreadable description, or what the constructor rejects.
fn module(args: &[&str]) -> Result<String> {
    let usage = || {
        Error::arg(
            "explain",
            "usage: torch-rng explain nn.CLASS [--in-features 3 --out-features 4 ...] \
             [--capability avx2] [--torch-version 2.15.0] [--device cuda --gpu h100] [--json], \
             or torch-rng explain --model MODEL.json [...]",
        )
    };
    let (first, rest) = args.split_first().ok_or_else(usage)?;
    let (model_path, rest) = if *first == "--model" {
        let (path, rest) = rest.split_first().ok_or_else(usage)?;
        (Some(*path), rest)
    } else if first.starts_with("--") {
        return Err(usage());
    } else {
        (None, rest)
    };
    let mut cx = Context::default();
    let mut release_given = false;
    let mut release = torch_rng::LATEST_RELEASE.to_string();
    let mut device = DeviceFlags::default();
    let mut limits = Limits::default();
    let mut json = false;
    let mut ctor = serde_json::Map::new();
    let mut it = rest.iter();
    while let Some(&flag) = it.next() {
        let key = flag.strip_prefix("--").ok_or_else(usage)?;
        if key == "json" {
            json = true;
            continue;
        }
        let value = *it
            .next()
            .ok_or_else(|| Error::arg("explain", format!("--{key} needs a value")))?;
        match key {
            _ if model_path.is_some()
                && super::init::limit_flag(&mut limits, flag, value)
                    .map_err(|e| Error::arg("explain", e))? => {}
            _ if device.take(key, value) => {}
            _ if context_flag(&mut cx, key, value)? => {
                if matches!(key, "torch-version" | "torch_version") {
                    release_given = true;
                    release = value.to_string();
                }
            }
            _ if model_path.is_some() => {
                return Err(Error::arg(
                    "explain",
                    format!("--model takes no constructor argument --{key}"),
                ))
            }
            _ => {
                let k = key.replace('-', "_");
                if ctor.insert(k, cli_value(value)).is_some() {
                    return Err(Error::arg("explain", format!("--{key} given twice")));
                }
            }
        }
    }
    let (desc, subject) = if let Some(path) = model_path {
        match super::init::read_model(path, limits).map_err(|e| Error::arg("explain", e))? {
            ModelFile::Desc(d) => {
                cx = on_device(&device, d.device(), cx, &release)?;
                (d, format!("model {path}"))
            }
            ModelFile::Program(p) => {
                if !release_given {
                    cx.era = Era::of_release(p.torch_version())?;
                    release = p.torch_version().to_string();
                }
                let cx = on_device(&device, p.device(), cx, &release)?;
                let subject = match p.expr() {
                    Some(expr) => format!("program {path} ({expr})"),
                    None => format!("program {path}"),
                };
                let e = p.explain(&subject, cx)?;
                return Ok(if json {
                    json_text(&e.to_json())
                } else {
                    e.to_text()
                });
            }
        }
    } else {
        let class = first.strip_prefix("nn.").unwrap_or(first);
        let shown = ctor
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) if k == "dtype" => format!("{k}=torch.{s}"),
                serde_json::Value::String(s) => format!("{k}='{s}'"),
                serde_json::Value::Bool(b) => format!("{k}={}", if *b { "True" } else { "False" }),
                serde_json::Value::Null => format!("{k}=None"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let desc = ModelDesc::single(class, ctor, &format!("nn.{class}"))?;
        cx = on_device(&device, DeviceSpec::Cpu, cx, &release)?;
        (desc, format!("nn.{class}({shown})"))
    };
    let e = explain_model(&desc, &subject, cx)?;
    Ok(if json {
        json_text(&e.to_json())
    } else {
        e.to_text()
    })
}

/// One row of the README's table: the function, its formula, a call and what it derives.
struct Row {
    call: InitCall,
    shape: &'static [usize],
    formula: &'static str,
}

fn rows() -> Vec<Row> {
    let k = |a: f64| InitCall::KaimingUniform {
        a,
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::LeakyRelu,
    };
    vec![
        Row {
            call: InitCall::Uniform { a: -0.5, b: 0.5 },
            shape: &[4, 3],
            formula: "U(a, b)",
        },
        Row {
            call: InitCall::Normal {
                mean: 0.0,
                std: 0.02,
            },
            shape: &[20, 30],
            formula: "N(mean, std²)",
        },
        Row {
            call: InitCall::TruncNormal {
                mean: 0.0,
                std: 0.02,
                a: -2.0,
                b: 2.0,
            },
            shape: &[20, 30],
            formula:
                "N(mean, std²) restricted to [a, b]: rejection sampling (2.12+), inverse CDF before",
        },
        Row {
            call: InitCall::Constant { val: 0.1 },
            shape: &[4, 3],
            formula: "val",
        },
        Row {
            call: InitCall::Ones,
            shape: &[4, 3],
            formula: "1",
        },
        Row {
            call: InitCall::Zeros,
            shape: &[4, 3],
            formula: "0",
        },
        Row {
            call: InitCall::Eye,
            shape: &[3, 4],
            formula: "identity matrix",
        },
        Row {
            call: InitCall::Dirac { groups: 2 },
            shape: &[4, 2, 3, 3],
            formula: "Dirac delta per group",
        },
        Row {
            call: InitCall::XavierUniform { gain: 1.0 },
            shape: &[4, 3],
            formula: "U(±sqrt(3)·gain·sqrt(2/(fan_in+fan_out)))",
        },
        Row {
            call: InitCall::XavierNormal { gain: 1.0 },
            shape: &[4, 3],
            formula: "N(0, (gain·sqrt(2/(fan_in+fan_out)))²)",
        },
        Row {
            call: k(5f64.sqrt()),
            shape: &[4, 3],
            formula: "U(±sqrt(3)·gain/sqrt(fan))",
        },
        Row {
            call: InitCall::KaimingNormal {
                a: 0.0,
                mode: FanMode::FanOut,
                nonlinearity: Nonlinearity::Relu,
            },
            shape: &[3, 5],
            formula: "N(0, (gain/sqrt(fan))²)",
        },
        Row {
            call: InitCall::Orthogonal { gain: 1.0 },
            shape: &[3, 5],
            formula: "Q of QR(N(0,1) draw), signs of diag(R), ·gain",
        },
        Row {
            call: InitCall::Sparse {
                sparsity: 0.4,
                std: 0.01,
            },
            shape: &[5, 3],
            formula: "N(0, std²), ceil(sparsity·rows) zeros per column",
        },
    ]
}

/// The README table "What PyTorch's init really does", generated from `ParamExplanation`
/// (float32, avx2, the latest release, a generator seeded with 0).
fn readme_table() -> String {
    let mut out = String::from(
        "| function | formula | example | derived in Python (double) | draws | float32 values | words |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows() {
        let p = ParamExplanation::of_init(
            "tensor",
            &row.call,
            row.shape,
            DType::Float32,
            Context::default(),
        );
        let Ok(p) = p else { continue };
        let derived = p
            .quantities
            .iter()
            .map(|q| format!("{} = {}", q.name, q.value.to_python()))
            .collect::<Vec<_>>()
            .join("; ");
        let values = p
            .dtype_values
            .iter()
            .map(|v| format!("{} `0x{}`", v.name, v.bits))
            .collect::<Vec<_>>()
            .join(", ");
        let args = row.call.python_args();
        let _ = writeln!(
            out,
            "| `{}` | {} | `{:?}`{} | {} | {} | {} | {} |",
            row.call.op_name().trim_start_matches("nn.init."),
            row.formula,
            row.shape,
            if args.is_empty() {
                String::new()
            } else {
                format!(", `{args}`")
            },
            if derived.is_empty() {
                "—".into()
            } else {
                derived
            },
            p.distribution,
            if values.is_empty() {
                "—".into()
            } else {
                values
            },
            p.words.map_or("—".into(), |w| w.to_string()),
        );
    }
    out
}
