//! Stop words: words too common to tell one text from another, dropped by
//! [`crate::words`]. The lists leave out what the splitter drops anyway:
//! English words under three letters and single Chinese characters.

/// English, lowercase. Sorted, so membership is a binary search.
const ENGLISH: &[&str] = &[
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

/// Chinese function words, pronouns, conjunctions and fillers of two or more
/// characters, in simplified and (where it differs) traditional form, so a
/// shop with either script gets the same treatment. Sorted by code point
/// (what `str` ordering is), so membership is a binary search.
const CHINESE: &[&str] = &[
    "一下", "一个", "一些", "一個", "一定", "一样", "一樣", "一点", "一直", "一起", "一點", "不仅", "不会", "不但", "不僅", "不是",
    "不會", "不管", "不能", "不要", "不过", "东西", "並且", "为了", "为什么", "之前", "之后", "之後", "也是", "于是", "什么",
    "什麼", "仍然", "他们", "他們", "以前", "以及", "以后", "以後", "任何", "但是", "你们", "你們", "依然", "假如", "儘管", "关于",
    "其中", "其他", "其实", "其實", "几个", "出来", "十分", "即使", "另外", "只是", "只有", "只要", "可以", "可是", "可能", "各种",
    "咱们", "咱們", "哪个", "哪個", "哪裡", "哪里", "因为", "因此", "因為", "多少", "大家", "她们", "她們", "如何", "如果", "它们",
    "它們", "实在", "實在", "对于", "對於", "就是", "就算", "尽管", "已經", "已经", "常常", "并且", "幾個", "应该", "往往", "很多",
    "怎么", "怎样", "怎樣", "怎麼", "总之", "总是", "感覺", "感觉", "應當", "應該", "我们", "我們", "或者", "所以", "所有", "按照",
    "於是", "无论", "时候", "時候", "曾經", "曾经", "有些", "有点", "有點", "東西", "根据", "根據", "正在", "此外", "每个", "比較",
    "比较", "沒有", "没有", "為了", "為什麼", "無論", "然后", "然後", "然而", "特別", "特别", "现在", "現在", "甚至", "由于",
    "由於", "的话", "相当", "真是", "真的", "确实", "確實", "立刻", "終於", "經常", "總之", "總是", "终于", "经常", "而且", "而是",
    "能够", "能夠", "自己", "虽然", "要是", "覺得", "觉得", "許多", "许多", "起來", "起来", "还是", "还有", "这个", "这么", "这些",
    "这件", "这样", "这次", "这款", "这种", "这边", "这里", "這些", "這件", "這個", "這樣", "這次", "這款", "這種", "這裏", "這裡",
    "這邊", "這麼", "通过", "通過", "還是", "還有", "那个", "那么", "那些", "那件", "那個", "那样", "那樣", "那款", "那种", "那種",
    "那裏", "那裡", "那边", "那邊", "那里", "那麼", "都是", "關於", "除了", "雖然", "非常", "馬上", "马上",
];

/// Whether a word is a stop word: an English one (compared as given, so pass
/// it lowercased) or a Chinese one.
pub fn is_stop_word(word: &str) -> bool {
    // ASCII cannot be in the Chinese list, nor anything else in the English
    // one: one look-up, in the list the first byte points to.
    if word.is_ascii() {
        ENGLISH.binary_search(&word).is_ok()
    } else {
        CHINESE.binary_search(&word).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_unique_so_binary_search_works() {
        assert!(ENGLISH.windows(2).all(|w| w[0] < w[1]));
        assert!(CHINESE.windows(2).all(|w| w[0] < w[1]), "sort CHINESE by code point");
        assert!(ENGLISH.len() >= 150);
        assert!(CHINESE.len() >= 100);
    }

    #[test]
    fn lists_hold_only_what_the_splitter_would_keep() {
        assert!(ENGLISH.iter().all(|w| w.chars().count() >= 3 && w.bytes().all(|b| b.is_ascii_lowercase())));
        assert!(CHINESE.iter().all(|w| w.chars().count() >= 2 && w.chars().all(crate::words::is_han)));
    }

    #[test]
    fn membership() {
        assert!(is_stop_word("the") && is_stop_word("yourselves") && !is_stop_word("coffee"));
        assert!(is_stop_word("我们") && is_stop_word("我們") && is_stop_word("一个") && is_stop_word("沒有"));
        assert!(!is_stop_word("物流") && !is_stop_word("质量") && !is_stop_word(""));
    }
}
