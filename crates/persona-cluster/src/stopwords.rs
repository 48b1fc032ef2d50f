//! A compact English stop-word list for segment explanations. Words under
//! three letters are left out: the tokenizer drops them anyway.

/// Sorted, so membership is a binary search.
const STOP_WORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "among", "and", "another", "any", "are",
    "around", "because", "been", "before", "being", "below", "between", "both", "but", "can", "cannot",
    "could", "did", "does", "doing", "done", "down", "during", "each", "either", "else", "even", "ever",
    "every", "few", "for", "from", "further", "get", "gets", "got", "had", "has", "have", "having", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "however", "into", "its", "itself", "just",
    "least", "less", "let", "like", "made", "make", "many", "may", "might", "mine", "more", "most", "much",
    "must", "myself", "neither", "never", "nor", "not", "now", "off", "often", "once", "one", "only", "other",
    "others", "our", "ours", "ourselves", "out", "over", "own", "per", "quite", "rather", "really", "same",
    "says", "see", "seen", "several", "shall", "she", "should", "since", "some", "still", "such", "than",
    "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those", "though", "through", "thus", "too", "under", "until", "upon", "very", "was", "way", "well",
    "were", "what", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will",
    "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
];

/// Whether a lowercase token is a stop word.
pub(crate) fn is_stop_word(token: &str) -> bool {
    STOP_WORDS.binary_search(&token).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_unique_so_binary_search_works() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(STOP_WORDS.len() >= 150);
        assert!(is_stop_word("the") && is_stop_word("yourselves") && !is_stop_word("coffee"));
    }
}
