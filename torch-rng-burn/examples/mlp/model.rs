//! The `TinyMlp` of `tools/gen_frameworks.py` in burn, and its PyTorch `state_dict` built with
//! torch-rng module by module, in the order of the Python `__init__`.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Device, Int, Tensor, TensorData};
use torch_rng::nn::{self, Class};
use torch_rng::Torch;

/// Sizes (the fixture's `config`).
pub const NUM_EMBEDDINGS: usize = 16;
pub const EMBEDDING_DIM: usize = 8;
pub const HIDDEN: usize = 32;
pub const OUT: usize = 4;

/// ```python
/// class TinyMlp(nn.Module):
///     def __init__(self, c):
///         self.emb = nn.Embedding(16, 8)
///         self.fc1 = nn.Linear(8, 32)
///         self.norm = nn.LayerNorm(32)
///         self.fc2 = nn.Linear(32, 32)
///         self.head = nn.Linear(32, 4, bias=False)
///     def forward(self, tokens):
///         x = self.norm(F.gelu(self.fc1(self.emb(tokens))))
///         return self.head(F.relu(self.fc2(x)))
/// ```
///
/// The field names are the Python attributes, so that the `state_dict` names find their burn
/// parameters (`norm.weight` goes to `norm.gamma`).
#[derive(Module, Debug)]
pub struct TinyMlp {
    emb: Embedding,
    fc1: Linear,
    norm: LayerNorm,
    fc2: Linear,
    head: Linear,
}

impl TinyMlp {
    /// burn's own init (replaced by [`torch_rng_burn::load`]).
    pub fn new(device: &Device) -> Self {
        Self {
            emb: EmbeddingConfig::new(NUM_EMBEDDINGS, EMBEDDING_DIM).init(device),
            fc1: LinearConfig::new(EMBEDDING_DIM, HIDDEN).init(device),
            // burn's default epsilon is PyTorch's, 1e-5.
            norm: LayerNormConfig::new(HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, HIDDEN).init(device),
            head: LinearConfig::new(HIDDEN, OUT).with_bias(false).init(device),
        }
    }

    /// `[batch, tokens]` -> `[batch, tokens, OUT]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        // burn's gelu is the exact (erf) form, as nn.functional.gelu's default.
        let x = self
            .norm
            .forward(gelu(self.fc1.forward(self.emb.forward(tokens))));
        self.head.forward(relu(self.fc2.forward(x)))
    }
}

/// `torch.manual_seed(seed); TinyMlp(c).state_dict()`, built with torch-rng: each module's
/// constructor in the order of the Python `__init__`, put in a module tree under the attribute
/// names (which is what makes the `state_dict` names and order PyTorch's).
pub fn state_dict(torch: &mut Torch) -> torch_rng::Result<nn::StateDict> {
    let (n, d, h, o) = (
        NUM_EMBEDDINGS as i64,
        EMBEDDING_DIM as i64,
        HIDDEN as i64,
        OUT as i64,
    );
    let mut m = nn::Module::new("TinyMlp");
    m.children = vec![
        ("emb".into(), nn::Embedding::new(n, d).build(torch)?),
        ("fc1".into(), nn::Linear::new(d, h).build(torch)?),
        ("norm".into(), nn::LayerNorm::new(h).build(torch)?),
        ("fc2".into(), nn::Linear::new(h, h).build(torch)?),
        (
            "head".into(),
            nn::Linear::new(h, o).bias(false).build(torch)?,
        ),
    ];
    Ok(m.into_state_dict())
}

/// Token rows as a burn int tensor.
pub fn tokens(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let t = rows.first().map_or(0, Vec::len);
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), t]), device)
}

/// The output as f32 values, row-major.
pub fn values(out: Tensor<3>) -> Vec<f32> {
    out.into_data()
        .try_to_vec::<f32>()
        .expect("a float32 model computes float32")
}
