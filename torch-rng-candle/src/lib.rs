#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(clippy::pedantic)]
#![allow(clippy::doc_markdown, clippy::module_name_repetitions)]

use std::collections::HashMap;

use candle_core::{DType as CDType, Device, Shape};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use torch_rng::nn::Module;
use torch_rng::{DType, Storage, Tensor};

/// What can go wrong turning torch-rng tensors into candle ones.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// candle has no dtype for this tensor's (int8, bool, uint16, uint64): the tensor is refused,
    /// never converted. `name` is the `state_dict` name where there is one.
    UnsupportedDType {
        /// The tensor's name (empty for a lone tensor).
        name: String,
        /// Its torch-rng dtype.
        dtype: DType,
    },
    /// A [`Module`] of another class than the candle layer asked for.
    WrongClass {
        /// The class the function converts.
        expected: &'static str,
        /// The module's class.
        got: String,
    },
    /// A [`Module`] lacks a parameter the candle layer needs (`bias=False` for a layer that
    /// has a bias, say).
    MissingParameter {
        /// The module's class.
        class: String,
        /// The missing parameter.
        name: &'static str,
    },
    /// candle refused the data.
    Candle(candle_core::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::UnsupportedDType { name, dtype } if name.is_empty() => {
                write!(f, "candle has no dtype for {dtype} (not converted)")
            }
            Error::UnsupportedDType { name, dtype } => {
                write!(
                    f,
                    "'{name}': candle has no dtype for {dtype} (not converted)"
                )
            }
            Error::WrongClass { expected, got } => {
                write!(f, "expected a module of class {expected}, got {got}")
            }
            Error::MissingParameter { class, name } => {
                write!(f, "the {class} module has no parameter '{name}'")
            }
            Error::Candle(e) => write!(f, "candle: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Candle(e) => Some(e),
            _ => None,
        }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Error {
        Error::Candle(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// candle's dtype for a torch-rng dtype, or `None` where candle has none (int8, bool, uint16,
/// uint64).
#[must_use]
pub fn candle_dtype(dtype: DType) -> Option<CDType> {
    match dtype {
        DType::Float32 => Some(CDType::F32),
        DType::Float64 => Some(CDType::F64),
        DType::Float16 => Some(CDType::F16),
        DType::BFloat16 => Some(CDType::BF16),
        DType::Int64 => Some(CDType::I64),
        DType::Int32 => Some(CDType::I32),
        DType::Int16 => Some(CDType::I16),
        DType::UInt8 => Some(CDType::U8),
        DType::UInt32 => Some(CDType::U32),
        _ => None,
    }
}

fn unsupported(name: &str, dtype: DType) -> Error {
    Error::UnsupportedDType {
        name: name.to_string(),
        dtype,
    }
}

/// The candle tensor holding `t`'s elements, bit for bit, in `t`'s shape and dtype, on `device`.
///
/// # Errors
/// [`Error::UnsupportedDType`] for int8, bool, uint16 and uint64 (candle has no such dtype);
/// [`Error::Candle`] if candle refuses the data (a device out of memory, say).
pub fn tensor(t: &Tensor, device: &Device) -> Result<candle_core::Tensor> {
    named(t, "", device)
}

fn named(t: &Tensor, name: &str, device: &Device) -> Result<candle_core::Tensor> {
    let shape = Shape::from(t.shape().to_vec());
    let c = match t.storage() {
        Storage::F32(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::F64(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::F16(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::BF16(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::I64(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::I32(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::I16(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::U8(v) => candle_core::Tensor::from_slice(v, shape, device),
        Storage::U32(v) => candle_core::Tensor::from_slice(v, shape, device),
        _ => return Err(unsupported(name, t.dtype())),
    };
    Ok(c?)
}

/// Every tensor of a `state_dict` (`Module::state_dict`, `ModelDesc::state_dict`) as a candle
/// tensor under its PyTorch name. candle's layers (`candle_nn::linear`, `embedding`,
/// `layer_norm`, ...) take PyTorch's layouts and names, so nothing is transposed or renamed.
///
/// # Errors
/// As [`tensor`], naming the first tensor refused; nothing is returned then.
pub fn state_dict<'a>(
    sd: impl IntoIterator<Item = &'a (String, Tensor)>,
    device: &Device,
) -> Result<HashMap<String, candle_core::Tensor>> {
    sd.into_iter()
        .map(|(name, t)| Ok((name.clone(), named(t, name, device)?)))
        .collect()
}

/// A candle `VarBuilder` over a `state_dict`, for loading a model written with candle_nn
/// (`candle_nn::linear(in, out, vb.pp("fc1"))` reads `fc1.weight` and `fc1.bias`).
///
/// Unlike `VarBuilder::from_tensors`, which converts whatever it finds to the requested dtype,
/// this builder never converts: a `get` whose dtype (`dtype`, or the one a model sets with
/// `vb.to_dtype`) differs from the tensor's fails with candle's `UnexpectedDType` error, as does
/// a shape other than the one asked for (candle's `UnexpectedShape`) and a missing name
/// (`CannotFindTensor`). Build the weights in the dtype the model computes in (torch-rng's
/// `dtype(...)` on each module, or a description's `dtype`), or convert them yourself.
///
/// # Errors
/// As [`state_dict`].
pub fn var_builder<'a>(
    sd: impl IntoIterator<Item = &'a (String, Tensor)>,
    dtype: CDType,
    device: &Device,
) -> Result<VarBuilder<'static>> {
    let backend = StateDictBackend {
        tensors: state_dict(sd, device)?,
    };
    Ok(VarBuilder::from_backend(
        Box::new(backend),
        dtype,
        device.clone(),
    ))
}

/// The `VarBuilder` backend of [`var_builder`]: the tensors of a `state_dict`, handed out only
/// in their own dtype and shape.
#[derive(Debug)]
pub struct StateDictBackend {
    tensors: HashMap<String, candle_core::Tensor>,
}

impl StateDictBackend {
    /// A backend over tensors already in candle (from [`state_dict`]).
    #[must_use]
    pub fn new(tensors: HashMap<String, candle_core::Tensor>) -> StateDictBackend {
        StateDictBackend { tensors }
    }

    fn find(
        &self,
        name: &str,
        dtype: CDType,
        dev: &Device,
    ) -> candle_core::Result<candle_core::Tensor> {
        let t = self.tensors.get(name).ok_or_else(|| {
            candle_core::Error::CannotFindTensor {
                path: name.to_string(),
            }
            .bt()
        })?;
        if t.dtype() != dtype {
            return Err(candle_core::Error::UnexpectedDType {
                msg: "torch-rng-candle does not convert dtypes: build the weights in the dtype the model asks for",
                expected: dtype,
                got: t.dtype(),
            }
            .bt());
        }
        t.to_device(dev)
    }
}

impl SimpleBackend for StateDictBackend {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: CDType,
        dev: &Device,
    ) -> candle_core::Result<candle_core::Tensor> {
        let t = self.find(name, dtype, dev)?;
        if t.shape() != &s {
            return Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: s,
                got: t.shape().clone(),
            }
            .bt());
        }
        Ok(t)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: CDType,
        dev: &Device,
    ) -> candle_core::Result<candle_core::Tensor> {
        self.find(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

fn param<'m>(m: &'m Module, name: &'static str) -> Option<&'m Tensor> {
    m.params.iter().find(|(n, _)| n == name).map(|(_, t)| t)
}

fn class(m: &Module, expected: &'static str) -> Result<()> {
    if m.is_instance(expected) {
        Ok(())
    } else {
        Err(Error::WrongClass {
            expected,
            got: m.class.clone(),
        })
    }
}

fn required(m: &Module, name: &'static str, device: &Device) -> Result<candle_core::Tensor> {
    let t = param(m, name).ok_or_else(|| Error::MissingParameter {
        class: m.class.clone(),
        name,
    })?;
    named(t, name, device)
}

/// `candle_nn::Linear` from a built `nn.Linear` (weight `[out, in]`, as candle and PyTorch keep
/// it; the bias if the module has one).
///
/// # Errors
/// [`Error::WrongClass`] for another module, then as [`tensor`].
pub fn linear(m: &Module, device: &Device) -> Result<candle_nn::Linear> {
    class(m, "Linear")?;
    let bias = param(m, "bias")
        .map(|b| named(b, "bias", device))
        .transpose()?;
    Ok(candle_nn::Linear::new(required(m, "weight", device)?, bias))
}

/// `candle_nn::Embedding` from a built `nn.Embedding` (weight `[num_embeddings, dim]`).
///
/// # Errors
/// [`Error::WrongClass`] for another module, then as [`tensor`].
pub fn embedding(m: &Module, device: &Device) -> Result<candle_nn::Embedding> {
    class(m, "Embedding")?;
    let w = required(m, "weight", device)?;
    let dim = w.dims().last().copied().unwrap_or(0);
    Ok(candle_nn::Embedding::new(w, dim))
}

/// `candle_nn::LayerNorm` from a built `nn.LayerNorm` with `elementwise_affine` (weight and,
/// unless `bias=False`, bias). torch-rng keeps no `eps` in a built module: pass the one the
/// PyTorch model uses (its default is `1e-5`).
///
/// # Errors
/// [`Error::WrongClass`] for another module, [`Error::MissingParameter`] without
/// `elementwise_affine`, then as [`tensor`].
pub fn layer_norm(m: &Module, eps: f64, device: &Device) -> Result<candle_nn::LayerNorm> {
    class(m, "LayerNorm")?;
    let w = required(m, "weight", device)?;
    Ok(match param(m, "bias") {
        Some(b) => candle_nn::LayerNorm::new(w, named(b, "bias", device)?, eps),
        None => candle_nn::LayerNorm::new_no_bias(w, eps),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use torch_rng::nn::{self, Class};
    use torch_rng::Torch;

    #[test]
    fn every_dtype_is_converted_or_refused() {
        let dev = Device::Cpu;
        for d in DType::ALL {
            let t = Tensor::zeros(&[2, 3], d).unwrap();
            match (candle_dtype(d), tensor(&t, &dev)) {
                (Some(cd), Ok(c)) => {
                    assert_eq!(c.dtype(), cd);
                    assert_eq!(c.dims(), &[2, 3]);
                }
                (None, Err(Error::UnsupportedDType { dtype, .. })) => assert_eq!(dtype, d),
                (want, got) => panic!("{d}: {want:?} vs {got:?}"),
            }
        }
    }

    #[test]
    fn refusal_names_the_tensor() {
        let sd = vec![(
            "mask".to_string(),
            Tensor::zeros(&[2], DType::Bool).unwrap(),
        )];
        let e = state_dict(&sd, &Device::Cpu).unwrap_err();
        assert_eq!(
            e.to_string(),
            "'mask': candle has no dtype for bool (not converted)"
        );
    }

    #[test]
    fn bits_survive() {
        let mut torch = Torch::with_seed(1);
        for d in [
            DType::Float32,
            DType::Float64,
            DType::Float16,
            DType::BFloat16,
        ] {
            let t = torch.randn(&[5, 7], d).unwrap();
            let c = tensor(&t, &Device::Cpu).unwrap().flatten_all().unwrap();
            let bits: Vec<u64> = match d {
                DType::Float32 => c
                    .to_vec1::<f32>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits().into())
                    .collect(),
                DType::Float64 => c
                    .to_vec1::<f64>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect(),
                DType::Float16 => c
                    .to_vec1::<half::f16>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits().into())
                    .collect(),
                _ => c
                    .to_vec1::<half::bf16>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits().into())
                    .collect(),
            };
            assert_eq!(bits, t.bits(), "{d}");
        }
    }

    #[test]
    fn var_builder_refuses_another_dtype() {
        let mut torch = Torch::with_seed(0);
        let m = nn::Linear::new(3, 2).build(&mut torch).unwrap();
        let vb = var_builder(&m.state_dict(), CDType::F64, &Device::Cpu).unwrap();
        let e = candle_nn::linear(3, 2, vb).unwrap_err().to_string();
        assert!(e.contains("does not convert"), "{e}");
        let vb = var_builder(&m.state_dict(), CDType::F32, &Device::Cpu).unwrap();
        assert!(candle_nn::linear(2, 3, vb.clone()).is_err(), "wrong shape");
        assert!(candle_nn::linear(3, 2, vb).is_ok());
    }

    #[test]
    fn layers_check_the_class() {
        let mut torch = Torch::with_seed(0);
        let m = nn::Embedding::new(4, 3).build(&mut torch).unwrap();
        let e = linear(&m, &Device::Cpu).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a module of class Linear, got Embedding"
        );
        let ln = nn::LayerNorm::new(3)
            .elementwise_affine(false)
            .build(&mut torch)
            .unwrap();
        let e = layer_norm(&ln, 1e-5, &Device::Cpu).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the LayerNorm module has no parameter 'weight'"
        );
        assert!(embedding(&m, &Device::Cpu).is_ok());
    }
}
