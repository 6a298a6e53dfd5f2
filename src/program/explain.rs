//! `explain` for recorded programs: the program replayed from a generator seeded with
//! [`EXPLAIN_SEED`] while every step is traced, each `state_dict` entry listed with the steps that
//! wrote it, the numbers each `nn.init` call derives ([`ParamExplanation`], the same code that
//! samples) and the words each step drew.

use super::exec::{Machine, Observer, Report};
use super::parse::{BinOp, Op, Other};
use super::Program;
use crate::context::Context;
use crate::error::Result;
use crate::init::explain::EXPLAIN_SEED;
use crate::init::ParamExplanation;
use crate::modules::explain::{ModuleExplanation, Step as Traced};
use crate::torch::Torch;

/// The trace of a replay: each step under the name of the tensor it wrote.
struct Trace<'p> {
    /// The first `state_dict` name of each tensor, by tensor number.
    names: Vec<Option<String>>,
    sources: &'p [String],
    steps: Vec<Traced>,
}

fn num(v: f64) -> String {
    crate::init::Number::Float(v).to_python()
}

/// What a step other than an `nn.init` call does, as Python would write it.
#[allow(clippy::too_many_lines)] // one arm per op
fn describe(op: &Op) -> (String, String) {
    match op {
        Op::Empty {
            size, dtype, fill, ..
        } => match fill {
            Some(v) => (
                format!("torch.full({size:?}, {}, dtype=torch.{dtype})", v.as_f64()),
                format!("fill with {}", v.as_f64()),
            ),
            None => (
                format!("torch.empty({size:?}, dtype=torch.{dtype})"),
                "allocated; later steps write it".into(),
            ),
        },
        Op::Literal {
            size, dtype, data, ..
        } => (
            format!(
                "torch.tensor(<{} values>, dtype=torch.{dtype}).view({size:?})",
                data.len()
            ),
            "seed-independent values recorded as a literal".into(),
        ),
        Op::Randperm { n, dtype, .. } => (
            format!("torch.randperm({n}, dtype=torch.{dtype})"),
            format!("a random permutation of 0..{n}"),
        ),
        Op::Init { .. } => (String::new(), String::new()),
        Op::Uniform { from, to, .. } => (
            format!("t.uniform_({}, {})", num(*from), num(*to)),
            format!("U({}, {})", num(*from), num(*to)),
        ),
        Op::Normal { mean, std, .. } => (
            format!("t.normal_({}, {})", num(*mean), num(*std)),
            format!("N({}, {}^2)", num(*mean), num(*std)),
        ),
        Op::Random { bounds, .. } => match bounds {
            None => ("t.random_()".into(), "random integers of the dtype".into()),
            Some((from, to)) => (
                format!(
                    "t.random_({from}, {})",
                    to.map_or("None".into(), |t| t.to_string())
                ),
                "random integers in [from, to)".into(),
            ),
        },
        Op::Bernoulli { p, .. } => (format!("t.bernoulli_({})", num(*p)), "0 or 1".into()),
        Op::Exponential { lambd, .. } => (
            format!("t.exponential_({})", num(*lambd)),
            format!("Exp({})", num(*lambd)),
        ),
        Op::Fill { value, .. } => (
            format!("t.fill_({})", value.as_f64()),
            format!("fill with {}", value.as_f64()),
        ),
        Op::Copy { .. } => ("t.copy_(src)".into(), "copied from another tensor".into()),
        Op::Write { data, .. } => (
            format!("t[...] = <{} values>", data.len()),
            "seed-independent values written".into(),
        ),
        Op::Binary { op, other, .. } => {
            let operand = match other {
                Other::Number(v) => format!("{}", v.as_f64()),
                Other::Tensor(_) => "src".into(),
            };
            let sign = match op {
                BinOp::Mul => "*",
                BinOp::Div => "/",
                BinOp::Add => "+",
                BinOp::Sub => "-",
            };
            (
                format!("t.{}({operand})", op.name()),
                format!("t {sign} {operand}, rounded to the dtype"),
            )
        }
        Op::Clamp { min, max, .. } => (
            format!(
                "t.clamp_({}, {})",
                min.map_or("None".into(), |v| v.as_f64().to_string()),
                max.map_or("None".into(), |v| v.as_f64().to_string())
            ),
            "clamped".into(),
        ),
        Op::Erfinv { .. } => (
            "t.erfinv_()".into(),
            "erfinv (MKL's in PyTorch: within 1 ulp here)".into(),
        ),
        Op::ManualSeed { gen, seed } => (
            format!("{gen}.manual_seed({seed})"),
            "the generator restarts".into(),
        ),
        Op::SaveState { gen, slot } => (
            format!("state[{slot}] = {gen}.get_state()"),
            "the generator's state saved".into(),
        ),
        Op::SetState { gen, slot } => (
            format!("{gen}.set_state(state[{slot}])"),
            "the generator's state restored".into(),
        ),
        Op::Repeat { n, .. } => (format!("repeat {n}"), String::new()),
    }
}

impl Observer for Trace<'_> {
    fn step(&mut self, r: &Report<'_>, cx: Context) {
        let name = match r.target {
            Some((i, _)) => self
                .names
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("(tensor {i}, not in the state_dict)")),
            None => "(generator)".to_string(),
        };
        let at = r
            .step
            .at
            .and_then(|i| self.sources.get(i))
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        let shape = r.target.map(|(_, g)| g.size.clone()).unwrap_or_default();
        let dtype = r.dtype.unwrap_or(crate::dtype::DType::Float32);
        if let Op::Init { call, .. } = &r.step.op {
            if let Ok(mut p) = ParamExplanation::of_init(&name, call, &shape, dtype, cx) {
                p.words = r.words;
                p.philox_offset = r.philox_offset;
                p.call.push_str(&at);
                self.steps.push(Traced {
                    name,
                    param: p,
                    call: Some(call.clone()),
                });
                return;
            }
        }
        let (call, effect) = describe(&r.step.op);
        let call = if let Op::Init { call, .. } = &r.step.op {
            format!("{}(t, {})", call.op_name(), call.python_args())
        } else {
            call
        };
        self.steps.push(Traced {
            name: name.clone(),
            param: ParamExplanation {
                name,
                call: format!("{call}{at}"),
                shape,
                dtype,
                quantities: Vec::new(),
                distribution: effect,
                dtype_values: Vec::new(),
                words: r.words,
                philox_offset: r.philox_offset,
                notes: Vec::new(),
            },
            call: None,
        });
    }
}

impl Program {
    /// What the program does to each `state_dict` entry: replayed from a generator seeded with
    /// [`EXPLAIN_SEED`] under `cx`, every step traced with the numbers its `nn.init` call derives
    /// and the words it drew. Entries that share a tensor (ties) list the same steps.
    ///
    /// # Errors
    /// As [`Program::entries`].
    pub fn explain(&self, subject: &str, cx: Context) -> Result<ModuleExplanation> {
        let mut names: Vec<Option<String>> = Vec::new();
        for (name, idx, _) in &self.inner.state_dict {
            if names.len() <= *idx {
                names.resize(*idx + 1, None);
            }
            if names[*idx].is_none() {
                names[*idx] = Some(name.clone());
            }
        }
        let mut trace = Trace {
            names,
            sources: &self.inner.sources,
            steps: Vec::new(),
        };
        // torch.manual_seed(EXPLAIN_SEED): the CPU generator and, on a CUDA device, its own.
        let mut torch = Torch::new(cx);
        torch.manual_seed(EXPLAIN_SEED)?;
        let (g, cpu, cx) = torch.device_parts();
        let state = {
            let mut m = Machine::new(g, cpu, cx).observed(&mut trace);
            m.run(&self.inner.steps)?;
            m.entries(&self.inner.state_dict)?
                .into_iter()
                .map(|(name, t, _)| (name, t))
                .collect::<Vec<_>>()
        };
        let mut e = ModuleExplanation::assemble(subject.to_string(), cx, &state, &trace.steps);
        // A tied entry is the tensor of an earlier one: the same steps wrote it.
        for (k, (name, idx, view)) in self.inner.state_dict.iter().enumerate() {
            let first = self.inner.state_dict[..k]
                .iter()
                .position(|(_, j, v)| j == idx && v == view);
            if let Some(f) = first {
                let steps = e.entries[f].steps.clone();
                let owner = e.entries[f].name.clone();
                let entry = &mut e.entries[k];
                entry.steps = steps;
                entry.constant = None;
                for (_, p) in &mut entry.steps {
                    p.name.clone_from(name);
                }
                e.notes.push(format!(
                    "'{name}' is the tensor of '{owner}' (tied): the same steps"
                ));
            }
        }
        Ok(e)
    }
}
