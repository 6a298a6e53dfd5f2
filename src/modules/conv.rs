//! `nn.Conv1d/2d/3d` and `nn.ConvTranspose1d/2d/3d`.

use super::explain::{init_param, note_step};
use super::linear::{kaiming_sqrt5, linear_bias_init};
use super::{check_param_dtype, empty, empty_if, py_divmod, weight_and_bias, Module};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init;

/// A convolution's `padding` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Explicit padding per spatial dimension (does not affect the parameters).
    Explicit(Vec<i64>),
    /// `padding='same'` (refused with a stride other than 1, as PyTorch does).
    Same,
    /// `padding='valid'`.
    Valid,
}

/// The arguments of a convolution that do not set its parameter shapes, plus the layout switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// `ConvTranspose*d` rather than `Conv*d`.
    pub transposed: bool,
    /// `stride` per spatial dimension (empty: all 1).
    pub stride: Vec<i64>,
    /// `padding`.
    pub padding: Padding,
    /// `groups` (1).
    pub groups: i64,
    /// `bias` (true).
    pub bias: bool,
    /// `padding_mode`: `zeros` (default), `reflect`, `replicate`, `circular` (`zeros` only for
    /// transposed convolutions).
    pub padding_mode: String,
}

impl Default for ConvOptions {
    fn default() -> ConvOptions {
        ConvOptions {
            transposed: false,
            stride: Vec::new(),
            padding: Padding::Explicit(Vec::new()),
            groups: 1,
            bias: true,
            padding_mode: "zeros".to_string(),
        }
    }
}

/// `nn.Conv{dims}d(in_channels, out_channels, kernel_size, ...)` or, with `opts.transposed`,
/// `nn.ConvTranspose{dims}d(...)`. `kernel_size` is used as given (PyTorch's `_ntuple` keeps a
/// list as it is; the caller repeats an int `dims` times).
///
/// Mirrors: `_ConvNd.__init__` and `_ConvNd.reset_parameters` in `torch/nn/modules/conv.py`.
/// Consumes: `kaiming_uniform_(weight, a=sqrt(5))` (nothing if the weight has a zero dimension),
/// then the bias `uniform_(±1/sqrt(fan_in))` with the weight's `fan_in`. With `fan_in = 0` the
/// bias draws `out` words and stores zeros from 2.12 (`Era::R3`); before, PyTorch skips the draw
/// and leaves the bias uninitialised (zeros here, not comparable).
///
/// # Errors
/// As PyTorch, in its order: `groups ≤ 0`, channels not divisible by `groups`, a `'same'` padding
/// with a stride, a bad `padding_mode`; then sizes and dtype.
pub fn conv(
    g: &mut CpuGenerator,
    dims: usize,
    in_channels: i64,
    out_channels: i64,
    kernel_size: &[i64],
    opts: &ConvOptions,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let class = format!(
        "Conv{}{dims}d",
        if opts.transposed { "Transpose" } else { "" }
    );
    let op = format!("nn.{class}");
    let op = op.as_str();
    if opts.transposed && opts.padding_mode != "zeros" {
        return Err(Error::arg(
            op,
            format!("Only \"zeros\" padding mode is supported for {class}"),
        ));
    }
    if opts.groups <= 0 {
        return Err(Error::arg(op, "groups must be a positive integer"));
    }
    if py_divmod(in_channels, opts.groups).1 != 0 {
        return Err(Error::arg(op, "in_channels must be divisible by groups"));
    }
    if py_divmod(out_channels, opts.groups).1 != 0 {
        return Err(Error::arg(op, "out_channels must be divisible by groups"));
    }
    if opts.padding == Padding::Same && opts.stride.iter().any(|&s| s != 1) {
        return Err(Error::arg(
            op,
            "padding='same' is not supported for strided convolutions",
        ));
    }
    if !["zeros", "reflect", "replicate", "circular"].contains(&opts.padding_mode.as_str()) {
        return Err(Error::arg(
            op,
            format!(
                "padding_mode must be one of zeros, reflect, replicate, circular, but got \
                 padding_mode='{}'",
                opts.padding_mode
            ),
        ));
    }
    check_param_dtype(op, dtype)?;
    let mut shape = if opts.transposed {
        vec![in_channels, py_divmod(out_channels, opts.groups).0]
    } else {
        vec![out_channels, py_divmod(in_channels, opts.groups).0]
    };
    shape.extend_from_slice(kernel_size);
    let mut weight = empty(op, &shape, dtype)?;
    let mut bias = empty_if(op, opts.bias, &[out_channels], dtype)?;
    init_param(g, "weight", &mut weight, kaiming_sqrt5(), cx)?;
    if let Some(b) = &mut bias {
        let (fan_in, _) = init::calculate_fan_in_and_fan_out(weight.shape())?;
        // Before 2.12 a zero fan_in skipped the draw (the bias stays uninitialised memory).
        if fan_in > 0 || cx.rules().conv_bias_without_fan_in {
            init_param(g, "bias", b, linear_bias_init(weight.shape())?, cx)?;
        } else {
            note_step(
                "bias",
                b,
                "nothing (fan_in = 0: before 2.12 reset_parameters skips the bias)",
                "uninitialised memory in PyTorch; zeros here, not comparable",
                Some(0),
            );
        }
    }
    Ok(weight_and_bias(class, weight, bias))
}
