//! `nn.Conv1d/2d/3d` and `nn.ConvTranspose1d/2d/3d`.

use super::build::Builder;
use super::linear::{kaiming_sqrt5, linear_bias_init};
use super::registry::{nn_class, Ints, Padding};
use super::{check_param_dtype, empty, empty_if, py_divmod, weight_and_bias, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init;

/// The arguments of a convolution that do not set its parameter shapes, plus the layout switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConvOptions {
    /// `ConvTranspose*d` rather than `Conv*d`.
    pub(crate) transposed: bool,
    /// `stride` per spatial dimension.
    pub(crate) stride: Vec<i64>,
    /// `padding`.
    pub(crate) padding: Padding,
    /// `groups`.
    pub(crate) groups: i64,
    /// `bias`.
    pub(crate) bias: bool,
    /// `padding_mode`: `zeros`, `reflect`, `replicate`, `circular` (`zeros` only for transposed
    /// convolutions).
    pub(crate) padding_mode: String,
}

macro_rules! conv_class {
    ($name:ident, $py:literal, $dims:literal) => {
        nn_class! {
            #[doc = concat!("`nn.", $py, "(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros', dtype=None)`." , "\n\nMirrors: `_ConvNd.__init__` and `_ConvNd.reset_parameters` in `torch/nn/modules/conv.py`.\nConsumes: `kaiming_uniform_(weight, a=sqrt(5))` (nothing if the weight has a zero dimension), then the bias `uniform_(±1/sqrt(fan_in))` with the weight's `fan_in`. With `fan_in = 0` the bias draws `out` words and stores zeros from 2.12; before, PyTorch skips the draw and leaves the bias uninitialised (zeros here, not comparable). Refused as PyTorch refuses, in its order: `groups ≤ 0`, channels not divisible by `groups`, a `'same'` padding with a stride, a bad `padding_mode`; then sizes and dtype.")]
            $name = $py {
                /// Channels of the input.
                in_channels: i64,
                /// Channels of the output.
                out_channels: i64,
                /// The kernel's size: one int for every dimension, or one per dimension.
                kernel_size: Ints;
                /// The stride.
                stride: Ints = Ints::from(1),
                /// `same`, `valid` or explicit padding (does not affect the parameters).
                padding: Padding = Padding::from(0),
                /// The dilation (does not affect the parameters).
                dilation: Ints = Ints::from(1),
                /// Groups of channels.
                groups: i64 = 1,
                /// Whether the layer has a bias.
                bias: bool = true,
                /// `zeros`, `reflect`, `replicate` or `circular`.
                padding_mode: String = "zeros".to_string(),
            }
        }

        impl $name {
            fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
                let opts = ConvOptions {
                    transposed: false,
                    stride: self.stride.expand($dims),
                    padding: match &self.padding {
                        Padding::Explicit(p) => Padding::Explicit(Ints(p.expand($dims))),
                        other => other.clone(),
                    },
                    groups: self.groups,
                    bias: self.bias,
                    padding_mode: self.padding_mode.clone(),
                };
                conv(
                    b,
                    $dims,
                    (self.in_channels, self.out_channels),
                    &self.kernel_size.expand($dims),
                    &opts,
                    self.param_dtype(),
                )
            }
        }
    };
}

macro_rules! conv_transpose_class {
    ($name:ident, $py:literal, $dims:literal) => {
        nn_class! {
            #[doc = concat!("`nn.", $py, "(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', dtype=None)`." , "\n\nMirrors: `_ConvNd.__init__` and `_ConvNd.reset_parameters` in `torch/nn/modules/conv.py`.\nConsumes: `kaiming_uniform_(weight, a=sqrt(5))` (nothing if the weight has a zero dimension), then the bias `uniform_(±1/sqrt(fan_in))` with the weight's `fan_in`. With `fan_in = 0` the bias draws `out` words and stores zeros from 2.12; before, PyTorch skips the draw and leaves the bias uninitialised (zeros here, not comparable). Refused as PyTorch refuses, in its order: `groups ≤ 0`, channels not divisible by `groups`, a `'same'` padding with a stride, a bad `padding_mode`; then sizes and dtype.")]
            $name = $py {
                /// Channels of the input.
                in_channels: i64,
                /// Channels of the output.
                out_channels: i64,
                /// The kernel's size: one int for every dimension, or one per dimension.
                kernel_size: Ints;
                /// The stride.
                stride: Ints = Ints::from(1),
                /// Explicit padding (does not affect the parameters).
                padding: Ints = Ints::from(0),
                /// Extra size of the output (does not affect the parameters).
                output_padding: Ints = Ints::from(0),
                /// Groups of channels.
                groups: i64 = 1,
                /// Whether the layer has a bias.
                bias: bool = true,
                /// The dilation (does not affect the parameters).
                dilation: Ints = Ints::from(1),
                /// Only `zeros` is accepted.
                padding_mode: String = "zeros".to_string(),
            }
        }

        impl $name {
            fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
                let opts = ConvOptions {
                    transposed: true,
                    stride: self.stride.expand($dims),
                    padding: Padding::Explicit(Ints(self.padding.expand($dims))),
                    groups: self.groups,
                    bias: self.bias,
                    padding_mode: self.padding_mode.clone(),
                };
                conv(
                    b,
                    $dims,
                    (self.in_channels, self.out_channels),
                    &self.kernel_size.expand($dims),
                    &opts,
                    self.param_dtype(),
                )
            }
        }
    };
}

conv_class!(Conv1d, "Conv1d", 1);
conv_class!(Conv2d, "Conv2d", 2);
conv_class!(Conv3d, "Conv3d", 3);
conv_transpose_class!(ConvTranspose1d, "ConvTranspose1d", 1);
conv_transpose_class!(ConvTranspose2d, "ConvTranspose2d", 2);
conv_transpose_class!(ConvTranspose3d, "ConvTranspose3d", 3);

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
pub(crate) fn conv(
    b: &mut Builder<'_>,
    dims: usize,
    (in_channels, out_channels): (i64, i64),
    kernel_size: &[i64],
    opts: &ConvOptions,
    dtype: DType,
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
    b.init_param("weight", &mut weight, &kaiming_sqrt5())?;
    if let Some(t) = &mut bias {
        let (fan_in, _) = init::calculate_fan_in_and_fan_out(weight.shape())?;
        // Before 2.12 a zero fan_in skipped the draw (the bias stays uninitialised memory).
        if fan_in > 0 || b.context().rules().conv_bias_without_fan_in {
            b.init_param("bias", t, &linear_bias_init(weight.shape())?)?;
        } else {
            b.note(
                "bias",
                t,
                "nothing (fan_in = 0: before 2.12 reset_parameters skips the bias)",
                "uninitialised memory in PyTorch; zeros here, not comparable",
                Some(0),
            );
        }
    }
    Ok(weight_and_bias(class, weight, bias))
}
