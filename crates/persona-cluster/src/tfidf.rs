//! Class-based TF-IDF (c-TF-IDF, Grootendorst 2022, as in BERTopic): the words
//! that set one segment's texts apart from the others'.

use std::collections::{HashMap, HashSet};

use crate::ClusterError;

/// The words of one text, as [`persona_text::words`] splits them (and
/// `persona.tokenize` shows them): jieba's words for Chinese, lowercased
/// alphanumeric runs of at least three characters otherwise, stop words
/// dropped.
fn tokens(text: &str) -> impl Iterator<Item = String> {
    persona_text::words(text).into_iter()
}

/// Top `top_n` terms of each class by c-TF-IDF, best first (ties in
/// alphabetical order); one list per class `0..n_classes`, empty for a class
/// without text.
///
/// All documents of a class are treated as one: for term `t` and class `c`,
/// `W(t, c) = tf(t, c) · ln(1 + A / f(t))`, where `tf(t, c)` is the count of
/// `t` in `c` divided by the number of words of `c`, `f(t)` the count of `t`
/// over all classes and `A` the average number of words per class (over
/// classes that have any). Terms found in fewer than `min_df` documents are
/// dropped before counting. Texts are split into words by
/// [`persona_text::words`]: Chinese is segmented into dictionary words of
/// at least two characters, other text is lowercased and split on
/// non-alphanumeric characters into tokens of at least three, and English
/// and Chinese stop words are dropped.
pub fn class_tfidf<I, S>(docs: I, n_classes: usize, top_n: usize, min_df: usize) -> Result<Vec<Vec<(String, f64)>>, ClusterError>
where
    I: IntoIterator<Item = (u32, S)>,
    S: AsRef<str>,
{
    let mut term_ids: HashMap<String, usize> = HashMap::new();
    let mut document_frequency: Vec<usize> = Vec::new();
    let mut class_counts: Vec<HashMap<usize, u64>> = vec![HashMap::new(); n_classes];
    let mut seen_in_doc: HashSet<usize> = HashSet::new();
    for (class, text) in docs {
        let Some(counts) = class_counts.get_mut(class as usize) else {
            return Err(ClusterError::LabelOutOfRange { label: class, k: n_classes });
        };
        seen_in_doc.clear();
        for token in tokens(text.as_ref()) {
            let next_id = term_ids.len();
            let id = *term_ids.entry(token).or_insert(next_id);
            if id == document_frequency.len() {
                document_frequency.push(0);
            }
            if seen_in_doc.insert(id) {
                document_frequency[id] += 1;
            }
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    let kept = |id: &usize| document_frequency[*id] >= min_df;
    let mut term_totals = vec![0u64; document_frequency.len()];
    let mut class_words = vec![0u64; n_classes];
    for (counts, words) in class_counts.iter().zip(class_words.iter_mut()) {
        for (id, &count) in counts.iter().filter(|(id, _)| kept(id)) {
            term_totals[*id] += count;
            *words += count;
        }
    }
    let classes_with_words = class_words.iter().filter(|&&w| w > 0).count();
    if classes_with_words == 0 {
        return Ok(vec![Vec::new(); n_classes]);
    }
    let average_words = class_words.iter().sum::<u64>() as f64 / classes_with_words as f64;
    let mut names = vec![""; term_ids.len()];
    for (name, &id) in &term_ids {
        names[id] = name;
    }
    let ranked = class_counts
        .iter()
        .zip(&class_words)
        .map(|(counts, &words)| {
            let mut scored: Vec<(String, f64)> = counts
                .iter()
                .filter(|(id, _)| kept(id))
                .map(|(&id, &count)| {
                    let tf = count as f64 / words as f64;
                    let idf = (1.0 + average_words / term_totals[id] as f64).ln();
                    (names[id].to_string(), tf * idf)
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            scored.truncate(top_n);
            scored
        })
        .collect();
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_drops_short_words_and_stop_words() {
        let got: Vec<String> = tokens("The Coffee-lovers, at 7am: ESPRESSO & lattes!").collect();
        assert_eq!(got, vec!["coffee", "lovers", "7am", "espresso", "lattes"]);
    }

    #[test]
    fn hand_computed_scores() {
        // Class 0: "apple apple pear" (3 words); class 1: "pear" (1 word).
        // A = 2; f(apple) = 2, f(pear) = 2, so idf = ln 2 for both.
        let docs = [(0u32, "apple apple pear"), (1, "pear")];
        let out = class_tfidf(docs, 2, 5, 1).unwrap();
        let ln2 = 2f64.ln();
        assert_eq!(out[0][0].0, "apple");
        assert!((out[0][0].1 - 2.0 / 3.0 * ln2).abs() < 1e-12);
        assert!((out[0][1].1 - 1.0 / 3.0 * ln2).abs() < 1e-12);
        assert_eq!(out[1].len(), 1);
        assert!((out[1][0].1 - ln2).abs() < 1e-12);
    }

    #[test]
    fn chinese_reviews_give_whole_words() {
        let docs = [
            (0u32, "物流太慢了，快递三天才到"),
            (0, "快递很慢，物流信息一直不更新"),
            (0, "物流速度慢，快递员态度差"),
            (1, "质量很好，做工精细，客服也很好"),
            (1, "衣服质量不错，面料舒服"),
            (1, "质量一般，做工粗糙，客服回复慢"),
        ];
        let out = class_tfidf(docs, 2, 3, 2).unwrap();
        let words = |c: usize| out[c].iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>();
        // Whole words, not sentences or single characters.
        assert_eq!(words(0)[..2], ["快递", "物流"]);
        assert_eq!(words(1)[..2], ["质量", "做工"]);
        assert!(out.iter().flatten().all(|(w, _)| w.chars().count() >= 2 && !w.contains('，')));
    }

    #[test]
    fn min_df_and_bad_class() {
        let docs = [(0u32, "rare common"), (0, "common"), (1, "common thing")];
        let out = class_tfidf(docs, 2, 10, 2).unwrap();
        assert!(out.iter().flatten().all(|(t, _)| t == "common"));
        assert!(matches!(class_tfidf([(3u32, "x")], 2, 1, 1), Err(ClusterError::LabelOutOfRange { .. })));
    }
}
