//! The Chinese shop (`--reviews-zh`): the same catalogue, users and events as the English
//! one, review texts from the positive and negative lists with ratings that agree with them.
//! The texts here are written for this test; the demo's come from scripts/fetch-demo-data.sh.

use persona_shop::{generate, read_polarity_dir, Catalogue, Config, Sinks};
use std::collections::HashSet;
use std::path::PathBuf;

fn catalogue() -> Catalogue {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/womens_clothing_reviews.csv.gz");
    Catalogue::from_reviews_gz(&path, 1).expect("read the reviews file")
}

const POSITIVE: [&str; 6] = [
    "质量很好，做工精细，非常满意",
    "面料舒服，颜色和图片一样，推荐购买",
    "物流很快，包装完好，价格实惠",
    "尺码合适，穿着很漂亮，朋友都说好看",
    "第二次购买了，一如既往的好",
    "客服态度热情，发货及时，好评",
];
const NEGATIVE: [&str; 5] = [
    "质量太差，线头很多，非常失望",
    "颜色和图片差别很大，退货了",
    "物流太慢，等了两个星期才到",
    "尺码偏小，穿不上，客服也不理人",
    "洗了一次就褪色，不会再买了",
];

struct Shop {
    items: Vec<u8>,
    events: Vec<u8>,
    reviews: Vec<u8>,
}

fn shop(cat: &Catalogue) -> Shop {
    let (mut items, mut users, mut events, mut searches, mut reviews, mut personas) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    generate(
        cat,
        &Config { users: 3_000, seed: 1, threads: 2 },
        Sinks {
            items: &mut items,
            users: &mut users,
            events: &mut events,
            searches: &mut searches,
            reviews: &mut reviews,
            personas: &mut personas,
        },
    )
    .expect("generate");
    Shop { items, events, reviews }
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn ratings_agree_with_the_polarity_of_the_text_and_behaviour_is_unchanged() {
    let en = shop(&catalogue());
    let zh_cat = catalogue().with_polarity_reviews(owned(&POSITIVE), owned(&NEGATIVE)).unwrap();
    let zh = shop(&zh_cat);
    // The personas' views, carts and purchases do not depend on the review texts.
    assert_eq!(en.events, zh.events);
    let positive: HashSet<&str> = POSITIVE.into_iter().collect();
    let negative: HashSet<&str> = NEGATIVE.into_iter().collect();
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(&zh.reviews[..]);
    let (mut pos, mut neg) = (0, 0);
    for r in csv.records() {
        let r = r.unwrap();
        let rating: u8 = r[2].parse().unwrap();
        if positive.contains(&r[4]) {
            assert!(rating >= 4, "positive text with {rating} stars");
            pos += 1;
        } else if negative.contains(&r[4]) {
            assert!(rating <= 2, "negative text with {rating} stars");
            neg += 1;
        } else {
            panic!("a review text from neither list: {}", &r[4]);
        }
    }
    assert!(pos > 50 && neg > 50, "{pos} positive, {neg} negative reviews");
    // The same items, in Chinese categories.
    let categories: HashSet<String> = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&zh.items[..])
        .records()
        .map(|r| r.unwrap()[2].to_owned())
        .collect();
    assert!(categories.contains("图书") && categories.contains("酒店住宿"), "{categories:?}");
    assert!(categories.iter().all(|c| !c.is_ascii()), "{categories:?}");
    assert_eq!(en.items.iter().filter(|&&b| b == b'\n').count(), zh.items.iter().filter(|&&b| b == b'\n').count());
}

#[test]
fn the_same_texts_in_another_order_give_the_same_shop() {
    let a = catalogue().with_polarity_reviews(owned(&POSITIVE), owned(&NEGATIVE)).unwrap();
    let mut p = owned(&POSITIVE);
    p.reverse();
    let b = catalogue().with_polarity_reviews(p, owned(&NEGATIVE)).unwrap();
    assert_eq!(shop(&a).reviews, shop(&b).reviews);
}

#[test]
fn no_texts_of_a_polarity_is_an_error() {
    assert!(catalogue().with_polarity_reviews(owned(&POSITIVE), Vec::new()).is_err());
    assert!(read_polarity_dir(std::path::Path::new("/nonexistent")).is_err());
}
