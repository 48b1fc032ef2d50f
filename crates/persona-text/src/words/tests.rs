use super::{is_han, pieces, script_runs, words, words_with};
use crate::CALLBACK_EVERY;

/// The splitter before Chinese was segmented (persona-cluster's `tokens`),
/// kept to check that text without Han characters gives the same words.
fn before_chinese(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|t| !crate::is_stop_word(t))
        .collect()
}

#[test]
fn english_is_split_as_before() {
    assert_eq!(words("The Coffee-lovers, at 7am: ESPRESSO & lattes!"), ["coffee", "lovers", "7am", "espresso", "lattes"]);
    // Lowercasing can lengthen a word (İ becomes i and a combining dot).
    assert_eq!(words("Straße İstanbul ÉCOLE"), ["straße".to_string(), "İstanbul".to_lowercase(), "école".to_string()]);
    assert!(words("").is_empty() && words("a an to of").is_empty());
}

#[test]
fn same_words_as_before_on_random_text_without_han() {
    const PIECES: &[&str] = &[
        " ", ",", "-", "the", "The", "THEIR", "coffee", "Tee", "ab", "7am", "123", "İ", "ß", "École", "ｶﾀｶﾅ",
        "ＦＵＬＬ", "カタカナ", "ひらがな", "한국어", "텍스트", "😀", "🎉", "\u{301}", "\u{200B}", "，", "。", "「", "」",
        "\n", "\u{0}", "ü", "ω", "Ωmega", "١٢٣", "ज़",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    for _ in 0..20_000 {
        let len = next(30);
        let s: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
        assert_eq!(words(&s), before_chinese(&s), "input {s:?}");
    }
}

#[test]
fn simplified_chinese_gives_whole_words() {
    assert_eq!(
        words("这件衣服的质量非常好，物流也很快，客服态度不错"),
        ["衣服", "质量", "物流", "很快", "客服", "态度", "不错"]
    );
    assert_eq!(words("快递太慢了，包装破损，差评"), ["快递", "太慢", "包装", "破损", "差评"]);
    // A long dictionary word stays whole, not also as its parts.
    assert_eq!(words("中华人民共和国成立了"), ["中华人民共和国", "成立"]);
}

#[test]
fn traditional_chinese_gives_whole_words() {
    assert_eq!(
        words("這件衣服的質量非常好，物流也很快，客服態度不錯，我們很滿意"),
        ["衣服", "質量", "物流", "很快", "客服", "態度", "不錯", "滿意"]
    );
    // Traditional stop words go too.
    assert_eq!(words("我們已經收到了，沒有問題"), ["收到", "問題"]);
}

#[test]
fn single_characters_and_stop_words_are_dropped() {
    assert!(words("的了是在和也就都").is_empty());
    assert!(words("我们自己可以").is_empty());
    assert!(words("好").is_empty());
}

#[test]
fn mixed_scripts_split_at_the_change_of_script() {
    assert_eq!(words("iPhone手机很好用，5星好评！😀"), ["iphone", "手机", "好评"]);
    // Before, "abc中def" was one word; a Han run now ends a Latin word.
    assert_eq!(words("用户体验abc中def"), ["用户", "体验", "abc", "def"]);
    // Kana go the non-Han way, kanji the Han way; hangul is split at spaces.
    assert_eq!(words("東京に行きました"), ["東京", "きました"]);
    assert_eq!(words("한국어 텍스트는 띄어쓰기가 있습니다"), ["한국어", "텍스트는", "띄어쓰기가", "있습니다"]);
}

#[test]
fn han_ranges() {
    for c in ['中', '國', '㐀', '\u{4DBF}', '豈', '\u{20000}', '\u{2A6DF}', '\u{2F800}', '\u{30000}'] {
        assert!(is_han(c), "{c:?}");
    }
    for c in ['a', 'カ', 'ひ', '한', 'ㄅ', '。', '，', '「', '〇', '😀', '\u{3000}'] {
        assert!(!is_han(c), "{c:?}");
    }
}

#[test]
fn runs_and_pieces_cover_the_text() {
    let text = "ab中文cd。國";
    let runs: Vec<_> = script_runs(text).collect();
    assert_eq!(runs, [(false, "ab"), (true, "中文"), (false, "cd。"), (true, "國")]);
    assert_eq!(script_runs("").count(), 0);
    let long = "中".repeat(10);
    let cut: Vec<_> = pieces(&long, 7).collect();
    assert_eq!(cut, ["中中", "中中", "中中", "中中", "中中"]);
    // A limit under one character still moves on, one character at a time.
    assert_eq!(pieces("中文", 1).collect::<Vec<_>>(), ["中", "文"]);
}

#[test]
fn odd_input_never_panics() {
    const PIECES: &[&str] = &[
        "中", "国", "質量", "物流", "的", "了", "a", "IPHONE", " ", "，", "。", "😀", "\u{301}", "\u{200D}", "\u{0}",
        "カ", "한", "豈", "\u{20000}", "\u{2A6D6}", "\u{30000}", "\u{FAFF}", "\r\n", "\u{FEFF}", "#", "+", "&", ".",
        "\u{10FFFF}", "İ",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    for _ in 0..20_000 {
        let len = next(40);
        let s: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
        for w in words(&s) {
            assert!(!w.is_empty() && !crate::is_stop_word(&w), "{w:?} from {s:?}");
            let han = w.chars().filter(|&c| is_han(c)).count();
            // A word is all Han or none, and long enough for its kind.
            assert!(han == 0 || han == w.chars().count(), "{w:?} from {s:?}");
            assert!(if han > 0 { han >= 2 } else { w.chars().count() >= 3 }, "{w:?} from {s:?}");
        }
    }
}

/// Runs `words_with` on `input`, checking it is quick and calls back at
/// least once per `CALLBACK_EVERY` bytes.
fn big(input: &str) -> Vec<String> {
    let calls = std::cell::Cell::new(0usize);
    let started = std::time::Instant::now();
    let out = words_with(input, &|| calls.set(calls.get() + 1));
    let took = started.elapsed();
    assert!(took.as_secs_f64() < 10.0, "{} bytes took {took:?}", input.len());
    assert!(calls.get() >= input.len() / CALLBACK_EVERY, "{} callbacks for {} bytes", calls.get(), input.len());
    out
}

const FOUR_MB: usize = 4 * 1024 * 1024;

#[test]
fn megabytes_of_chinese_english_and_separators() {
    // One Han run of four megabytes, segmented in pieces.
    let out = big(&"物流很快质量很好".repeat(FOUR_MB / 24));
    assert!(out.len() > FOUR_MB / 24 && out.iter().all(|w| w.chars().count() >= 2));
    // Ordinary Chinese text: many short runs.
    let out = big(&"物流很快，质量很好。".repeat(FOUR_MB / 30));
    assert_eq!(out.len(), FOUR_MB / 30 * 3);
    // One English word of four megabytes stays one word.
    assert_eq!(big(&"a".repeat(FOUR_MB)), ["a".repeat(FOUR_MB)]);
    assert!(big(&"，".repeat(FOUR_MB / 3)).is_empty());
    assert!(big(&", ".repeat(FOUR_MB / 2)).is_empty());
}

#[test]
fn the_callback_can_stop_the_work() {
    for input in ["中文".repeat(FOUR_MB / 6), "word ".repeat(FOUR_MB / 5)] {
        let stopped = std::panic::catch_unwind(|| words_with(&input, &|| panic!("cancel")));
        assert!(stopped.is_err());
    }
    // The segmenter is still usable after an unwind.
    assert_eq!(words("物流很快"), ["物流", "很快"]);
}
