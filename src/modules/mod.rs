//! Built-in `torch.nn` modules: default initialisation in PyTorch's construction order, returned as
//! a [`Module`] tree whose [`Module::state_dict`] is PyTorch's `state_dict()`, names and order
//! included.
//!
//! Mirrors: `torch/nn/modules/*.py` (`__init__` and `reset_parameters`).
//!
//! Each class is a type in [`registry`]'s list, built with [`Class::build`] through a [`Builder`]
//! (the generator, the [`crate::Context`] and a [`Recorder`]). Every constructor draws from the
//! generator exactly what PyTorch's constructor draws, in the same order, so that building
//! modules one after another reproduces a Python `__init__`. Tensors that PyTorch leaves
//! uninitialised (a Conv bias with `fan_in = 0` before 2.12) are zeros here and must not be
//! compared.
//!
//! [`model`] builds whole models from a JSON description and runs post-construction init passes
//! (`model.apply(_init_weights)`, per-parameter inits).

// Docs name PyTorch classes and arguments (LayerNorm, fan_in) that are not Rust items.
#![allow(clippy::doc_markdown)]

mod attention;
pub mod build;
mod conv;
mod embedding;
#[cfg(feature = "json")]
pub mod explain;
mod linear;
#[cfg(feature = "json")]
pub mod model;
mod norm;
pub mod registry;
mod rnn;
mod transformer;

pub use attention::MultiheadAttention;
pub use build::{Builder, InitStep, NoRecorder, NoteStep, ParamInit, Recorder};
pub use conv::{Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d};
pub use embedding::{Embedding, EmbeddingBag};
pub use linear::{Bilinear, Identity, LazyLinear, Linear};
pub use norm::{
    BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
    InstanceNorm3d, LayerNorm, PReLU, RMSNorm,
};
pub use registry::{ArgValue, Class, Ints, Padding};
pub use rnn::{GRUCell, LSTMCell, RNNCell, GRU, LSTM, RNN};
pub use transformer::{
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An ordered `state_dict`: names and tensors in PyTorch's order.
pub type StateDict = Vec<(String, Tensor)>;

/// A constructed module: its PyTorch class, its own parameters and buffers in registration order,
/// and its child modules in registration order.
///
/// [`Module::state_dict`] lists, as PyTorch does, a module's own parameters, then its buffers,
/// then each child's entries under `child.`; construction (draw) order can differ (a
/// MultiheadAttention's `out_proj` draws first but is listed last).
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// PyTorch's class name (`Linear`, `Conv2d`, `Sequential`, ...; `Module` for a custom class).
    pub class: String,
    /// Parameters, in registration order (absent ones, such as `bias=False`, are not listed).
    pub params: Vec<(String, Tensor)>,
    /// Persistent buffers, in registration order.
    pub buffers: Vec<(String, Tensor)>,
    /// Child modules, in registration order.
    pub children: Vec<(String, Module)>,
    /// `Embedding`/`EmbeddingBag`: the normalised `padding_idx`, if any.
    pub padding_idx: Option<usize>,
}

impl Module {
    /// An empty module of class `class`.
    #[must_use]
    pub fn new(class: impl Into<String>) -> Module {
        Module {
            class: class.into(),
            params: Vec::new(),
            buffers: Vec::new(),
            children: Vec::new(),
            padding_idx: None,
        }
    }

    /// `module.state_dict()`: own parameters, own buffers, then each child's under its name.
    #[must_use]
    pub fn state_dict(&self) -> StateDict {
        let mut out = Vec::new();
        self.collect_state("", &mut out);
        out
    }

    /// Consumes the module, returning its `state_dict` without copying tensors.
    #[must_use]
    pub fn into_state_dict(self) -> StateDict {
        let mut out = Vec::new();
        self.into_state("", &mut out);
        out
    }

    fn collect_state(&self, prefix: &str, out: &mut StateDict) {
        for (n, t) in self.params.iter().chain(&self.buffers) {
            out.push((format!("{prefix}{n}"), t.clone()));
        }
        for (n, c) in &self.children {
            c.collect_state(&format!("{prefix}{n}."), out);
        }
    }

    fn into_state(self, prefix: &str, out: &mut StateDict) {
        for (n, t) in self.params.into_iter().chain(self.buffers) {
            out.push((format!("{prefix}{n}"), t));
        }
        for (n, c) in self.children {
            c.into_state(&format!("{prefix}{n}."), out);
        }
    }

    /// Whether `isinstance(module, nn.<class>)` holds (`Module` matches every module; the
    /// attention's `out_proj` is a `Linear`).
    #[must_use]
    pub fn is_instance(&self, class: &str) -> bool {
        self.class == class
            || class == "Module"
            || (class == "Linear" && self.class == "NonDynamicallyQuantizableLinear")
    }

    /// The total number of parameter elements (`sum(p.numel() for p in parameters())`).
    #[must_use]
    pub fn num_parameters(&self) -> usize {
        self.params.iter().map(|(_, t)| t.numel()).sum::<usize>()
            + self
                .children
                .iter()
                .map(|(_, c)| c.num_parameters())
                .sum::<usize>()
    }

    /// The parameter `name` of this module (not of its children).
    pub fn param_mut(&mut self, name: &str) -> Option<&mut Tensor> {
        self.params
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }

    /// Calls `f` on every parameter in `named_parameters()` order with its dotted name.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn for_each_parameter_mut(
        &mut self,
        f: &mut dyn FnMut(&str, &mut Tensor) -> Result<()>,
    ) -> Result<()> {
        self.params_rec("", f)
    }

    fn params_rec(
        &mut self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &mut Tensor) -> Result<()>,
    ) -> Result<()> {
        for (n, t) in &mut self.params {
            f(&format!("{prefix}{n}"), t)?;
        }
        for (n, c) in &mut self.children {
            c.params_rec(&format!("{prefix}{n}."), f)?;
        }
        Ok(())
    }

    /// `module.apply(f)`: children first (each in registration order, recursively), then the
    /// module itself.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn apply(&mut self, f: &mut dyn FnMut(&mut Module) -> Result<()>) -> Result<()> {
        for (_, c) in &mut self.children {
            c.apply(f)?;
        }
        f(self)
    }
}

/// PyTorch refuses a `Parameter` of a non-float dtype ("Only Tensors of floating point and complex
/// dtype can require gradients"); it does so before any draw.
pub(crate) fn check_param_dtype(op: &str, dtype: DType) -> Result<()> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("only tensors of floating point dtype can require gradients, not {dtype}"),
        ))
    }
}

/// `torch.empty(size, dtype=dtype)` for a parameter (zeros here).
pub(crate) fn empty(op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
    Tensor::zeros_checked(op, size, dtype)
}

/// [`empty`] for a parameter that exists only when `present` (`bias=False` allocates nothing).
pub(crate) fn empty_if(
    op: &str,
    present: bool,
    size: &[i64],
    dtype: DType,
) -> Result<Option<Tensor>> {
    if present {
        empty(op, size, dtype).map(Some)
    } else {
        Ok(None)
    }
}

/// A module of class `class` whose parameters are `weight` then, if present, `bias`.
pub(crate) fn weight_and_bias(
    class: impl Into<String>,
    weight: Tensor,
    bias: Option<Tensor>,
) -> Module {
    let mut m = Module::new(class);
    m.params.push(("weight".to_string(), weight));
    if let Some(b) = bias {
        m.params.push(("bias".to_string(), b));
    }
    m
}

/// `weight[row].zero_()` on a 2-D tensor.
pub(crate) fn zero_row(t: &mut Tensor, row: usize) {
    let cols = t.shape().get(1).copied().unwrap_or(1);
    t.storage_mut()
        .fill_range_f64(row * cols..(row + 1) * cols, 0.0);
}

/// Python's `a % b` and `a // b` for a positive divisor.
pub(crate) fn py_divmod(a: i64, b: i64) -> (i64, i64) {
    (a.div_euclid(b), a.rem_euclid(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Capability, Context};
    use crate::generator::CpuGenerator;
    use crate::torch::Torch;

    /// torch.manual_seed(1); nn.Linear(3, 4) (init.md section 9, vector 2).
    #[test]
    fn linear_3x4_seed1() {
        let cases = [
            (
                Capability::Avx2,
                [
                    0x3e98_5043u64,
                    0xbe82_790e,
                    0xbde5_3973,
                    0x3e8a_bf3d,
                    0xbf0b_255c,
                    0x3eb1_4747,
                    0xbdf3_409a,
                    0x3e96_62ea,
                    0x3da4_6023,
                    0xbd90_c794,
                    0x3e23_fa45,
                    0x3ce9_527e,
                ],
                [0x3e57_ece3u64, 0xbe66_64d2, 0xbd2c_6aa5, 0xbd54_e627],
            ),
            (
                Capability::Default,
                [
                    0x3e98_5042,
                    0xbe82_790e,
                    0xbde5_3974,
                    0x3e8a_bf3c,
                    0xbf0b_255c,
                    0x3eb1_4746,
                    0xbdf3_409c,
                    0x3e96_62ea,
                    0x3da4_6020,
                    0xbd90_c790,
                    0x3e23_fa44,
                    0x3ce9_5280,
                ],
                [0x3e57_ece4, 0xbe66_64d2, 0xbd2c_6aa0, 0xbd54_e620],
            ),
        ];
        for (cap, w, b) in cases {
            let mut torch = Torch::from_parts(Context::new(cap), CpuGenerator::with_seed(1));
            let sd = Linear::new(3, 4)
                .build(&mut torch)
                .unwrap()
                .into_state_dict();
            assert_eq!(sd[0].0, "weight");
            assert_eq!(sd[0].1.bits(), w, "{cap}");
            assert_eq!(sd[1].1.bits(), b, "{cap}");
        }
    }

    #[test]
    fn linear_in_zero_draws_bias_words() {
        let mut torch = Torch::with_seed(1);
        let sd = Linear::new(0, 3)
            .build(&mut torch)
            .unwrap()
            .into_state_dict();
        assert_eq!(sd[1].1.bits(), [0, 0, 0]);
        assert_eq!(torch.generator().engine().next_index(), 3);
        assert!(Linear::new(-1, 3).build(&mut torch).is_err());
    }

    /// init.md section 9, vectors 3, 8, 10 and 11.
    #[test]
    fn spec_vectors() {
        let m = Conv2d::new(2, 3, 3)
            .build(&mut Torch::with_seed(0))
            .unwrap();
        assert_eq!(
            m.params[0].1.bits()[..3],
            [0xbae7_4c2e, 0x3e01_79be, 0xbe46_a642]
        );
        assert_eq!(
            m.params[1].1.bits(),
            [0x3e21_d3f7, 0xbe0e_1ce1, 0x3d33_e740]
        );

        let m = Embedding::new(3, 4)
            .padding_idx(1)
            .build(&mut Torch::with_seed(0))
            .unwrap();
        assert_eq!(
            m.params[0].1.bits(),
            [
                0x3fc5_3f5c,
                0xbe96_3c50,
                0xc00b_7149,
                0x3f11_84b6,
                0,
                0,
                0,
                0,
                0xbf38_2144,
                0xbece_830b,
                0xbf18_bd18,
                0x3e3a_67c6
            ]
        );

        let m = LSTM::new(2, 3).build(&mut Torch::with_seed(0)).unwrap();
        assert_eq!(
            m.params[0].1.bits()[..4],
            [0xbb8d_a3e8, 0x3e9e_9313, 0xbef3_4b7e, 0xbed9_8bc9]
        );
        assert_eq!(m.params[3].0, "bias_hh_l0");

        let m = MultiheadAttention::new(4, 2)
            .build(&mut Torch::with_seed(0))
            .unwrap();
        let sd = m.state_dict();
        assert_eq!(sd[0].0, "in_proj_weight");
        assert_eq!(
            sd[0].1.bits()[..4],
            [0x3e63_c329, 0x3f02_2d7f, 0xbe01_0d0e, 0x3eea_9f28]
        );
        assert_eq!(sd[2].0, "out_proj.weight");
        assert_eq!(
            sd[2].1.bits()[..4],
            [0xbb75_5400, 0x3e89_545e, 0xbed2_b316, 0xbebc_6680]
        );
    }
}
