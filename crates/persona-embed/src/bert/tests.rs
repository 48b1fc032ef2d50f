//! The whole forward pass against candle-transformers' BertModel (the engine
//! persona ran before) on a small BERT with random weights: texts of odd
//! lengths, in one batch that candle pads and masks and this engine lays end
//! to end, on every instruction set this CPU has and on the portable path.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use super::{Bert, BertConfig, WeightFormat};
use crate::kernels;
use crate::kernels::tests::random;

const CONFIG: &str = r#"{"vocab_size": 50, "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
  "intermediate_size": 96, "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "max_position_embeddings": 40,
  "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
  "position_embedding_type": "absolute", "model_type": "bert"}"#;

fn random_weights(config: &BertConfig) -> Vec<u8> {
    let (h, i) = (config.hidden_size, config.intermediate_size);
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![config.vocab_size, h]),
        ("embeddings.position_embeddings.weight".into(), vec![config.max_position_embeddings, h]),
        ("embeddings.token_type_embeddings.weight".into(), vec![config.type_vocab_size, h]),
        ("embeddings.LayerNorm.weight".into(), vec![h]),
        ("embeddings.LayerNorm.bias".into(), vec![h]),
    ];
    for l in 0..config.num_hidden_layers {
        for (name, out, inp) in [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", i, h),
            ("output.dense", h, i),
        ] {
            shapes.push((format!("encoder.layer.{l}.{name}.weight"), vec![out, inp]));
            shapes.push((format!("encoder.layer.{l}.{name}.bias"), vec![out]));
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            shapes.push((format!("encoder.layer.{l}.{name}.weight"), vec![h]));
            shapes.push((format!("encoder.layer.{l}.{name}.bias"), vec![h]));
        }
    }
    let tensors: HashMap<String, Tensor> = shapes
        .into_iter()
        .enumerate()
        .map(|(n, (name, shape))| {
            let len = shape.iter().product();
            let scale = if name.contains("LayerNorm.weight") { 0.5 } else { 0.3 };
            let mut values = random(len, 1000 + n as u64, scale);
            if name.contains("LayerNorm.weight") {
                values.iter_mut().for_each(|v| *v += 1.0);
            }
            (name, Tensor::from_vec(values, shape, &Device::Cpu).unwrap())
        })
        .collect();
    // One file per call: the tests of this module run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("persona-embed-bert-test-{}-{call}.safetensors", std::process::id()));
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

fn texts() -> Vec<(Vec<u32>, Vec<u32>)> {
    [1usize, 2, 7, 16, 17, 33, 40]
        .iter()
        .enumerate()
        .map(|(n, &len)| {
            let ids = (0..len).map(|j| ((j * 7 + n * 13 + 1) % 50) as u32).collect();
            let types = (0..len).map(|j| u32::from(j * 2 >= len && n % 2 == 1)).collect();
            (ids, types)
        })
        .collect()
}

/// Candle's hidden states for the texts padded to the longest, masked.
fn candle_hidden(bytes: Vec<u8>, texts: &[(Vec<u32>, Vec<u32>)]) -> Vec<Vec<f32>> {
    let config: Config = serde_json::from_str(CONFIG).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    let model = BertModel::load(vb, &config).unwrap();
    let width = texts.iter().map(|t| t.0.len()).max().unwrap();
    let (mut ids, mut types, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for (i, t) in texts {
        for j in 0..width {
            ids.push(*i.get(j).unwrap_or(&0));
            types.push(*t.get(j).unwrap_or(&0));
            mask.push(u32::from(j < i.len()));
        }
    }
    let shape = (texts.len(), width);
    let [ids, types, mask] = [ids, types, mask].map(|v| Tensor::from_vec(v, shape, &Device::Cpu).unwrap());
    let hidden: Vec<Vec<Vec<f32>>> = model.forward(&ids, &types, Some(&mask)).unwrap().to_vec3().unwrap();
    texts.iter().zip(hidden).flat_map(|(t, rows)| rows.into_iter().take(t.0.len())).collect()
}

#[test]
fn forward_matches_candle_bert_on_padded_batches() {
    let config: BertConfig = serde_json::from_str(CONFIG).unwrap();
    let bytes = random_weights(&config);
    let texts = texts();
    let want = candle_hidden(bytes.clone(), &texts);
    let bert = Bert::load(config, &bytes, WeightFormat::Fp32).unwrap();
    let batch: Vec<(&[u32], &[u32])> = texts.iter().map(|(i, t)| (&i[..], &t[..])).collect();
    for portable in [false, true] {
        kernels::force_portable(portable);
        let got = bert.forward(&batch).unwrap();
        // One text at a time gives the same rows as the batch.
        let single: Vec<f32> = batch.iter().flat_map(|t| bert.forward(&[*t]).unwrap()).collect();
        for (label, got) in [("batch", &got), ("single", &single)] {
            assert_eq!(got.len(), want.len() * 48);
            let worst = got.chunks(48).zip(&want).flat_map(|(g, w)| g.iter().zip(w).map(|(a, b)| (a - b).abs())).fold(0f32, f32::max);
            assert!(worst < 1e-4, "{label} (portable {portable}): worst difference {worst}");
        }
    }
    kernels::force_portable(false);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let config: BertConfig = serde_json::from_str(CONFIG).unwrap();
    let bytes = random_weights(&config);
    let bert = Bert::load(config.clone(), &bytes, WeightFormat::Fp32).unwrap();
    assert!(bert.forward(&[(&[50][..], &[0][..])]).is_err()); // id outside the vocabulary
    assert!(bert.forward(&[(&[1][..], &[2][..])]).is_err()); // type outside the type vocabulary
    assert!(bert.forward(&[(&[1; 41][..], &[0; 41][..])]).is_err()); // longer than the positions
    assert!(bert.forward(&[(&[1, 2][..], &[0][..])]).is_err()); // lengths disagree
    assert!(bert.forward(&[]).unwrap().is_empty());
    assert!(Bert::load(config.clone(), &bytes[..100], WeightFormat::Fp32).is_err());
    let wrong = BertConfig { hidden_size: 40, ..config.clone() };
    assert!(Bert::load(wrong, &bytes, WeightFormat::Int8).is_err());
    let unsupported = BertConfig { hidden_act: "relu".into(), ..config };
    assert!(Bert::load(unsupported, &bytes, WeightFormat::Fp32).is_err());
}

#[test]
fn int8_weights_stay_close_to_fp32() {
    let config: BertConfig = serde_json::from_str(CONFIG).unwrap();
    let bytes = random_weights(&config);
    let texts = texts();
    let batch: Vec<(&[u32], &[u32])> = texts.iter().map(|(i, t)| (&i[..], &t[..])).collect();
    let exact = Bert::load(config.clone(), &bytes, WeightFormat::Fp32).unwrap().forward(&batch).unwrap();
    let int8 = Bert::load(config, &bytes, WeightFormat::Int8).unwrap().forward(&batch).unwrap();
    for (n, (a, b)) in exact.chunks(48).zip(int8.chunks(48)).enumerate() {
        let cos = persona_linalg::cosine_similarity(a, b).unwrap();
        assert!(cos > 0.99, "row {n}: cosine {cos}");
    }
}
