//! One `torch.nn.init` call as data ([`InitCall`]), what it derives from the tensor's shape
//! ([`Plan`]: fans, gain, bounds, in Python's double arithmetic and order) and how it is sampled.
//!
//! The same [`Plan`] drives the sampling and `explain`, so the explanation cannot drift from what is
//! drawn.

use super::buf::{row_major, Buf};
use super::trunc::{self, TruncAlgorithm};
use super::{calculate_fan_in_and_fan_out, kaiming_std, FanMode, Nonlinearity};
use super::{orthogonal, sparse};
use crate::context::{Context, TruncRule};
use crate::distributions::fixed::{FixedFill, Law};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::ops::View;
use crate::tensor::Tensor;
use crate::torch::{Rng, Torch};

/// What an init call does when it can be done later ([`InitCall::deferral`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Deferral {
    /// Nothing (a zero-element tensor).
    Nothing,
    /// Every element set to the value (already checked for the dtype).
    Fill(f64),
    /// A fill whose words are known before drawing.
    Draw(FixedFill),
}

/// A `torch.nn.init` function and its arguments (all but the tensor and the generator).
///
/// Float arguments are Python floats (doubles).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum InitCall {
    /// `uniform_(t, a=0.0, b=1.0)`.
    Uniform {
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// `normal_(t, mean=0.0, std=1.0)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0)`.
    TruncNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
        /// Lower truncation bound.
        a: f64,
        /// Upper truncation bound.
        b: f64,
    },
    /// `constant_(t, val)`.
    Constant {
        /// The fill value.
        val: f64,
    },
    /// `ones_(t)`.
    Ones,
    /// `zeros_(t)`.
    Zeros,
    /// `eye_(t)`.
    Eye,
    /// `dirac_(t, groups=1)`.
    Dirac {
        /// Number of groups (a Python int).
        groups: i64,
    },
    /// `xavier_uniform_(t, gain=1.0)`.
    XavierUniform {
        /// Scaling factor.
        gain: f64,
    },
    /// `xavier_normal_(t, gain=1.0)`.
    XavierNormal {
        /// Scaling factor.
        gain: f64,
    },
    /// `kaiming_uniform_(t, a=0, mode='fan_in', nonlinearity='leaky_relu')`.
    KaimingUniform {
        /// Negative slope of the rectifier (`calculate_gain`'s param).
        a: f64,
        /// Which fan to scale by.
        mode: FanMode,
        /// The nonlinearity whose gain is used.
        nonlinearity: Nonlinearity,
    },
    /// `orthogonal_(t, gain=1)`.
    Orthogonal {
        /// Scaling factor.
        gain: f64,
    },
    /// `sparse_(t, sparsity, std=0.01)`.
    Sparse {
        /// Fraction of each column set to zero.
        sparsity: f64,
        /// Standard deviation of the non-zero values.
        std: f64,
    },
    /// timm's `trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0)` (`timm.layers.trunc_normal_`,
    /// and `torch.nn.init.trunc_normal_` before 2.12): `uniform_(2l-1, 2u-1)`, `erfinv_`,
    /// `mul_(std*sqrt(2))`, `add_(mean)`, `clamp_(a, b)` in every release. Reproduced within a
    /// bound: `erfinv_` is MKL's (README, fidelity table).
    ///
    /// Mirrors: `timm/layers/weight_init.py`, `_trunc_normal_`.
    InverseCdfTruncNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
        /// Lower truncation bound.
        a: f64,
        /// Upper truncation bound.
        b: f64,
    },
    /// `kaiming_normal_(t, a=0, mode='fan_in', nonlinearity='leaky_relu')`.
    KaimingNormal {
        /// Negative slope of the rectifier (`calculate_gain`'s param).
        a: f64,
        /// Which fan to scale by.
        mode: FanMode,
        /// The nonlinearity whose gain is used.
        nonlinearity: Nonlinearity,
    },
}

/// A number derived by an initialiser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A Python int (fans, counts; wider than 64 bits for some empty tensors).
    Int(i128),
    /// A Python float (a double).
    Float(f64),
}

/// One named quantity an initialiser derives, with the formula PyTorch evaluates.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// Its name (`fan_in`, `gain`, `std`, `bound`).
    pub name: &'static str,
    /// The formula, as `torch/nn/init.py` evaluates it.
    pub formula: String,
    /// Its value.
    pub value: Number,
}

/// What is finally done to the tensor's elements.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Sampling {
    /// Nothing (a zero-element guard): no draws, the tensor is unchanged.
    Nothing,
    /// `t.uniform_(from, to)` with double bounds.
    Uniform {
        /// Lower bound (double).
        from: f64,
        /// Upper bound (double).
        to: f64,
    },
    /// `t.normal_(mean, std)` with double parameters.
    Normal {
        /// Mean (double).
        mean: f64,
        /// Standard deviation (double).
        std: f64,
    },
    /// `trunc_normal_`: the algorithm of the target's release, with its derived parameters.
    TruncNormal {
        /// Mean (double).
        mean: f64,
        /// Standard deviation (double).
        std: f64,
        /// Lower bound (double).
        a: f64,
        /// Upper bound (double).
        b: f64,
        /// The algorithm and what it derived.
        algorithm: TruncAlgorithm,
    },
    /// `orthogonal_`: a `(rows, cols)` standard normal draw, its QR (of the transpose when
    /// `rows < cols`), `Q` with column signs fixed by `diag(R)`, times `gain`.
    Orthogonal {
        /// `shape[0]`.
        rows: usize,
        /// `numel // rows`.
        cols: usize,
        /// Scaling factor.
        gain: f64,
    },
    /// `sparse_`: `normal_(0, std)`, then per column the first `zeros` entries of a
    /// `randperm(rows)` drawn from the default generator are zeroed.
    Sparse {
        /// Zeros per column (`ceil(sparsity * rows)` with Python's slice semantics).
        zeros: usize,
        /// Standard deviation.
        std: f64,
    },
    /// `t.fill_(value)`.
    Fill {
        /// The fill value (double; converted to the dtype).
        value: f64,
    },
    /// The identity matrix: ones at `[i, i]`, zeros elsewhere.
    Eye,
    /// Zeros, and a one at `[g·opg + d, d, k2/2, ...]` for each group `g` and `d < min(opg, shape[1])`.
    Dirac {
        /// Groups (≥ 1 here; a negative count only zeroes, as Python's empty ranges do).
        groups: i64,
    },
}

/// What an [`InitCall`] does to a tensor of a given shape: the derived quantities and the
/// sampling, computed exactly as PyTorch computes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The call.
    pub call: InitCall,
    /// The tensor's (logical) shape.
    pub shape: Vec<usize>,
    /// The tensor's dtype.
    pub dtype: DType,
    /// The derived quantities, in the order PyTorch computes them.
    pub quantities: Vec<Quantity>,
    /// What happens to the elements.
    pub sampling: Sampling,
}

impl Plan {
    /// The value of a derived quantity, by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Number> {
        self.quantities
            .iter()
            .find(|q| q.name == name)
            .map(|q| q.value)
    }
}

fn float(name: &'static str, formula: impl Into<String>, v: f64) -> Quantity {
    Quantity {
        name,
        formula: formula.into(),
        value: Number::Float(v),
    }
}

fn int(name: &'static str, formula: impl Into<String>, v: u128) -> Quantity {
    Quantity {
        name,
        formula: formula.into(),
        value: Number::Int(v as i128),
    }
}

const FANS_FORMULA_IN: &str = "shape[1] * prod(shape[2:])";
const FANS_FORMULA_OUT: &str = "shape[0] * prod(shape[2:])";

impl InitCall {
    /// The op name as the case format spells it (`nn.init.xavier_uniform_`).
    #[must_use]
    pub fn op_name(&self) -> &'static str {
        match self {
            InitCall::Uniform { .. } => "nn.init.uniform_",
            InitCall::Normal { .. } => "nn.init.normal_",
            InitCall::TruncNormal { .. } => "nn.init.trunc_normal_",
            InitCall::InverseCdfTruncNormal { .. } => "timm.layers.trunc_normal_",
            InitCall::Constant { .. } => "nn.init.constant_",
            InitCall::Ones => "nn.init.ones_",
            InitCall::Zeros => "nn.init.zeros_",
            InitCall::Eye => "nn.init.eye_",
            InitCall::Dirac { .. } => "nn.init.dirac_",
            InitCall::XavierUniform { .. } => "nn.init.xavier_uniform_",
            InitCall::XavierNormal { .. } => "nn.init.xavier_normal_",
            InitCall::KaimingUniform { .. } => "nn.init.kaiming_uniform_",
            InitCall::KaimingNormal { .. } => "nn.init.kaiming_normal_",
            InitCall::Orthogonal { .. } => "nn.init.orthogonal_",
            InitCall::Sparse { .. } => "nn.init.sparse_",
        }
    }

    /// Whether PyTorch's function takes `generator=`.
    #[must_use]
    pub fn takes_generator(&self) -> bool {
        self.function().generator
    }

    /// The `trunc_normal_` algorithm this call runs under `cx`: the release's for
    /// `nn.init.trunc_normal_`, the inverse-CDF chain for timm's.
    fn trunc_rule(&self, cx: Context) -> TruncRule {
        let release = cx.rules().trunc_normal;
        match self {
            InitCall::InverseCdfTruncNormal { .. } => trunc::inverse_cdf_rule(release),
            _ => release,
        }
    }

    /// Whether torch-rng reproduces the call only within a bound (README, fidelity table):
    /// `orthogonal_` (LAPACK's QR), and the inverse-CDF `trunc_normal_` (MKL's `erfinv_`) of
    /// timm and of PyTorch before 2.12.
    #[must_use]
    pub fn is_bounded(&self, cx: Context) -> bool {
        match self {
            InitCall::Orthogonal { .. } | InitCall::InverseCdfTruncNormal { .. } => true,
            InitCall::TruncNormal { .. } => {
                matches!(cx.rules().trunc_normal, TruncRule::InverseCdf { .. })
            }
            _ => false,
        }
    }

    /// Derives what the call does to a tensor of `shape` and `dtype`, with PyTorch's Python-level
    /// checks in PyTorch's order (the kernels' own checks come when sampling).
    ///
    /// # Errors
    /// What `torch/nn/init.py` raises: fewer than 2 dimensions for fan-based functions, a bad
    /// mode or nonlinearity, a zero `fan_in + fan_out` (Python's `ZeroDivisionError`), the
    /// dimension checks of `eye_` and `dirac_`, `dirac_`'s groups.
    #[allow(clippy::too_many_lines)] // one arm per init function
    pub fn plan(&self, shape: &[usize], dtype: DType, cx: Context) -> Result<Plan> {
        let op = self.op_name();
        let mut q = Vec::new();
        let sampling = match self {
            InitCall::Uniform { a, b } => Sampling::Uniform { from: *a, to: *b },
            InitCall::Normal { mean, std } => Sampling::Normal {
                mean: *mean,
                std: *std,
            },
            InitCall::TruncNormal { mean, std, a, b }
            | InitCall::InverseCdfTruncNormal { mean, std, a, b } => {
                trunc_plan(dtype, (*mean, *std, *a, *b), self.trunc_rule(cx), &mut q)?
            }
            InitCall::Orthogonal { gain } => {
                if shape.len() < 2 {
                    return Err(Error::arg(
                        op,
                        "only tensors with 2 or more dimensions are supported",
                    ));
                }
                let numel: usize = shape.iter().product();
                if numel == 0 {
                    Sampling::Nothing
                } else {
                    let rows = shape[0];
                    q.push(int("rows", "shape[0]", rows as u128));
                    q.push(int("cols", "numel // rows", (numel / rows) as u128));
                    q.push(float("gain", "gain", *gain));
                    Sampling::Orthogonal {
                        rows,
                        cols: numel / rows,
                        gain: *gain,
                    }
                }
            }
            InitCall::Sparse { sparsity, std } => {
                if shape.len() != 2 {
                    return Err(Error::arg(
                        op,
                        "only tensors with 2 dimensions are supported",
                    ));
                }
                let n = sparse::num_zeros(*sparsity, shape[0])?;
                q.push(Quantity {
                    name: "num_zeros",
                    formula: "ceil(sparsity * rows)".into(),
                    value: Number::Int(i128::from(n)),
                });
                Sampling::Sparse {
                    zeros: sparse::kept(n, shape[0]),
                    std: *std,
                }
            }
            InitCall::Constant { val } => Sampling::Fill { value: *val },
            InitCall::Ones => Sampling::Fill { value: 1.0 },
            InitCall::Zeros => Sampling::Fill { value: 0.0 },
            InitCall::Eye => {
                if shape.len() != 2 {
                    return Err(Error::arg(
                        op,
                        "only tensors with 2 dimensions are supported",
                    ));
                }
                Sampling::Eye
            }
            InitCall::Dirac { groups } => dirac(op, shape, *groups)?,
            InitCall::XavierUniform { gain } => xavier(op, shape, *gain, true, &mut q)?,
            InitCall::XavierNormal { gain } => xavier(op, shape, *gain, false, &mut q)?,
            InitCall::KaimingUniform {
                a,
                mode,
                nonlinearity,
            } => kaiming(shape, *a, *mode, *nonlinearity, true, &mut q)?,
            InitCall::KaimingNormal {
                a,
                mode,
                nonlinearity,
            } => kaiming(shape, *a, *mode, *nonlinearity, false, &mut q)?,
        };
        Ok(Plan {
            call: self.clone(),
            shape: shape.to_vec(),
            dtype,
            quantities: q,
            sampling,
        })
    }

    /// Runs the call on a contiguous tensor, drawing from `torch`'s generator under its build: on
    /// a CUDA context ([`crate::Context::on_cuda`]) from its CUDA generator through the CUDA
    /// kernels, as on a `device="cuda"` tensor (`sparse_`'s permutations still come from the CPU
    /// generator, as PyTorch's `torch.randperm(rows)` names no device).
    ///
    /// # Errors
    /// As [`InitCall::plan`], then the kernels' checks (bounds, `std < 0`, dtype).
    pub fn apply_(&self, torch: &mut Torch, t: &mut Tensor) -> Result<()> {
        let (mut g, default, cx) = torch.device_parts();
        self.apply_with(&mut g, default, t, cx)
    }

    /// Runs the call on a contiguous tensor, drawing from `g`.
    ///
    /// # Errors
    /// As [`InitCall::plan`], then the kernels' checks (bounds, `std < 0`, dtype).
    pub(crate) fn apply(&self, g: &mut CpuGenerator, t: &mut Tensor, cx: Context) -> Result<()> {
        self.apply_with(&mut Rng::Cpu(g), None, t, cx)
    }

    /// Runs the call on a contiguous tensor, drawing from `g` (and from `default` where PyTorch
    /// draws from the default CPU generator whatever it was given: `sparse_`).
    ///
    /// # Errors
    /// As [`InitCall::apply`].
    pub(crate) fn apply_with(
        &self,
        g: &mut Rng<'_>,
        default: Option<&mut CpuGenerator>,
        t: &mut Tensor,
        cx: Context,
    ) -> Result<()> {
        let shape = t.shape().to_vec();
        let strides = row_major(&shape);
        let mut buf = Buf {
            data: t.storage_mut(),
            shape,
            strides,
            contiguous: true,
        };
        self.run(g, default, &mut buf, cx)
    }

    /// Runs the call on `torch.empty(size, dtype=dtype)[.permute(perm)]` and returns the view made
    /// contiguous. Random fills visit memory order, as PyTorch's kernels do.
    ///
    /// # Errors
    /// A size error, then as [`InitCall::apply`].
    pub(crate) fn apply_on_view(
        &self,
        g: &mut CpuGenerator,
        view: &View,
        cx: Context,
    ) -> Result<Tensor> {
        self.apply_on_view_with(&mut Rng::Cpu(g), None, view, cx)
    }

    /// [`InitCall::apply_on_view`] with the generator of any device (`g`: the step's, or its
    /// `generator=`) and the default CPU generator, for the calls that draw from both (`sparse_`
    /// takes its permutations from the default one; `None`: `g` itself, on the CPU).
    ///
    /// # Errors
    /// As [`InitCall::apply_on_view`].
    pub(crate) fn apply_on_view_with(
        &self,
        g: &mut Rng<'_>,
        default: Option<&mut CpuGenerator>,
        view: &View,
        cx: Context,
    ) -> Result<Tensor> {
        let op = self.op_name();
        let mut t = Tensor::zeros_checked(op, &view.size, view.dtype)?;
        let storage_strides = row_major(t.shape());
        let (shape, strides) = match &view.perm {
            Some(p) => (
                p.iter().map(|&i| t.shape()[i]).collect(),
                p.iter().map(|&i| storage_strides[i]).collect(),
            ),
            None => (t.shape().to_vec(), storage_strides),
        };
        let mut buf = Buf {
            data: t.storage_mut(),
            shape,
            strides,
            contiguous: view.is_contiguous(),
        };
        self.run(g, default, &mut buf, cx)?;
        Ok(match &view.perm {
            Some(p) => t.permuted(p)?,
            None => t,
        })
    }

    /// Runs the call on `buf` (its elements in memory order), drawing from `g` (and `default`,
    /// as [`InitCall::apply_on_view_with`]).
    /// What the call on a contiguous CPU tensor of `shape` and `dtype` does, when it can be done
    /// later without drawing now: draw a [`FixedFill`] (whose words are known), fill a value, or
    /// nothing. `None` for the calls that must run now (the per-element normal path, rejection
    /// sampling, permutations, QR, index writes, a dtype the kernel refuses). The arguments are
    /// checked as [`InitCall::run`] checks them, with the same errors.
    ///
    /// # Errors
    /// As [`InitCall::run`] for the calls it defers.
    pub(crate) fn deferral(
        &self,
        shape: &[usize],
        dtype: DType,
        cx: Context,
    ) -> Result<Option<Deferral>> {
        let plan = self.plan(shape, dtype, cx)?;
        let op = self.op_name();
        let n = shape.iter().product();
        Ok(match plan.sampling {
            Sampling::Nothing => Some(Deferral::Nothing),
            Sampling::Uniform { from, to } if dtype.is_float() => {
                let (from, to) = crate::ops::check_uniform_bounds(op, dtype, from, to)?;
                FixedFill::new(Law::Uniform { from, to }, dtype, n, true, cx).map(Deferral::Draw)
            }
            Sampling::Normal { mean, std } if dtype.is_float() => {
                crate::ops::check_normal_std(op, std)?;
                FixedFill::new(Law::Normal { mean, std }, dtype, n, true, cx).map(Deferral::Draw)
            }
            Sampling::Fill { value } => {
                crate::dtype::check_fill_scalar(op, dtype, value)?;
                Some(Deferral::Fill(value))
            }
            _ => None,
        })
    }

    pub(crate) fn run(
        &self,
        g: &mut Rng<'_>,
        default: Option<&mut CpuGenerator>,
        buf: &mut Buf<'_>,
        cx: Context,
    ) -> Result<()> {
        let plan = self.plan(&buf.shape, buf.dtype(), cx)?;
        let op = self.op_name();
        match plan.sampling {
            Sampling::Nothing => Ok(()),
            Sampling::Uniform { from, to } => g.fill_uniform(op, buf.data, from, to, cx),
            Sampling::Normal { mean, std } => {
                g.fill_normal(op, buf.data, buf.contiguous, mean, std, cx)
            }
            Sampling::TruncNormal {
                mean,
                std,
                a,
                b,
                algorithm,
            } => trunc::run(
                g,
                buf.data,
                buf.contiguous,
                (mean, std, a, b),
                algorithm,
                self.trunc_rule(cx),
                cx,
            ),
            Sampling::Orthogonal { gain, .. } => orthogonal::run(g, buf, gain, cx),
            Sampling::Sparse { .. } => {
                let InitCall::Sparse { sparsity, std } = *self else {
                    unreachable!("only sparse_ plans a sparse sampling")
                };
                sparse::run(g, default, buf, (sparsity, std), cx)
            }
            Sampling::Fill { value } => {
                crate::dtype::check_fill_scalar(op, buf.dtype(), value)?;
                buf.fill(value);
                Ok(())
            }
            Sampling::Eye => {
                buf.fill(0.0);
                for i in 0..buf.shape[0].min(buf.shape[1]) {
                    let at = buf.offset(&[i, i]);
                    buf.set(at, 1.0);
                }
                Ok(())
            }
            Sampling::Dirac { groups } => {
                buf.fill(0.0);
                if groups > 0 {
                    let g = groups as usize;
                    let opg = buf.shape[0] / g;
                    let m = opg.min(buf.shape[1]);
                    let mut idx: Vec<usize> = buf.shape.iter().map(|&s| s / 2).collect();
                    for gi in 0..g {
                        for d in 0..m {
                            idx[0] = gi * opg + d;
                            idx[1] = d;
                            let at = buf.offset(&idx);
                            buf.set(at, 1.0);
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// `dirac_`'s checks, in PyTorch's order.
fn dirac(op: &str, shape: &[usize], groups: i64) -> Result<Sampling> {
    if !(3..=5).contains(&shape.len()) {
        return Err(Error::arg(
            op,
            "only tensors with 3, 4, or 5 dimensions are supported",
        ));
    }
    if groups == 0 {
        return Err(Error::arg(op, "integer modulo by zero (groups = 0)"));
    }
    // Divisibility does not depend on the sign; Python's `%` agrees.
    let divisible = (shape[0] as u64).is_multiple_of(groups.unsigned_abs());
    if !divisible {
        return Err(Error::arg(op, "dim 0 must be divisible by groups"));
    }
    // The ones go at the centre of each spatial dimension (size // 2): a spatial
    // dimension of size 0 has none, and PyTorch's index write fails there (after
    // zeroing) whenever there is a one to write.
    let writes = groups > 0 && (shape[0] / groups.unsigned_abs() as usize).min(shape[1]) > 0;
    if let Some(d) = shape[2..].iter().position(|&s| s == 0).filter(|_| writes) {
        return Err(Error::arg(
            op,
            format!(
                "index 0 is out of bounds for dimension {} with size 0",
                d + 2
            ),
        ));
    }
    Ok(Sampling::Dirac { groups })
}

/// `trunc_normal_`'s Python-level derivation under `rule`.
fn trunc_plan(
    dtype: DType,
    (mean, std, a, b): (f64, f64, f64, f64),
    rule: TruncRule,
    q: &mut Vec<Quantity>,
) -> Result<Sampling> {
    let (algorithm, cdf_a, cdf_b) = trunc::algorithm_for(dtype, (mean, std, a, b), rule)?;
    q.push(float(
        "ncdf_a",
        "(1 + erf((a - mean) / std / sqrt(2))) / 2",
        cdf_a,
    ));
    q.push(float(
        "ncdf_b",
        "(1 + erf((b - mean) / std / sqrt(2))) / 2",
        cdf_b,
    ));
    match algorithm {
        TruncAlgorithm::InverseCdf { from, to, scale } => {
            q.push(float("from", "2 * ncdf_a - 1", from));
            q.push(float("to", "2 * ncdf_b - 1", to));
            q.push(float("scale", "std * sqrt(2)", scale));
        }
        TruncAlgorithm::RejectNormal { lo, hi } => {
            q.push(float(
                "p",
                "ncdf_b - ncdf_a (> 0.3: normal proposals)",
                cdf_b - cdf_a,
            ));
            q.push(float("lo", "a rounded to the dtype", lo));
            q.push(float("hi", "b rounded to the dtype", hi));
        }
        TruncAlgorithm::RejectUniform { log_peak } => {
            q.push(float(
                "p",
                "ncdf_b - ncdf_a (<= 0.3: uniform proposals)",
                cdf_b - cdf_a,
            ));
            q.push(float(
                "log_peak",
                "-0.5 * ((max(a, min(mean, b)) - mean) / std)^2",
                log_peak,
            ));
        }
    }
    Ok(Sampling::TruncNormal {
        mean,
        std,
        a,
        b,
        algorithm,
    })
}

/// `xavier_uniform_` / `xavier_normal_`: `std = gain * sqrt(2 / (fan_in + fan_out))`.
fn xavier(
    op: &str,
    shape: &[usize],
    gain: f64,
    uniform: bool,
    q: &mut Vec<Quantity>,
) -> Result<Sampling> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(shape)?;
    q.push(int("fan_in", FANS_FORMULA_IN, fan_in));
    q.push(int("fan_out", FANS_FORMULA_OUT, fan_out));
    q.push(float("gain", "gain", gain));
    if fan_in + fan_out == 0 {
        return Err(Error::arg(
            op,
            "float division by zero (fan_in + fan_out = 0)",
        ));
    }
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    q.push(float("std", "gain * sqrt(2 / (fan_in + fan_out))", std));
    Ok(uniform_or_normal(std, uniform, q))
}

/// `kaiming_uniform_` / `kaiming_normal_`: the zero-element guard, then `std = gain / sqrt(fan)`.
fn kaiming(
    shape: &[usize],
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    uniform: bool,
    q: &mut Vec<Quantity>,
) -> Result<Sampling> {
    let Some((mode, fan, gain, std)) = kaiming_std(shape, a, mode, nonlinearity)? else {
        return Ok(Sampling::Nothing);
    };
    let formula = match mode {
        FanMode::FanIn => FANS_FORMULA_IN,
        FanMode::FanOut => FANS_FORMULA_OUT,
    };
    q.push(int(mode.name(), formula, fan));
    q.push(float("gain", nonlinearity.formula(), gain));
    q.push(float("std", format!("gain / sqrt({})", mode.name()), std));
    Ok(uniform_or_normal(std, uniform, q))
}

/// The last step of xavier_* and kaiming_*: `uniform_(-bound, bound)` with
/// `bound = sqrt(3) * std`, or `normal_(0, std)`.
fn uniform_or_normal(std: f64, uniform: bool, q: &mut Vec<Quantity>) -> Sampling {
    if uniform {
        let bound = 3f64.sqrt() * std;
        q.push(float("bound", "sqrt(3) * std", bound));
        Sampling::Uniform {
            from: -bound,
            to: bound,
        }
    } else {
        Sampling::Normal { mean: 0.0, std }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xavier_bound_and_zero_fans() {
        let p = InitCall::XavierUniform { gain: 1.0 }
            .plan(&[3, 5], DType::Float32, Context::default())
            .unwrap();
        let Sampling::Uniform { to, .. } = p.sampling else {
            panic!("uniform")
        };
        assert_eq!(
            to.to_bits(),
            (3f64.sqrt() * (2.0f64 / 8.0).sqrt()).to_bits()
        );
        assert!(InitCall::XavierUniform { gain: 1.0 }
            .plan(&[0, 0], DType::Float32, Context::default())
            .is_err());
        assert!(InitCall::XavierNormal { gain: 1.0 }
            .plan(&[5], DType::Float32, Context::default())
            .is_err());
    }

    #[test]
    fn dirac_and_eye() {
        let mut g = CpuGenerator::with_seed(0);
        let mut t = Tensor::zeros(&[6, 2, 3, 3], DType::Float32).unwrap();
        InitCall::Dirac { groups: 2 }
            .apply(&mut g, &mut t, Context::default())
            .unwrap();
        let ones: Vec<usize> = t
            .as_f32()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, &v)| v == 1.0)
            .map(|(i, _)| i)
            .collect();
        // (0,0,1,1), (1,1,1,1), (3,0,1,1), (4,1,1,1) in a (6,2,3,3) tensor (init.md 4.5)
        assert_eq!(ones, [4, 18 + 9 + 4, 54 + 4, 72 + 9 + 4]);
        let mut e = Tensor::zeros(&[2, 3], DType::Int64).unwrap();
        InitCall::Eye
            .apply(&mut g, &mut e, Context::default())
            .unwrap();
        assert_eq!(e.bits(), [1, 0, 0, 0, 1, 0]);
        assert!(InitCall::Dirac { groups: 4 }
            .plan(&[6, 2, 3], DType::Float32, Context::default())
            .is_err());
        assert!(InitCall::Eye
            .plan(&[6, 2, 3], DType::Float32, Context::default())
            .is_err());
        assert_eq!(g, CpuGenerator::with_seed(0));
    }

    #[test]
    fn constant_conversions() {
        let mut g = CpuGenerator::with_seed(0);
        let mut t = Tensor::zeros(&[2], DType::Int32).unwrap();
        InitCall::Constant { val: -2.7 }
            .apply(&mut g, &mut t, Context::default())
            .unwrap();
        assert_eq!(t.bits(), [0xffff_fffe, 0xffff_fffe]);
        let mut h = Tensor::zeros(&[1], DType::Float16).unwrap();
        assert!(InitCall::Constant { val: 1e6 }
            .apply(&mut g, &mut h, Context::default())
            .is_err());
    }
}
