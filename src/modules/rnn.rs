//! `nn.RNN`, `nn.LSTM`, `nn.GRU` and their cells.

use super::build::{Builder, ParamInit};
use super::registry::nn_class;
use super::{check_param_dtype, empty, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::{InitCall, Number};

/// Which recurrent network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RnnMode {
    /// One gate (`RNN`, `RNNCell`).
    Rnn,
    /// Four gates.
    Lstm,
    /// Three gates.
    Gru,
}

impl RnnMode {
    fn gates(self) -> i64 {
        match self {
            RnnMode::Rnn => 1,
            RnnMode::Lstm => 4,
            RnnMode::Gru => 3,
        }
    }
}

/// `reset_parameters`: every parameter, in registration order, `uniform_(±1/sqrt(hidden_size))`.
fn reset(b: &mut Builder<'_>, m: &mut Module, hidden_size: i64) -> Result<()> {
    let stdv = if hidden_size > 0 {
        1.0 / (hidden_size as f64).sqrt()
    } else {
        0.0
    };
    let how = ParamInit::new(InitCall::Uniform { a: -stdv, b: stdv })
        .with(
            "hidden_size",
            "hidden_size",
            Number::Int(i128::from(hidden_size)),
        )
        .with(
            "stdv",
            "1 / sqrt(hidden_size) (0.0 if hidden_size is 0)",
            Number::Float(stdv),
        );
    for (name, p) in &mut m.params {
        b.init_param(name, p, &how)?;
    }
    Ok(())
}

/// The arguments of `RNN`/`LSTM`/`GRU` that shape the parameters.
struct Stack {
    mode: RnnMode,
    class: &'static str,
    input_size: i64,
    hidden_size: i64,
    num_layers: i64,
    bias: bool,
    dropout: f64,
    bidirectional: bool,
    proj_size: i64,
}

/// `RNNBase.__init__` then `reset_parameters`.
///
/// Mirrors: `RNNBase.__init__` and `RNNBase.reset_parameters` in `torch/nn/modules/rnn.py`.
/// Consumes: every registered parameter in registration order (layer, direction, then
/// `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr`) gets
/// `uniform_(±1/sqrt(hidden_size))`: one continuous stream.
///
/// Checks as PyTorch 2.15, in its order: `dropout` outside [0, 1], `input_size ≤ 0`,
/// `hidden_size ≤ 0`, `num_layers ≤ 0`, `proj_size < 0`, `proj_size ≥ hidden_size`, `proj_size`
/// on RNN/GRU.
fn layers(b: &mut Builder<'_>, o: &Stack, dtype: DType) -> Result<Module> {
    let op = format!("nn.{}", o.class);
    let fail = |r: &str| Err(Error::arg(op.clone(), r.to_string()));
    if o.proj_size != 0 && o.mode != RnnMode::Lstm {
        return fail("proj_size argument is only supported for LSTM, not RNN or GRU");
    }
    if !(0.0..=1.0).contains(&o.dropout) {
        return fail(
            "dropout should be a number in range [0, 1] representing the probability of an \
             element being zeroed",
        );
    }
    if o.input_size <= 0 {
        return fail("input_size must be greater than zero");
    }
    if o.hidden_size <= 0 {
        return fail("hidden_size must be greater than zero");
    }
    if o.num_layers <= 0 {
        return fail("num_layers must be greater than zero");
    }
    if o.proj_size < 0 {
        return fail("proj_size should be a positive integer or zero to disable projections");
    }
    if o.proj_size >= o.hidden_size {
        return fail("proj_size has to be smaller than hidden_size");
    }
    check_param_dtype(&op, dtype)?;
    let gate = o.mode.gates() * o.hidden_size;
    let dirs = if o.bidirectional { 2 } else { 1 };
    let real_hidden = if o.proj_size > 0 {
        o.proj_size
    } else {
        o.hidden_size
    };
    let mut m = Module::new(o.class);
    for layer in 0..o.num_layers {
        for dir in 0..dirs {
            let in_size = if layer == 0 {
                o.input_size
            } else {
                real_hidden * dirs
            };
            let sfx = if dir == 1 { "_reverse" } else { "" };
            let mut add = |name: &str, shape: &[i64]| -> Result<()> {
                m.params
                    .push((format!("{name}_l{layer}{sfx}"), empty(&op, shape, dtype)?));
                Ok(())
            };
            add("weight_ih", &[gate, in_size])?;
            add("weight_hh", &[gate, real_hidden])?;
            if o.bias {
                add("bias_ih", &[gate])?;
                add("bias_hh", &[gate])?;
            }
            if o.proj_size > 0 {
                add("weight_hr", &[o.proj_size, o.hidden_size])?;
            }
        }
    }
    reset(b, &mut m, o.hidden_size)?;
    Ok(m)
}

nn_class! {
    /// `nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    /// batch_first=False, dropout=0.0, bidirectional=False, dtype=None)`; draws as `RNNBase`.
    RNN = "RNN" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Stacked layers.
        num_layers: i64 = 1,
        /// `tanh` or `relu`.
        nonlinearity: String = "tanh".to_string(),
        /// Whether the layers have biases.
        bias: bool = true,
        /// No part at construction.
        batch_first: bool = false,
        /// Dropout between layers (checked to lie in [0, 1]).
        dropout: f64 = 0.0,
        /// Two directions per layer.
        bidirectional: bool = false,
    }
}

impl RNN {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        if self.nonlinearity != "tanh" && self.nonlinearity != "relu" {
            return Err(Error::arg(
                "nn.RNN",
                format!(
                    "Unknown nonlinearity '{}'. Select from 'tanh' or 'relu'.",
                    self.nonlinearity
                ),
            ));
        }
        let o = Stack {
            mode: RnnMode::Rnn,
            class: "RNN",
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bias: self.bias,
            dropout: self.dropout,
            bidirectional: self.bidirectional,
            proj_size: 0,
        };
        layers(b, &o, self.param_dtype())
    }
}

nn_class! {
    /// `nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    /// bidirectional=False, proj_size=0, dtype=None)`; draws as `RNNBase`.
    LSTM = "LSTM" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Stacked layers.
        num_layers: i64 = 1,
        /// Whether the layers have biases.
        bias: bool = true,
        /// No part at construction.
        batch_first: bool = false,
        /// Dropout between layers (checked to lie in [0, 1]).
        dropout: f64 = 0.0,
        /// Two directions per layer.
        bidirectional: bool = false,
        /// Size of the projected hidden state (0: no projection).
        proj_size: i64 = 0,
    }
}

impl LSTM {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let o = Stack {
            mode: RnnMode::Lstm,
            class: "LSTM",
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bias: self.bias,
            dropout: self.dropout,
            bidirectional: self.bidirectional,
            proj_size: self.proj_size,
        };
        layers(b, &o, self.param_dtype())
    }
}

nn_class! {
    /// `nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    /// bidirectional=False, dtype=None)`; draws as `RNNBase`.
    GRU = "GRU" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Stacked layers.
        num_layers: i64 = 1,
        /// Whether the layers have biases.
        bias: bool = true,
        /// No part at construction.
        batch_first: bool = false,
        /// Dropout between layers (checked to lie in [0, 1]).
        dropout: f64 = 0.0,
        /// Two directions per layer.
        bidirectional: bool = false,
    }
}

impl GRU {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let o = Stack {
            mode: RnnMode::Gru,
            class: "GRU",
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bias: self.bias,
            dropout: self.dropout,
            bidirectional: self.bidirectional,
            proj_size: 0,
        };
        layers(b, &o, self.param_dtype())
    }
}

/// `RNNCellBase.__init__` then `reset_parameters`.
///
/// Mirrors: `RNNCellBase.__init__` and `reset_parameters` in `torch/nn/modules/rnn.py`.
/// Consumes: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` in that order, each
/// `uniform_(±1/sqrt(hidden_size))`.
fn cell(
    b: &mut Builder<'_>,
    (mode, class): (RnnMode, &str),
    (input_size, hidden_size): (i64, i64),
    bias: bool,
    dtype: DType,
) -> Result<Module> {
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
    reset(b, &mut m, hidden_size)?;
    Ok(m)
}

nn_class! {
    /// `nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', dtype=None)` (the
    /// nonlinearity is checked only in `forward`).
    RNNCell = "RNNCell" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Whether the cell has biases.
        bias: bool = true,
        /// `tanh` or `relu` (checked in `forward`, not at construction).
        nonlinearity: String = "tanh".to_string(),
    }
}

impl RNNCell {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        cell(
            b,
            (RnnMode::Rnn, "RNNCell"),
            (self.input_size, self.hidden_size),
            self.bias,
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.LSTMCell(input_size, hidden_size, bias=True, dtype=None)`.
    LSTMCell = "LSTMCell" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Whether the cell has biases.
        bias: bool = true,
    }
}

impl LSTMCell {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        cell(
            b,
            (RnnMode::Lstm, "LSTMCell"),
            (self.input_size, self.hidden_size),
            self.bias,
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.GRUCell(input_size, hidden_size, bias=True, dtype=None)`.
    GRUCell = "GRUCell" {
        /// Features of the input.
        input_size: i64,
        /// Features of the hidden state.
        hidden_size: i64;
        /// Whether the cell has biases.
        bias: bool = true,
    }
}

impl GRUCell {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        cell(
            b,
            (RnnMode::Gru, "GRUCell"),
            (self.input_size, self.hidden_size),
            self.bias,
            self.param_dtype(),
        )
    }
}
