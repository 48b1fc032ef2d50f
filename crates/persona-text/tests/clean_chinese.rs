//! Chinese text through `clean_text`: NFKC must leave Han characters and
//! CJK punctuation readable, and fold the full-width forms shops type.

use persona_text::clean_text;

#[test]
fn simplified_and_traditional_text_is_unchanged() {
    assert_eq!(clean_text("这件衣服质量很好。物流也快、包装好"), "这件衣服质量很好。物流也快、包装好");
    assert_eq!(clean_text("這件衣服質量很好。物流也快、包裝好"), "這件衣服質量很好。物流也快、包裝好");
    assert_eq!(clean_text("「很好」『滿意』【推荐】《说明书》"), "「很好」『滿意』【推荐】《说明书》");
}

#[test]
fn full_width_punctuation_digits_and_letters_become_half_width() {
    assert_eq!(clean_text("质量好，物流快！还会买吗？"), "质量好,物流快!还会买吗?");
    assert_eq!(clean_text("买了２件ＸＬ码，共１２９元（包邮）"), "买了2件XL码,共129元(包邮)");
    // The ideographic space is white space, and collapses like any other.
    assert_eq!(clean_text("好评　　推荐"), "好评 推荐");
    // The ideographic full stop, enumeration comma and corner brackets have no
    // compatibility decomposition: they stay.
    assert_eq!(clean_text("。、「」"), "。、「」");
}

#[test]
fn compatibility_ideographs_fold_and_emoji_stay() {
    // U+F900 and U+F901 are compatibility ideographs for 豈 and 更.
    assert_eq!(clean_text("\u{F900}\u{F901}"), "豈更");
    assert_eq!(clean_text("物流很快👍😀，五星🌟"), "物流很快👍😀,五星🌟");
    assert_eq!(clean_text("<p>质量&amp;物流</p>\u{200B}好"), "质量&物流 好");
}

#[test]
fn cleaned_chinese_still_splits_into_words() {
    let cleaned = clean_text("<b>物流</b>很快，ＱＵＡＬＩＴＹ很好！");
    assert_eq!(persona_text::words(&cleaned), ["物流", "很快", "quality"]);
}
