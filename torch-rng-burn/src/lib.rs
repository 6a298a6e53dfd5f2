#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(clippy::pedantic)]
#![allow(clippy::doc_markdown, clippy::module_name_repetitions)]

use std::collections::HashMap;

use burn::module::Module as BurnModule;
use burn::store::{bridge, BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter};
use burn::tensor::{BoolStore, DType as BDType, TensorData};
use half::{bf16, f16};
use torch_rng::nn::StateDict;
use torch_rng::{DType, Storage, Tensor};

/// What can go wrong loading a torch-rng `state_dict` into a burn module, or reading one back.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// Parameters of the burn module that the `state_dict` lacks (by PyTorch name, sorted).
    Missing(Vec<String>),
    /// Tensors of the `state_dict` that the burn module has no parameter for (sorted).
    Unused(Vec<String>),
    /// A tensor whose dtype differs from the burn parameter's: nothing is converted.
    DType {
        /// The PyTorch name.
        name: String,
        /// The burn parameter's dtype.
        expected: BDType,
        /// The tensor's dtype.
        got: DType,
    },
    /// A tensor whose shape (in PyTorch's layout) differs from the burn parameter's.
    Shape {
        /// The PyTorch name.
        name: String,
        /// The burn parameter's shape, in PyTorch's layout.
        expected: Vec<usize>,
        /// The tensor's shape.
        got: Vec<usize>,
    },
    /// Something burn reported (a failed load, a burn dtype torch-rng does not have when reading
    /// back: `Flex32` or quantized).
    Burn(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Missing(names) => write!(
                f,
                "the state_dict has no tensor for the burn parameters {}",
                names.join(", ")
            ),
            Error::Unused(names) => write!(
                f,
                "the burn module has no parameter for the state_dict tensors {}",
                names.join(", ")
            ),
            Error::DType {
                name,
                expected,
                got,
            } => write!(
                f,
                "'{name}' is {got} but the burn parameter is {expected:?} (not converted)"
            ),
            Error::Shape {
                name,
                expected,
                got,
            } => write!(
                f,
                "'{name}' has shape {got:?} but the burn parameter needs {expected:?} (in PyTorch's layout)"
            ),
            Error::Burn(msg) => write!(f, "burn: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// burn's dtype for a torch-rng dtype. burn has all thirteen torch-rng has today (bool as its
/// native bool store); `None` is for a dtype torch-rng may add later.
#[must_use]
pub fn burn_dtype(dtype: DType) -> Option<BDType> {
    Some(match dtype {
        DType::Float32 => BDType::F32,
        DType::Float64 => BDType::F64,
        DType::Float16 => BDType::F16,
        DType::BFloat16 => BDType::BF16,
        DType::Int64 => BDType::I64,
        DType::Int32 => BDType::I32,
        DType::Int16 => BDType::I16,
        DType::Int8 => BDType::I8,
        DType::UInt8 => BDType::U8,
        DType::Bool => BDType::Bool(BoolStore::Native),
        DType::UInt16 => BDType::U16,
        DType::UInt32 => BDType::U32,
        DType::UInt64 => BDType::U64,
        _ => return None,
    })
}

fn same_dtype(b: BDType, t: DType) -> bool {
    match (b, t) {
        (BDType::Bool(_), DType::Bool) => true,
        (b, t) => Some(b) == burn_dtype(t),
    }
}

/// `t` as burn `TensorData`, bit for bit, in `t`'s shape (PyTorch's layout) and dtype.
///
/// # Errors
/// [`Error::Burn`] for a dtype burn lacks (none of torch-rng's today).
pub fn tensor_data(t: &Tensor) -> Result<TensorData> {
    let shape = t.shape().to_vec();
    Ok(match t.storage() {
        Storage::F32(v) => TensorData::new(v.clone(), shape),
        Storage::F64(v) => TensorData::new(v.clone(), shape),
        Storage::F16(v) => TensorData::new(v.clone(), shape),
        Storage::BF16(v) => TensorData::new(v.clone(), shape),
        Storage::I64(v) => TensorData::new(v.clone(), shape),
        Storage::I32(v) => TensorData::new(v.clone(), shape),
        Storage::I16(v) => TensorData::new(v.clone(), shape),
        Storage::I8(v) => TensorData::new(v.clone(), shape),
        Storage::U8(v) => TensorData::new(v.clone(), shape),
        Storage::Bool(v) => TensorData::new(v.clone(), shape),
        Storage::U16(v) => TensorData::new(v.clone(), shape),
        Storage::U32(v) => TensorData::new(v.clone(), shape),
        Storage::U64(v) => TensorData::new(v.clone(), shape),
        _ => return Err(Error::Burn(format!("no burn dtype for {}", t.dtype()))),
    })
}

/// burn `TensorData` back as a torch-rng tensor, bit for bit.
///
/// # Errors
/// [`Error::Burn`] for a dtype torch-rng does not have (`Flex32`, quantized) or data burn cannot
/// read as its dtype.
pub fn from_tensor_data(d: &TensorData) -> Result<Tensor> {
    fn vec<T: burn::tensor::Element>(d: &TensorData) -> Result<Vec<T>> {
        d.as_slice::<T>()
            .map(<[T]>::to_vec)
            .map_err(|e| Error::Burn(format!("{e:?}")))
    }
    let storage = match d.dtype() {
        BDType::F32 => Storage::F32(vec(d)?),
        BDType::F64 => Storage::F64(vec(d)?),
        BDType::F16 => Storage::F16(vec::<f16>(d)?),
        BDType::BF16 => Storage::BF16(vec::<bf16>(d)?),
        BDType::I64 => Storage::I64(vec(d)?),
        BDType::I32 => Storage::I32(vec(d)?),
        BDType::I16 => Storage::I16(vec(d)?),
        BDType::I8 => Storage::I8(vec(d)?),
        BDType::U8 => Storage::U8(vec(d)?),
        BDType::U16 => Storage::U16(vec(d)?),
        BDType::U32 => Storage::U32(vec(d)?),
        BDType::U64 => Storage::U64(vec(d)?),
        BDType::Bool(BoolStore::Native) => Storage::Bool(vec(d)?),
        other => {
            return Err(Error::Burn(format!(
                "no torch-rng dtype for burn's {other:?}"
            )))
        }
    };
    Tensor::new(d.shape().to_vec(), storage).map_err(|e| Error::Burn(e.to_string()))
}

/// The burn module's parameters as PyTorch names them and lays them out (burn-store's
/// `BurnToPyTorchAdapter`: `Linear` weights transposed to `[out, in]`, norm `gamma`/`beta` named
/// `weight`/`bias`), with their dtypes and shapes, without reading their data.
fn expected<M: BurnModule>(model: &M) -> HashMap<String, (BDType, Vec<usize>)> {
    model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|t| (t.name.clone(), (t.dtype, t.shape.to_vec())))
        .collect()
}

/// Loads a PyTorch `state_dict` (from torch-rng: `Module::state_dict`, `ModelDesc::state_dict`)
/// into a burn module written with `burn::nn` layers named as the PyTorch module's attributes.
///
/// Layouts are converted where burn's differ from PyTorch's, by burn-store's
/// `PyTorchToBurnAdapter`: a `burn::nn::Linear` keeps its weight as `[in, out]` (it computes
/// `x W + b`), PyTorch as `[out, in]`, so every Linear weight is transposed; `LayerNorm`,
/// `BatchNorm`, `GroupNorm` and `RmsNorm` call their affine parameters `gamma`/`beta` where
/// PyTorch says `weight`/`bias`, so those are matched by PyTorch's names. `Embedding` (`[num,
/// dim]`) and convolution weights (`[out, in/groups, k...]`) are the same in both. Values are not
/// touched: a transposition moves bits, it does not round them.
///
/// Strict, before anything is written: every burn parameter must have a tensor and every tensor a
/// parameter, with the parameter's dtype (nothing is converted: burn-store would otherwise keep a
/// float64 tensor as float64 in a float32 model) and its shape in PyTorch's layout.
///
/// # Errors
/// [`Error::Missing`], [`Error::Unused`], [`Error::DType`], [`Error::Shape`] as above (the model
/// is then unchanged); [`Error::Burn`] if burn-store reports a failure while loading.
pub fn load<M: BurnModule>(model: &mut M, sd: &StateDict) -> Result<()> {
    let want = expected(model);
    let mut missing: Vec<String> = want
        .keys()
        .filter(|k| !sd.iter().any(|(n, _)| n == *k))
        .cloned()
        .collect();
    if !missing.is_empty() {
        missing.sort();
        return Err(Error::Missing(missing));
    }
    let mut unused: Vec<String> = sd
        .iter()
        .filter(|(n, _)| !want.contains_key(n))
        .map(|(n, _)| n.clone())
        .collect();
    if !unused.is_empty() {
        unused.sort();
        return Err(Error::Unused(unused));
    }
    for (name, t) in sd {
        let (dtype, shape) = &want[name];
        if !same_dtype(*dtype, t.dtype()) {
            return Err(Error::DType {
                name: name.clone(),
                expected: *dtype,
                got: t.dtype(),
            });
        }
        if shape.as_slice() != t.shape() {
            return Err(Error::Shape {
                name: name.clone(),
                expected: shape.clone(),
                got: t.shape().to_vec(),
            });
        }
    }
    let tensors = sd
        .iter()
        .map(|(name, t)| Ok(bridge::from_data(tensor_data(t)?, name.clone(), None)))
        .collect::<Result<_>>()?;
    let result = model.apply(tensors, None, Some(Box::new(PyTorchToBurnAdapter)), false);
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(Error::Burn(result.to_string()));
    }
    Ok(())
}

/// The burn module's parameters as a PyTorch `state_dict` would hold them: PyTorch's names and
/// layouts (the inverse of [`load`]: Linear weights transposed back to `[out, in]`, `gamma`/`beta`
/// named `weight`/`bias`), sorted by name (burn has no `state_dict` order). Reads every tensor
/// back from its device.
///
/// # Errors
/// [`Error::Burn`] if a tensor cannot be read or has a dtype torch-rng lacks.
pub fn state_dict<M: BurnModule>(model: &M) -> Result<StateDict> {
    let mut out = model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            let data = bridge::into_data(t).map_err(|e| Error::Burn(format!("{name}: {e:?}")))?;
            Ok((name, from_tensor_data(&data)?))
        })
        .collect::<Result<StateDict>>()?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{LayerNormConfig, LinearConfig};
    use burn::tensor::Device;
    use torch_rng::nn::{self, Class};
    use torch_rng::Torch;

    #[derive(burn::module::Module, Debug)]
    struct Net {
        fc: burn::nn::Linear,
        norm: burn::nn::LayerNorm,
    }

    fn net(device: &Device) -> Net {
        Net {
            fc: LinearConfig::new(3, 4).init(device),
            norm: LayerNormConfig::new(4).init(device),
        }
    }

    fn torch_net(torch: &mut Torch, dtype: DType) -> StateDict {
        let mut m = nn::Module::new("Net");
        m.children = vec![
            (
                "fc".into(),
                nn::Linear::new(3, 4).dtype(dtype).build(torch).unwrap(),
            ),
            (
                "norm".into(),
                nn::LayerNorm::new(4).dtype(dtype).build(torch).unwrap(),
            ),
        ];
        m.into_state_dict()
    }

    #[test]
    fn every_dtype_round_trips() {
        let mut torch = Torch::with_seed(3);
        for d in DType::ALL {
            let mut t = Tensor::zeros(&[2, 3], d).unwrap();
            if d.is_float() {
                torch.uniform_(&mut t, -2.0, 2.0).unwrap();
            } else if d != DType::Bool {
                torch.random_from_to_(&mut t, 0, Some(100)).unwrap();
            }
            let data = tensor_data(&t).unwrap();
            assert!(same_dtype(data.dtype(), d), "{d}");
            assert_eq!(from_tensor_data(&data).unwrap(), t, "{d}");
        }
    }

    #[test]
    fn load_transposes_linear_and_renames_norms() {
        let device = Device::default();
        let sd = torch_net(&mut Torch::with_seed(0), DType::Float32);
        let mut model = net(&device);
        load(&mut model, &sd).unwrap();
        let w = model.fc.weight.val().into_data();
        assert_eq!(w.shape().to_vec(), vec![3, 4], "burn keeps [in, out]");
        let w: Vec<f32> = w.try_to_vec().unwrap();
        let torch_w = sd[0].1.as_f32().unwrap();
        for o in 0..4 {
            for i in 0..3 {
                assert_eq!(w[i * 4 + o].to_bits(), torch_w[o * 3 + i].to_bits());
            }
        }
        let mut back = state_dict(&model).unwrap();
        let mut want = sd.clone();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        back.iter_mut()
            .zip(&want)
            .for_each(|(b, w)| assert_eq!(b, w));
    }

    #[test]
    fn load_refuses_what_does_not_fit() {
        let device = Device::default();
        let mut torch = Torch::with_seed(0);
        let sd = torch_net(&mut torch, DType::Float64);
        let e = load(&mut net(&device), &sd).unwrap_err().to_string();
        assert!(
            e.contains("is float64 but the burn parameter is F32"),
            "{e}"
        );

        let mut sd = torch_net(&mut torch, DType::Float32);
        let extra = sd[0].1.clone();
        sd.push(("extra.weight".into(), extra));
        let e = load(&mut net(&device), &sd).unwrap_err().to_string();
        assert_eq!(
            e,
            "the burn module has no parameter for the state_dict tensors extra.weight"
        );

        let sd = torch_net(&mut torch, DType::Float32)[1..].to_vec();
        let e = load(&mut net(&device), &sd).unwrap_err().to_string();
        assert_eq!(
            e,
            "the state_dict has no tensor for the burn parameters fc.weight"
        );

        let mut sd = torch_net(&mut torch, DType::Float32);
        sd[0].1 = Tensor::zeros(&[3, 4], DType::Float32).unwrap();
        let e = load(&mut net(&device), &sd).unwrap_err().to_string();
        assert!(
            e.contains("'fc.weight' has shape [3, 4] but the burn parameter needs [4, 3]"),
            "{e}"
        );
    }
}
