//! Against sentence-transformers (PyTorch) reference vectors: the fixture in
//! tests/fixtures/minilm_reference.json at the project root.
//!
//! The model directory comes from PERSONA_MODEL_DIR (the README's test
//! command sets it to the installed default model). Without it these tests
//! say so and pass trivially: plain `cargo test` on a laptop still works.

use std::path::PathBuf;

use persona_embed::SentenceEncoder;

const MIN_COSINE: f64 = 0.99999;

struct Reference {
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/minilm_reference.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let texts = doc["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let vectors = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    Reference { texts, vectors }
}

fn encoder() -> Option<SentenceEncoder> {
    let Some(dir) = std::env::var_os("PERSONA_MODEL_DIR") else {
        eprintln!("SKIP: PERSONA_MODEL_DIR is not set; run the README's test command to test against the real model");
        return None;
    };
    Some(SentenceEncoder::load(&PathBuf::from(dir)).expect("model loads"))
}

fn assert_close(label: &str, got: &[f32], want: &[f32]) {
    let cos = persona_linalg::cosine_similarity(got, want).unwrap();
    assert!(cos >= MIN_COSINE, "{label}: cosine {cos} < {MIN_COSINE}");
}

#[test]
fn model_info_matches_sentence_transformers() {
    let Some(enc) = encoder() else { return };
    assert_eq!(enc.info().dimension, 384);
    assert_eq!(enc.info().max_tokens, 256);
}

#[test]
fn one_at_a_time_matches_pytorch() {
    let Some(enc) = encoder() else { return };
    let r = reference();
    assert!(r.texts.len() >= 50);
    for (text, want) in r.texts.iter().zip(&r.vectors) {
        let got = enc.embed(&[text.as_str()], 1).unwrap().remove(0);
        assert_close(&format!("{:.40?}", text), &got, want);
        let norm = persona_linalg::dot(&got, &got).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "not normalised: {norm}");
    }
}

#[test]
fn batches_with_padding_match_pytorch_and_single() {
    let Some(enc) = encoder() else { return };
    let r = reference();
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    // Batch sizes that mix very short and truncated-long texts in one padded batch.
    for batch_size in [3, 16, 64] {
        let got = enc.embed(&texts, batch_size).unwrap();
        for ((text, g), want) in texts.iter().zip(&got).zip(&r.vectors) {
            assert_close(&format!("batch {batch_size} {:.40?}", text), g, want);
        }
    }
    // Unsorted padding as well: encode_batch on the texts in input order.
    let tokens: Vec<_> = texts.iter().map(|t| enc.tokenize(t).unwrap()).collect();
    let batch: Vec<_> = tokens.iter().collect();
    let got = enc.encode_batch(&batch).unwrap();
    for ((text, g), want) in texts.iter().zip(&got).zip(&r.vectors) {
        assert_close(&format!("padded {:.40?}", text), g, want);
    }
}

#[test]
fn long_text_is_truncated_to_the_model_limit() {
    let Some(enc) = encoder() else { return };
    let long = "word ".repeat(5000);
    assert_eq!(enc.tokenize(&long).unwrap().len(), 256);
    assert_eq!(enc.tokenize("").unwrap().len(), 2); // [CLS] [SEP]
    // A 1 MB value is cut before tokenizing, with the same result.
    let huge = "word ".repeat(200_000);
    assert_eq!(enc.embed(&[&huge], 1).unwrap(), enc.embed(&[&long], 1).unwrap());
}

#[test]
fn missing_and_corrupt_directories_are_reported_by_file() {
    use persona_embed::ModelError;
    let missing = SentenceEncoder::load(std::path::Path::new("/nonexistent/persona-model"));
    assert!(matches!(missing, Err(ModelError::NotFound { .. })));

    let dir = std::env::temp_dir().join(format!("persona-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{ not json").unwrap();
    std::fs::write(dir.join("tokenizer.json"), "{}").unwrap();
    std::fs::write(dir.join("model.safetensors"), b"garbage").unwrap();
    match SentenceEncoder::load(&dir) {
        Err(ModelError::Corrupt { path, .. }) => assert!(path.ends_with("config.json")),
        other => panic!("expected Corrupt(config.json), got {:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The kernels' portable path (what a CPU without AVX2 or AVX-512 runs) is as
/// exact as the vectorised ones. Other tests in this file may run on it
/// meanwhile; they are exact either way.
#[test]
fn portable_fallback_matches_pytorch() {
    let Some(enc) = encoder() else { return };
    let r = reference();
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    persona_embed::kernels::force_portable(true);
    assert_eq!(persona_embed::kernels::level(), persona_embed::kernels::Level::Portable);
    let got = enc.embed(&texts, 16).unwrap();
    persona_embed::kernels::force_portable(false);
    for ((text, g), want) in texts.iter().zip(&got).zip(&r.vectors) {
        assert_close(&format!("portable {:.40?}", text), g, want);
    }
}

/// The opt-in int8 model: close to, not equal to, the exact vectors. The
/// figures are printed (cargo test -- --nocapture) for the README.
#[test]
fn int8_weights_stay_close_to_pytorch() {
    let Some(dir) = std::env::var_os("PERSONA_MODEL_DIR") else { return };
    let enc = SentenceEncoder::load_with(&PathBuf::from(dir), persona_embed::WeightFormat::Int8).unwrap();
    let r = reference();
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    let cosines: Vec<f64> = enc
        .embed(&texts, 16)
        .unwrap()
        .iter()
        .zip(&r.vectors)
        .map(|(g, w)| persona_linalg::cosine_similarity(g, w).unwrap())
        .collect();
    let mean = cosines.iter().sum::<f64>() / cosines.len() as f64;
    let min = cosines.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("int8 against PyTorch fp32 on {} texts: mean cosine {mean:.5}, min {min:.5}", cosines.len());
    assert!(min >= 0.98 && mean >= 0.995, "int8: mean cosine {mean}, min {min}");
}
