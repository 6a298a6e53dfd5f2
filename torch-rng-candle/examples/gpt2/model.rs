//! A GPT-2 / nanoGPT decoder in candle (the `GPT` class of `tools/gen_frameworks.py`), loaded from
//! a `VarBuilder` by PyTorch's `state_dict` names, and the same model's weights built with
//! torch-rng module by module, in the order of the Python `__init__` and `_init_weights`.

use candle_core::{DType, Device, IndexOp, Module as _, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use torch_rng::nn::{self, Class};
use torch_rng::Torch;

/// nanoGPT's `GPTConfig` (dropout plays no part in an `eval()` forward pass).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub vocab_size: usize,
    pub block_size: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
}

/// The sizes of `examples/models/gpt2_tiny.json` (and the fixture `golden/frameworks/gpt2_tiny.json`).
pub const TINY: Config = Config {
    vocab_size: 100,
    block_size: 16,
    n_embd: 32,
    n_layer: 3,
    n_head: 4,
};

/// PyTorch's `nn.LayerNorm` default.
const LN_EPS: f64 = 1e-5;

struct CausalSelfAttention {
    c_attn: Linear,
    c_proj: Linear,
    n_head: usize,
}

impl CausalSelfAttention {
    fn load(vb: VarBuilder, c: Config) -> Result<Self> {
        Ok(Self {
            c_attn: candle_nn::linear(c.n_embd, 3 * c.n_embd, vb.pp("c_attn"))?,
            c_proj: candle_nn::linear(c.n_embd, c.n_embd, vb.pp("c_proj"))?,
            n_head: c.n_head,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let hs = c / self.n_head;
        let qkv = self.c_attn.forward(x)?;
        let heads = |i: usize| -> Result<Tensor> {
            qkv.narrow(2, i * c, c)?
                .reshape((b, t, self.n_head, hs))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (heads(0)?, heads(1)?, heads(2)?);
        // nanoGPT's explicit attention: (q @ k^T) * (1 / sqrt(hs)), causal mask, softmax.
        let att = (q.matmul(&k.t()?.contiguous()?)? * (1.0 / (hs as f64).sqrt()))?;
        let att = mask.broadcast_as(att.shape())?.where_cond(
            &Tensor::full(f32::NEG_INFINITY, att.shape(), att.device())?,
            &att,
        )?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v)?.transpose(1, 2)?.reshape((b, t, c))?;
        self.c_proj.forward(&y)
    }
}

struct Block {
    ln_1: LayerNorm,
    attn: CausalSelfAttention,
    ln_2: LayerNorm,
    c_fc: Linear,
    c_proj: Linear,
}

impl Block {
    fn load(vb: VarBuilder, c: Config) -> Result<Self> {
        Ok(Self {
            ln_1: candle_nn::layer_norm(c.n_embd, LN_EPS, vb.pp("ln_1"))?,
            attn: CausalSelfAttention::load(vb.pp("attn"), c)?,
            ln_2: candle_nn::layer_norm(c.n_embd, LN_EPS, vb.pp("ln_2"))?,
            c_fc: candle_nn::linear(c.n_embd, 4 * c.n_embd, vb.pp("mlp.c_fc"))?,
            c_proj: candle_nn::linear(4 * c.n_embd, c.n_embd, vb.pp("mlp.c_proj"))?,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln_1.forward(x)?, mask)?)?;
        // nn.GELU(): the exact (erf) form.
        let h = self.c_fc.forward(&self.ln_2.forward(&x)?)?.gelu_erf()?;
        x + self.c_proj.forward(&h)?
    }
}

/// The decoder, holding candle layers only.
pub struct Gpt {
    wte: Embedding,
    wpe: Embedding,
    h: Vec<Block>,
    ln_f: LayerNorm,
    lm_head: Linear,
}

impl Gpt {
    /// Loads every weight by its PyTorch `state_dict` name.
    pub fn load(vb: VarBuilder, c: Config) -> Result<Self> {
        let t = vb.pp("transformer");
        Ok(Self {
            wte: candle_nn::embedding(c.vocab_size, c.n_embd, t.pp("wte"))?,
            wpe: candle_nn::embedding(c.block_size, c.n_embd, t.pp("wpe"))?,
            h: (0..c.n_layer)
                .map(|i| Block::load(t.pp(format!("h.{i}")), c))
                .collect::<Result<_>>()?,
            ln_f: candle_nn::layer_norm(c.n_embd, LN_EPS, t.pp("ln_f"))?,
            lm_head: candle_nn::linear_no_bias(c.n_embd, c.vocab_size, vb.pp("lm_head"))?,
        })
    }

    /// The logits `[batch, tokens, vocab]` for `idx` (`[batch, tokens]`, u32).
    pub fn forward(&self, idx: &Tensor) -> Result<Tensor> {
        let (_, t) = idx.dims2()?;
        let dev = idx.device();
        let pos = Tensor::arange(0u32, t as u32, dev)?;
        let x = self
            .wte
            .forward(idx)?
            .broadcast_add(&self.wpe.forward(&pos)?)?;
        // mask[i, j] = 1 where j > i (the future), broadcast over batch and heads.
        let upper: Vec<u8> = (0..t)
            .flat_map(|i| (0..t).map(move |j| u8::from(j > i)))
            .collect();
        let mask = Tensor::from_vec(upper, (1, 1, t, t), dev)?;
        let mut x = x;
        for block in &self.h {
            x = block.forward(&x, &mask)?;
        }
        self.lm_head.forward(&self.ln_f.forward(&x)?)
    }
}

/// The tokens as candle wants them for an embedding lookup.
pub fn tokens(rows: &[Vec<u32>], dev: &Device) -> Result<Tensor> {
    let t = rows.first().map_or(0, Vec::len);
    let flat: Vec<u32> = rows.iter().flatten().copied().collect();
    Tensor::from_vec(flat, (rows.len(), t), dev)
}

/// The logits as f32 values, row-major.
pub fn values(logits: &Tensor) -> Result<Vec<f32>> {
    logits.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()
}

/// The last position's logits of the first sequence (for printing).
pub fn last_logits(logits: &Tensor) -> Result<Vec<f32>> {
    let (_, t, _) = logits.dims3()?;
    logits.i((0, t - 1))?.to_vec1::<f32>()
}

/// The GPT's `state_dict` built with torch-rng module by module: the constructors in the order
/// of the Python `__init__`, then `self.apply(self._init_weights)` (children first, each module
/// after its children: so per block c_attn, attn.c_proj, c_fc, mlp.c_proj, and lm_head last; the
/// LayerNorms keep their ones and zeros), then nanoGPT's scaled init of every `c_proj.weight` in
/// `named_parameters()` order. No file and no description: this is what a user porting a model
/// writes.
pub fn state_dict_by_hand(torch: &mut Torch, c: Config) -> torch_rng::Result<nn::StateDict> {
    let (v, b, e) = (c.vocab_size as i64, c.block_size as i64, c.n_embd as i64);
    // __init__: every module's own reset_parameters, in construction order.
    let wte = nn::Embedding::new(v, e).build(torch)?;
    let wpe = nn::Embedding::new(b, e).build(torch)?;
    let mut blocks = Vec::new();
    for _ in 0..c.n_layer {
        let ln_1 = nn::LayerNorm::new(e).build(torch)?;
        let c_attn = nn::Linear::new(e, 3 * e).build(torch)?;
        let attn_proj = nn::Linear::new(e, e).build(torch)?;
        let ln_2 = nn::LayerNorm::new(e).build(torch)?;
        let c_fc = nn::Linear::new(e, 4 * e).build(torch)?;
        let mlp_proj = nn::Linear::new(4 * e, e).build(torch)?;
        blocks.push([ln_1, c_attn, attn_proj, ln_2, c_fc, mlp_proj]);
    }
    let ln_f = nn::LayerNorm::new(e).build(torch)?;
    let lm_head = nn::Linear::new(e, v).bias(false).build(torch)?;

    let mut wte = wte;
    let mut wpe = wpe;
    let mut lm_head = lm_head;
    // self.apply(self._init_weights): post-order over the module tree.
    let init_weights = |m: &mut nn::Module, torch: &mut Torch| -> torch_rng::Result<()> {
        if let Some(w) = m.param_mut("weight") {
            nn::init::normal_(torch, w, 0.0, 0.02)?;
        }
        if let Some(bias) = m.param_mut("bias") {
            nn::init::zeros_(bias)?;
        }
        Ok(())
    };
    init_weights(&mut wte, torch)?;
    init_weights(&mut wpe, torch)?;
    for [_, c_attn, attn_proj, _, c_fc, mlp_proj] in &mut blocks {
        for linear in [c_attn, attn_proj, c_fc, mlp_proj] {
            init_weights(linear, torch)?;
        }
    }
    init_weights(&mut lm_head, torch)?;
    // for pn, p in self.named_parameters(): if pn.endswith('c_proj.weight'): normal_(p, 0, 0.02/sqrt(2 * n_layer))
    let std = 0.02 / (2.0 * c.n_layer as f64).sqrt();
    for [_, _, attn_proj, _, _, mlp_proj] in &mut blocks {
        for proj in [attn_proj, mlp_proj] {
            nn::init::normal_(
                torch,
                proj.param_mut("weight").expect("Linear has a weight"),
                0.0,
                std,
            )?;
        }
    }

    // The module tree, named as PyTorch names it, gives the state_dict order.
    let mut h = nn::Module::new("ModuleList");
    for (i, [ln_1, c_attn, attn_proj, ln_2, c_fc, mlp_proj]) in blocks.into_iter().enumerate() {
        let mut attn = nn::Module::new("CausalSelfAttention");
        attn.children = vec![("c_attn".into(), c_attn), ("c_proj".into(), attn_proj)];
        let mut mlp = nn::Module::new("MLP");
        mlp.children = vec![("c_fc".into(), c_fc), ("c_proj".into(), mlp_proj)];
        let mut block = nn::Module::new("Block");
        block.children = vec![
            ("ln_1".into(), ln_1),
            ("attn".into(), attn),
            ("ln_2".into(), ln_2),
            ("mlp".into(), mlp),
        ];
        h.children.push((i.to_string(), block));
    }
    let mut transformer = nn::Module::new("ModuleDict");
    transformer.children = vec![
        ("wte".into(), wte),
        ("wpe".into(), wpe),
        ("h".into(), h),
        ("ln_f".into(), ln_f),
    ];
    let mut gpt = nn::Module::new("GPT");
    gpt.children = vec![
        ("transformer".into(), transformer),
        ("lm_head".into(), lm_head),
    ];
    Ok(gpt.into_state_dict())
}
