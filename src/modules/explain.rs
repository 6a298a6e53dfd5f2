//! `explain` for modules and whole models: what each `state_dict` entry's initialisation does,
//! recorded while the real constructors run.
//!
//! Module code initialises every tensor through `Builder::init_param` with a `ParamInit`: the
//! `torch.nn.init` call plus the quantities the module derives before making it. Explaining builds
//! the model with an `ExplainRecorder`, which logs each call with the tensor's full dotted name
//! and the words it drew, so an explanation is a trace of the very code that samples, not a second
//! table of formulas.

use std::fmt::Write as _;

use super::build::{InitStep, NoteStep, Recorder};
use super::model::ModelDesc;
use crate::context::Context;
use crate::dtype::DType;
use crate::error::Result;
use crate::init::explain::{heading, EXPLAIN_SEED};
use crate::init::{InitCall, Number, ParamExplanation};
use crate::tensor::{Storage, Tensor};
use crate::torch::Torch;

/// One recorded initialisation step.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    /// The tensor's dotted name; a `*` segment stands for every copy (`layers.*.linear1.weight`).
    pub(crate) name: String,
    /// What was done.
    pub(crate) param: ParamExplanation,
    /// The init call, when the step is one.
    pub(crate) call: Option<InitCall>,
}

/// The recorder `explain` builds with: every step, with its derived numbers and word count.
#[derive(Debug, Default)]
pub(crate) struct ExplainRecorder {
    pub(crate) steps: Vec<Step>,
}

impl Recorder for ExplainRecorder {
    fn counts_words(&self) -> bool {
        true
    }

    fn init(&mut self, step: &InitStep<'_>) -> Result<()> {
        let t = step.tensor;
        let mut param = ParamExplanation::of_init(
            step.name,
            &step.how.call,
            t.shape(),
            t.dtype(),
            step.context,
        )?;
        let mut quantities = step.how.derived.clone();
        quantities.append(&mut param.quantities);
        param.quantities = quantities;
        param.words = step.words;
        param.philox_offset = step.philox_offset;
        self.steps.push(Step {
            name: step.name.to_string(),
            param,
            call: Some(step.how.call.clone()),
        });
        Ok(())
    }

    fn note(&mut self, step: &NoteStep<'_>) {
        let t = step.tensor;
        self.steps.push(Step {
            name: step.name.to_string(),
            param: ParamExplanation {
                name: step.name.to_string(),
                call: step.call.to_string(),
                shape: t.shape().to_vec(),
                dtype: t.dtype(),
                quantities: Vec::new(),
                distribution: step.effect.to_string(),
                dtype_values: Vec::new(),
                words: step.words,
                philox_offset: step.philox_offset,
                notes: Vec::new(),
            },
            call: None,
        });
    }
}

// ------------------------------------------------------------------------------------------
// Explanations
// ------------------------------------------------------------------------------------------

/// One `state_dict` entry and every step that initialised it, in draw order.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryExplanation {
    /// The `state_dict` name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its dtype.
    pub dtype: DType,
    /// The steps, each with its position in the draw order (from 1).
    pub steps: Vec<(usize, ParamExplanation)>,
    /// What the entry holds when no step touched it (a buffer filled at construction).
    pub constant: Option<String>,
}

/// What constructing a module (or building a model) does to each `state_dict` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleExplanation {
    /// The module or model (`nn.Linear(in_features=3, out_features=4)`).
    pub subject: String,
    /// The build reproduced.
    pub cx: Context,
    /// The entries, in `state_dict` order.
    pub entries: Vec<EntryExplanation>,
    /// The names of the steps in the order they ran (and drew).
    pub draw_order: Vec<String>,
    /// Whether that order differs from the `state_dict` order.
    pub order_differs: bool,
    /// Remarks derived from the steps (the `a = sqrt(5)` bound, copies).
    pub notes: Vec<String>,
}

/// `text` broken into lines of at most `width` characters (at spaces), continuation lines
/// indented by two.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = "  ".to_string();
        } else if !line.is_empty() && line != "  " {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Whether a recorded name (with `*` segments for copies) names `entry`.
pub(crate) fn matches(pattern: &str, entry: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let e: Vec<&str> = entry.split('.').collect();
    p.len() == e.len()
        && p.iter()
            .zip(&e)
            .all(|(a, b)| a == b || (*a == "*" && b.bytes().all(|c| c.is_ascii_digit())))
}

fn constant_of(t: &Tensor) -> String {
    let bits = t.bits();
    let Some(&first) = bits.first() else {
        return "empty".into();
    };
    if !bits.iter().all(|&b| b == first) {
        return "as constructed".into();
    }
    let v = match t.storage() {
        Storage::F32(x) => f64::from(x[0]),
        Storage::F64(x) => x[0],
        Storage::F16(x) => f64::from(x[0].to_f32()),
        Storage::BF16(x) => f64::from(x[0].to_f32()),
        Storage::I64(x) => return format!("filled with {} at construction, no draws", x[0]),
        _ => return format!("every element has the bits 0x{first:x}, no draws"),
    };
    format!("filled with {v:?} at construction, no draws")
}

impl ModuleExplanation {
    /// Pairs the `state_dict` with the recorded steps.
    pub(crate) fn assemble(
        subject: String,
        cx: Context,
        state: &[(String, Tensor)],
        steps: &[Step],
    ) -> ModuleExplanation {
        let mut entries = Vec::with_capacity(state.len());
        let mut first_touch = Vec::new();
        for (name, t) in state {
            let mine: Vec<(usize, ParamExplanation)> = steps
                .iter()
                .enumerate()
                .filter(|(_, s)| matches(&s.name, name))
                .map(|(i, s)| {
                    let mut p = s.param.clone();
                    p.name.clone_from(name);
                    (i + 1, p)
                })
                .collect();
            if let Some(&(i, _)) = mine.first() {
                first_touch.push(i);
            }
            entries.push(EntryExplanation {
                name: name.clone(),
                shape: t.shape().to_vec(),
                dtype: t.dtype(),
                constant: mine.is_empty().then(|| constant_of(t)),
                steps: mine,
            });
        }
        let order_differs = first_touch.windows(2).any(|w| w[0] > w[1])
            || entries.iter().any(|e| e.steps.len() > 1);
        let draw_order: Vec<String> = steps.iter().map(|s| s.name.clone()).collect();
        let mut notes = Vec::new();
        sqrt5_notes(steps, &mut notes);
        if steps.iter().any(|s| s.name.contains('*')) {
            notes.push(
                "a name with '*' was drawn once and deep-copied to every numbered layer \
                 (TransformerEncoder/Decoder copy their layer: all copies start equal)"
                    .into(),
            );
        }
        ModuleExplanation {
            subject,
            cx,
            entries,
            draw_order,
            order_differs,
            notes,
        }
    }

    /// Human-readable text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = heading(&self.subject, self.cx);
        if self.cx.is_cuda() {
            let _ = writeln!(
                out,
                "; Philox offsets counted while building after torch.manual_seed({EXPLAIN_SEED}))"
            );
        } else {
            let _ = writeln!(
                out,
                "; words counted while building from a generator seeded with {EXPLAIN_SEED})"
            );
        }
        for e in &self.entries {
            if let Some(c) = &e.constant {
                let _ = writeln!(out, "{}: {:?} {}: {c}", e.name, e.shape, e.dtype.name());
            }
            for (i, p) in &e.steps {
                if e.steps.len() > 1 || self.order_differs {
                    let _ = write!(out, "[step {i}] ");
                }
                out.push_str(&p.to_text());
            }
        }
        if self.order_differs {
            let _ = writeln!(
                out,
                "draw order (differs from the state_dict order): {}",
                self.draw_order.join(", ")
            );
        }
        for n in &self.notes {
            out.push_str(&wrap(n, 100));
        }
        out
    }
}

#[cfg(feature = "json")]
impl ModuleExplanation {
    /// The explanation as JSON (for `torch-rng explain nn.Linear ... --json`).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!({
            "subject": self.subject,
            "capability": self.cx.capability.name(),
            "era_first_release": self.cx.era.first_release(),
            "device": crate::init::explain::device_json(self.cx),
            "seed": EXPLAIN_SEED,
            "state_dict": self.entries.iter().map(|e| json!({
                "name": e.name,
                "shape": e.shape,
                "dtype": e.dtype.name(),
                "constant": e.constant,
                "steps": e.steps.iter().map(|(i, p)| {
                    let mut v = p.to_json();
                    v["draw_step"] = json!(i);
                    v
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "draw_order": self.draw_order,
            "order_differs": self.order_differs,
            "notes": self.notes,
        })
    }
}

/// The `a = sqrt(5)` remark for every weight drawn by `kaiming_uniform_(a=sqrt(5))` whose bias
/// was drawn with `±1/sqrt(fan_in)` (Linear, Conv): both bounds, and whether the dtype keeps
/// them apart.
fn sqrt5_notes(steps: &[Step], notes: &mut Vec<String>) {
    // One remark per distinct fan_in and dtype: a model repeats the same Linear many times.
    let mut seen = Vec::new();
    for w in steps {
        let Some(InitCall::KaimingUniform { a, .. }) = &w.call else {
            continue;
        };
        if *a != 5f64.sqrt() {
            continue;
        }
        let Some(stem) = w.name.strip_suffix("weight") else {
            continue;
        };
        let bias_name = format!("{stem}bias");
        let Some(b) = steps.iter().find(|s| s.name == bias_name) else {
            continue;
        };
        let get = |p: &ParamExplanation, n: &str| {
            p.quantities.iter().find(|q| q.name == n).map(|q| q.value)
        };
        let (Some(Number::Int(fan_in)), Some(Number::Float(wb)), Some(Number::Float(bb))) = (
            get(&w.param, "fan_in"),
            get(&w.param, "bound"),
            get(&b.param, "bound"),
        ) else {
            continue;
        };
        let to_bits = |p: &ParamExplanation| {
            p.dtype_values
                .iter()
                .find(|v| v.name == "to")
                .map(|v| v.bits.clone())
                .unwrap_or_default()
        };
        if seen.contains(&(fan_in, w.param.dtype)) {
            continue;
        }
        seen.push((fan_in, w.param.dtype));
        let (wbits, bbits) = (to_bits(&w.param), to_bits(&b.param));
        let dtype = w.param.dtype.name();
        let same = if wbits == bbits {
            format!("identical in {dtype} (0x{wbits})")
        } else {
            format!("not identical in {dtype}: 0x{wbits} for the weight, 0x{bbits} for the bias")
        };
        let label = if stem.is_empty() {
            String::new()
        } else {
            format!(" ({})", w.name)
        };
        notes.push(format!(
            "why a = sqrt(5){label}: kaiming_uniform_(a=sqrt(5)) has gain = sqrt(2 / (1 + 5)) = \
             1/sqrt(3), so its bound gain * sqrt(3 / fan_in) is 1/sqrt(fan_in): the weight is \
             U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias's bound. With fan_in = {fan_in} the \
             doubles are {wb:?} (weight, sqrt(3) * (gain / sqrt(fan_in))) and {bb:?} (bias, \
             1 / sqrt(fan_in)), {same}."
        ));
    }
}

/// Explains a model description (or one module, [`ModelDesc::single`]): builds it from a
/// generator seeded with [`EXPLAIN_SEED`] while recording, then pairs each `state_dict` entry with
/// the steps that initialised it.
///
/// # Errors
/// Whatever building the model rejects.
pub fn explain_model(desc: &ModelDesc, subject: &str, cx: Context) -> Result<ModuleExplanation> {
    // torch.manual_seed(EXPLAIN_SEED): the CPU generator and, on a CUDA device, its own.
    let mut torch = Torch::new(cx);
    torch.manual_seed(EXPLAIN_SEED)?;
    let mut rec = ExplainRecorder::default();
    let root = desc.build_recorded(&mut torch, &mut rec)?;
    let state = desc.state_dict_of(root)?;
    Ok(ModuleExplanation::assemble(
        subject.to_string(),
        cx,
        &state,
        &rec.steps,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::CpuGenerator;
    use crate::modules::model::ModelDesc;
    use serde_json::{json, Value};

    fn single(class: &str, args: Value) -> ModelDesc {
        let Value::Object(m) = args else {
            panic!("args must be an object")
        };
        ModelDesc::single(class, m, class).unwrap()
    }

    fn explain(class: &str, args: Value) -> ModuleExplanation {
        explain_model(&single(class, args), class, Context::default()).unwrap()
    }

    fn q(p: &ParamExplanation, name: &str) -> Number {
        p.quantities
            .iter()
            .find(|q| q.name == name)
            .unwrap_or_else(|| panic!("{} has no {name}", p.name))
            .value
    }

    /// nn.Linear(3, 4): the post's a = sqrt(5) puzzle, in numbers.
    #[test]
    fn linear_sqrt5() {
        let e = explain("Linear", json!({"in_features": 3, "out_features": 4}));
        let names: Vec<&str> = e.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["weight", "bias"]);
        assert!(!e.order_differs);
        let w = &e.entries[0].steps[0].1;
        let b = &e.entries[1].steps[0].1;
        assert!(
            w.call.starts_with("nn.init.kaiming_uniform_("),
            "{}",
            w.call
        );
        assert_eq!(q(w, "a"), Number::Float(5f64.sqrt()));
        assert_eq!(q(w, "fan_in"), Number::Int(3));
        // gain = sqrt(2 / 6) and bound = sqrt(3) * gain / sqrt(3): one ulp under 1/sqrt(3).
        let Number::Float(gain) = q(w, "gain") else {
            panic!()
        };
        assert_eq!(gain.to_bits(), 0x3fe2_79a7_4590_331c);
        let (Number::Float(wb), Number::Float(bb)) = (q(w, "bound"), q(b, "bound")) else {
            panic!()
        };
        assert_eq!(wb.to_bits(), 0x3fe2_79a7_4590_331c);
        assert_eq!(bb.to_bits(), (1.0 / 3f64.sqrt()).to_bits());
        assert_eq!(bb.to_bits(), 0x3fe2_79a7_4590_331d);
        assert_eq!(w.dtype_values[1].bits, "3f13cd3a");
        assert_eq!(b.dtype_values[1].bits, "3f13cd3a");
        assert_eq!((w.words, b.words), (Some(12), Some(4)));
        assert_eq!(e.notes.len(), 1);
        assert!(
            e.notes[0].contains("identical in float32 (0x3f13cd3a)"),
            "{}",
            e.notes[0]
        );
        let text = e.to_text();
        assert!(
            text.contains("U(-1/sqrt(fan_in), 1/sqrt(fan_in))"),
            "{text}"
        );

        let e = explain(
            "Linear",
            json!({"in_features": 3, "out_features": 4, "dtype": "float64"}),
        );
        assert!(
            e.notes[0].contains("not identical in float64"),
            "{}",
            e.notes[0]
        );
        assert_eq!(e.entries[0].steps[0].1.words, Some(24));
    }

    /// MultiheadAttention draws out_proj first; its bias is drawn, then zeroed.
    #[test]
    fn attention_draw_order() {
        let e = explain(
            "MultiheadAttention",
            json!({"embed_dim": 4, "num_heads": 2, "add_bias_kv": true}),
        );
        assert!(e.order_differs);
        assert_eq!(
            e.draw_order,
            [
                "out_proj.weight",
                "out_proj.bias",
                "in_proj_weight",
                "in_proj_bias",
                "out_proj.bias",
                "bias_k",
                "bias_v"
            ]
        );
        let names: Vec<&str> = e.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "in_proj_weight",
                "in_proj_bias",
                "bias_k",
                "bias_v",
                "out_proj.weight",
                "out_proj.bias"
            ]
        );
        let bias = &e.entries[5];
        assert_eq!(bias.steps.len(), 2);
        assert_eq!((bias.steps[0].0, bias.steps[1].0), (2, 5));
        assert_eq!(bias.steps[1].1.words, Some(0));
    }

    /// Transformer: one prototype layer per stack, copied, then xavier_uniform_ on every matrix.
    #[test]
    fn transformer_reinit_pass() {
        let e = explain(
            "Transformer",
            json!({"d_model": 4, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1,
                   "dim_feedforward": 6}),
        );
        let entry = |n: &str| e.entries.iter().find(|x| x.name == n).unwrap();
        let w = entry("encoder.layers.1.linear1.weight");
        assert_eq!(w.steps.len(), 2);
        assert!(w.steps[0].1.call.starts_with("nn.init.kaiming_uniform_"));
        assert!(w.steps[1].1.call.starts_with("nn.init.xavier_uniform_"));
        let b = entry("encoder.layers.1.linear1.bias");
        assert_eq!(b.steps.len(), 1);
        assert!(e.notes.iter().any(|n| n.contains("deep-copied")));
    }

    /// The words of the steps add up to what the build drew, recording changes no bit, and every
    /// entry is explained, for every built-in class.
    #[test]
    #[allow(clippy::too_many_lines)] // one table of constructor arguments
    fn every_class_accounts_for_its_draws() {
        let layer = json!({"module": "TransformerEncoderLayer", "d_model": 4, "nhead": 2,
                           "dim_feedforward": 6});
        let dlayer = json!({"module": "TransformerDecoderLayer", "d_model": 4, "nhead": 2,
                            "dim_feedforward": 6});
        let cases = [
            ("Linear", json!({"in_features": 5, "out_features": 3})),
            (
                "LazyLinear",
                json!({"in_features": 5, "out_features": 3, "bias": false}),
            ),
            (
                "Bilinear",
                json!({"in1_features": 2, "in2_features": 3, "out_features": 4}),
            ),
            ("Identity", json!({})),
            (
                "Conv1d",
                json!({"in_channels": 2, "out_channels": 4, "kernel_size": 3}),
            ),
            (
                "Conv2d",
                json!({"in_channels": 4, "out_channels": 4, "kernel_size": [3, 2],
                              "groups": 2, "dtype": "float16"}),
            ),
            (
                "Conv3d",
                json!({"in_channels": 1, "out_channels": 2, "kernel_size": 2}),
            ),
            (
                "ConvTranspose2d",
                json!({"in_channels": 4, "out_channels": 6, "kernel_size": 3,
                                       "groups": 2}),
            ),
            (
                "Embedding",
                json!({"num_embeddings": 5, "embedding_dim": 3, "padding_idx": 1}),
            ),
            (
                "EmbeddingBag",
                json!({"num_embeddings": 10, "embedding_dim": 4,
                                    "dtype": "bfloat16"}),
            ),
            (
                "RNN",
                json!({"input_size": 2, "hidden_size": 3, "num_layers": 2}),
            ),
            (
                "LSTM",
                json!({"input_size": 3, "hidden_size": 5, "proj_size": 2,
                            "bidirectional": true}),
            ),
            (
                "GRU",
                json!({"input_size": 3, "hidden_size": 4, "dtype": "float64"}),
            ),
            ("RNNCell", json!({"input_size": 3, "hidden_size": 2})),
            ("LSTMCell", json!({"input_size": 3, "hidden_size": 2})),
            (
                "GRUCell",
                json!({"input_size": 3, "hidden_size": 2, "bias": false}),
            ),
            (
                "MultiheadAttention",
                json!({"embed_dim": 8, "num_heads": 2, "kdim": 5, "vdim": 3,
                                          "add_bias_kv": true}),
            ),
            (
                "TransformerEncoderLayer",
                json!({"d_model": 4, "nhead": 2,
                                               "dim_feedforward": 6}),
            ),
            (
                "TransformerDecoderLayer",
                json!({"d_model": 4, "nhead": 2,
                                               "dim_feedforward": 6}),
            ),
            (
                "TransformerEncoder",
                json!({"encoder_layer": layer, "num_layers": 2}),
            ),
            (
                "TransformerDecoder",
                json!({"decoder_layer": dlayer, "num_layers": 2,
                                          "norm": {"module": "LayerNorm",
                                                   "normalized_shape": 4}}),
            ),
            (
                "Transformer",
                json!({"d_model": 4, "nhead": 2, "num_encoder_layers": 1,
                                   "num_decoder_layers": 1, "dim_feedforward": 6}),
            ),
            ("LayerNorm", json!({"normalized_shape": [2, 3]})),
            ("RMSNorm", json!({"normalized_shape": 3})),
            ("BatchNorm2d", json!({"num_features": 3})),
            ("InstanceNorm1d", json!({"num_features": 3, "affine": true})),
            ("GroupNorm", json!({"num_groups": 2, "num_channels": 4})),
            ("PReLU", json!({"num_parameters": 3, "init": 0.1})),
        ];
        for (class, args) in cases {
            let desc = single(class, args);
            let e = explain_model(&desc, class, Context::default()).unwrap();
            let mut torch = Torch::with_seed(EXPLAIN_SEED);
            let plain = desc.state_dict(&mut torch).unwrap();
            let drawn = torch
                .generator()
                .words_since(&CpuGenerator::with_seed(EXPLAIN_SEED))
                .unwrap();
            let mut rec = ExplainRecorder::default();
            let root = desc
                .build_recorded(&mut Torch::with_seed(EXPLAIN_SEED), &mut rec)
                .unwrap();
            let recorded = desc.state_dict_of(root).unwrap();
            let steps = rec.steps;
            assert_eq!(plain.len(), recorded.len(), "{class}");
            for ((n1, t1), (n2, t2)) in plain.iter().zip(&recorded) {
                assert_eq!(
                    (n1, t1.bits()),
                    (n2, t2.bits()),
                    "{class}: recording changed bits"
                );
            }
            let summed: u64 = steps.iter().map(|s| s.param.words.unwrap()).sum();
            assert_eq!(summed, drawn, "{class}: step words vs words drawn");
            assert_eq!(e.entries.len(), plain.len(), "{class}");
            for entry in &e.entries {
                let touched = !entry.steps.is_empty();
                let buffer = ["running_mean", "running_var", "num_batches_tracked"]
                    .iter()
                    .any(|b| entry.name.ends_with(b));
                assert!(touched || buffer, "{class}: {} has no step", entry.name);
            }
        }
    }

    #[test]
    fn wildcard_names() {
        assert!(matches(
            "layers.*.linear1.weight",
            "layers.12.linear1.weight"
        ));
        assert!(!matches(
            "layers.*.linear1.weight",
            "layers.x.linear1.weight"
        ));
        assert!(!matches("layers.*.linear1.weight", "layers.1.linear1.bias"));
        assert!(matches("weight", "weight"));
    }
}
