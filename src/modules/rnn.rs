//! `nn.RNN`, `nn.LSTM`, `nn.GRU` and their cells.

use super::explain::{init_param, ParamInit};
use super::{check_param_dtype, empty, Module};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::{InitCall, Number};
use crate::tensor::Tensor;

/// Which recurrent network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnMode {
    /// `RNN` with `nonlinearity='tanh'` (or `RNNCell`): one gate.
    RnnTanh,
    /// `RNN` with `nonlinearity='relu'`: one gate.
    RnnRelu,
    /// `LSTM`: four gates.
    Lstm,
    /// `GRU`: three gates.
    Gru,
}

impl RnnMode {
    fn gates(self) -> i64 {
        match self {
            RnnMode::RnnTanh | RnnMode::RnnRelu => 1,
            RnnMode::Lstm => 4,
            RnnMode::Gru => 3,
        }
    }

    fn class(self, cell: bool) -> &'static str {
        match (self, cell) {
            (RnnMode::RnnTanh | RnnMode::RnnRelu, false) => "RNN",
            (RnnMode::Lstm, false) => "LSTM",
            (RnnMode::Gru, false) => "GRU",
            (RnnMode::RnnTanh | RnnMode::RnnRelu, true) => "RNNCell",
            (RnnMode::Lstm, true) => "LSTMCell",
            (RnnMode::Gru, true) => "GRUCell",
        }
    }
}

/// The options of `RNN`/`LSTM`/`GRU` besides the sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct RnnOptions {
    /// `num_layers` (1).
    pub num_layers: i64,
    /// `bias` (true).
    pub bias: bool,
    /// `dropout` (0; must lie in [0, 1]).
    pub dropout: f64,
    /// `bidirectional` (false).
    pub bidirectional: bool,
    /// `proj_size` (0; LSTM only).
    pub proj_size: i64,
}

impl Default for RnnOptions {
    fn default() -> RnnOptions {
        RnnOptions {
            num_layers: 1,
            bias: true,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
        }
    }
}

fn reset(g: &mut CpuGenerator, m: &mut Module, hidden_size: i64, cx: Context) -> Result<()> {
    let stdv = if hidden_size > 0 {
        1.0 / (hidden_size as f64).sqrt()
    } else {
        0.0
    };
    let how = ParamInit::new(InitCall::Uniform { a: -stdv, b: stdv })
        .with("hidden_size", "hidden_size", Number::Int(hidden_size))
        .with(
            "stdv",
            "1 / sqrt(hidden_size) (0.0 if hidden_size is 0)",
            Number::Float(stdv),
        );
    for (name, p) in &mut m.params {
        init_param(g, name, p, how.clone(), cx)?;
    }
    Ok(())
}

/// `nn.RNN`/`nn.LSTM`/`nn.GRU(input_size, hidden_size, ...)`. `batch_first` plays no part.
///
/// Mirrors: `RNNBase.__init__` and `RNNBase.reset_parameters` in `torch/nn/modules/rnn.py`.
/// Consumes: every registered parameter in registration order (layer, direction, then
/// `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr`) gets
/// `uniform_(±1/sqrt(hidden_size))`: one continuous stream.
///
/// # Errors
/// As PyTorch 2.15, in its order: `dropout` outside [0, 1], `input_size ≤ 0`, `hidden_size ≤ 0`,
/// `num_layers ≤ 0`, `proj_size < 0`, `proj_size ≥ hidden_size`, `proj_size` on RNN/GRU.
pub fn rnn(
    g: &mut CpuGenerator,
    mode: RnnMode,
    input_size: i64,
    hidden_size: i64,
    opts: &RnnOptions,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let class = mode.class(false);
    let op = format!("nn.{class}");
    let fail = |r: &str| Err(Error::arg(op.clone(), r.to_string()));
    if opts.proj_size != 0 && mode != RnnMode::Lstm {
        return fail("proj_size argument is only supported for LSTM, not RNN or GRU");
    }
    if !(0.0..=1.0).contains(&opts.dropout) {
        return fail(
            "dropout should be a number in range [0, 1] representing the probability of an \
             element being zeroed",
        );
    }
    if input_size <= 0 {
        return fail("input_size must be greater than zero");
    }
    if hidden_size <= 0 {
        return fail("hidden_size must be greater than zero");
    }
    if opts.num_layers <= 0 {
        return fail("num_layers must be greater than zero");
    }
    if opts.proj_size < 0 {
        return fail("proj_size should be a positive integer or zero to disable projections");
    }
    if opts.proj_size >= hidden_size {
        return fail("proj_size has to be smaller than hidden_size");
    }
    check_param_dtype(&op, dtype)?;
    let gate = mode.gates() * hidden_size;
    let dirs = if opts.bidirectional { 2 } else { 1 };
    let real_hidden = if opts.proj_size > 0 {
        opts.proj_size
    } else {
        hidden_size
    };
    let mut m = Module::new(class);
    for layer in 0..opts.num_layers {
        for dir in 0..dirs {
            let in_size = if layer == 0 {
                input_size
            } else {
                real_hidden * dirs
            };
            let sfx = if dir == 1 { "_reverse" } else { "" };
            let mut add = |name: &str, shape: &[i64]| -> Result<()> {
                let t: Tensor = empty(&op, shape, dtype)?;
                m.params.push((format!("{name}_l{layer}{sfx}"), t));
                Ok(())
            };
            add("weight_ih", &[gate, in_size])?;
            add("weight_hh", &[gate, real_hidden])?;
            if opts.bias {
                add("bias_ih", &[gate])?;
                add("bias_hh", &[gate])?;
            }
            if opts.proj_size > 0 {
                add("weight_hr", &[opts.proj_size, hidden_size])?;
            }
        }
    }
    reset(g, &mut m, hidden_size, cx)?;
    Ok(m)
}

/// `nn.RNNCell`/`nn.LSTMCell`/`nn.GRUCell(input_size, hidden_size, bias)` (`RnnTanh` and
/// `RnnRelu` both mean `RNNCell`; its nonlinearity is checked only in `forward`).
///
/// Mirrors: `RNNCellBase.__init__` and `reset_parameters` in `torch/nn/modules/rnn.py`.
/// Consumes: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` in that order, each
/// `uniform_(±1/sqrt(hidden_size))`.
///
/// # Errors
/// Negative sizes, a non-float dtype.
pub fn rnn_cell(
    g: &mut CpuGenerator,
    mode: RnnMode,
    input_size: i64,
    hidden_size: i64,
    bias: bool,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let class = mode.class(true);
    let op = format!("nn.{class}");
    check_param_dtype(&op, dtype)?;
    let gate = mode.gates() * hidden_size;
    let mut m = Module::new(class);
    m.params
        .push(("weight_ih".into(), empty(&op, &[gate, input_size], dtype)?));
    m.params
        .push(("weight_hh".into(), empty(&op, &[gate, hidden_size], dtype)?));
    if bias {
        m.params
            .push(("bias_ih".into(), empty(&op, &[gate], dtype)?));
        m.params
            .push(("bias_hh".into(), empty(&op, &[gate], dtype)?));
    }
    reset(g, &mut m, hidden_size, cx)?;
    Ok(m)
}
