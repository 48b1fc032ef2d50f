//! The generated shop: deterministic, consistent, and with the personas planted as described.

use persona_shop::{generate, Catalogue, Config, Persona, Sinks, Stats, END_UNIX, START_UNIX};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

fn reviews_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/womens_clothing_reviews.csv.gz")
}

fn catalogue(seed: u64) -> Catalogue {
    Catalogue::from_reviews_gz(&reviews_path(), seed).expect("read the reviews file")
}

#[derive(Default, Clone, PartialEq, Eq)]
struct Shop {
    items: Vec<u8>,
    users: Vec<u8>,
    events: Vec<u8>,
    searches: Vec<u8>,
    reviews: Vec<u8>,
    personas: Vec<u8>,
}

fn shop(cat: &Catalogue, users: u64, seed: u64, threads: usize) -> (Shop, Stats) {
    let mut s = Shop::default();
    let stats = generate(
        cat,
        &Config { users, seed, threads },
        Sinks {
            items: &mut s.items,
            users: &mut s.users,
            events: &mut s.events,
            searches: &mut s.searches,
            reviews: &mut s.reviews,
            personas: &mut s.personas,
        },
    )
    .expect("generate");
    (s, stats)
}

/// One shop of 20,000 users (seed 1), shared by the tests that only read it.
fn default_shop() -> &'static (Catalogue, Shop, Stats) {
    static SHOP: OnceLock<(Catalogue, Shop, Stats)> = OnceLock::new();
    SHOP.get_or_init(|| {
        let cat = catalogue(1);
        let (s, stats) = shop(&cat, 20_000, 1, 2);
        (cat, s, stats)
    })
}

fn rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("valid CSV"))
        .collect()
}

fn header(bytes: &[u8]) -> String {
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    r.headers().expect("header").iter().collect::<Vec<_>>().join(",")
}

/// Parses `YYYY-MM-DD HH:MM:SS+00` back to a Unix time.
fn unix(ts: &str) -> i64 {
    assert!(ts.ends_with("+00"), "{ts}");
    let (y, m, d) = (&ts[0..4], &ts[5..7], &ts[8..10]);
    let (y, m, d): (i64, i64, i64) = (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
    let (hh, mm, ss): (i64, i64, i64) = (
        ts[11..13].parse().unwrap(),
        ts[14..16].parse().unwrap(),
        ts[17..19].parse().unwrap(),
    );
    // days from civil (H. Hinnant)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

fn personas(s: &Shop) -> HashMap<u64, String> {
    rows(&s.personas)
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[2].to_string()))
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let cat = catalogue(7);
    let (a, _) = shop(&cat, 3_000, 7, 1);
    let (b, _) = shop(&catalogue(7), 3_000, 7, 1);
    assert!(a == b, "two runs with seed 7 differ");
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let cat = catalogue(3);
    let (one, _) = shop(&cat, 20_000, 3, 1);
    let (three, _) = shop(&cat, 20_000, 3, 3);
    assert!(one == three, "1 and 3 threads give different files");
}

#[test]
fn different_seeds_give_different_shops() {
    let (a, _) = shop(&catalogue(1), 2_000, 1, 1);
    let (b, _) = shop(&catalogue(2), 2_000, 2, 1);
    assert_ne!(a.events, b.events);
    assert_ne!(a.items, b.items, "prices depend on the seed");
}

#[test]
fn a_smaller_shop_is_a_prefix_of_a_larger_one() {
    // Each user has a random stream of its own, so user 1..n are the same whatever --users.
    let cat = catalogue(5);
    let (small, _) = shop(&cat, 500, 5, 1);
    let (large, _) = shop(&cat, 1_000, 5, 2);
    assert!(large.events.starts_with(&small.events));
    assert!(large.personas.starts_with(&small.personas));
}

#[test]
fn files_have_the_documented_headers() {
    let (_, s, _) = default_shop();
    assert_eq!(header(&s.items), "item_id,title,category,class,price");
    assert_eq!(header(&s.users), "user_id,signup_at,age,region,channel");
    assert_eq!(header(&s.events), "user_id,item_id,event_type,price,order_id,occurred_at");
    assert_eq!(header(&s.searches), "user_id,query,searched_at");
    assert_eq!(header(&s.reviews), "user_id,item_id,rating,title,body,reviewed_at");
    assert_eq!(header(&s.personas), "user_id,persona_id,persona");
}

#[test]
fn catalogue_is_the_real_clothing_ids_with_titles_and_prices() {
    let (cat, s, stats) = default_shop();
    let items = rows(&s.items);
    assert_eq!(items.len() as u64, stats.items);
    // 1,206 Clothing IDs; 7 have no department in any review and are left out.
    assert_eq!(items.len(), 1_199);
    let departments: HashSet<&str> = items.iter().map(|r| r.get(2).unwrap()).collect();
    let expected: HashSet<&str> = ["Tops", "Dresses", "Bottoms", "Intimate", "Jackets", "Trend"].into_iter().collect();
    assert_eq!(departments, expected);
    let mut ids = HashSet::new();
    for r in &items {
        assert!(ids.insert(r[0].to_string()), "duplicate item id {}", &r[0]);
        assert!(!r[1].is_empty() && !r[3].is_empty());
        let price: f64 = r[4].parse().unwrap();
        assert!(price > 1.0 && price < 600.0, "price {price}");
    }
    // Prices spread within a class, and tiers are terciles.
    let dresses: Vec<&persona_shop::Item> = cat.items.iter().filter(|i| i.class == "Dresses").collect();
    let min = dresses.iter().map(|i| i.price_cents).min().unwrap();
    let max = dresses.iter().map(|i| i.price_cents).max().unwrap();
    assert!(max as f64 > 1.8 * min as f64, "dress prices {min}..{max}");
    for t in 0..3u8 {
        let n = dresses.iter().filter(|i| i.tier == t).count();
        assert!(
            n >= dresses.len() / 3 - 1 && n <= dresses.len() / 3 + 1,
            "tier {t}: {n} of {}",
            dresses.len()
        );
    }
}

#[test]
fn persona_shares_are_as_planned() {
    let (_, _, stats) = default_shop();
    assert_eq!(stats.users, 20_000);
    for p in Persona::ALL {
        let share = stats.per_persona[p as usize] as f64 / 20_000.0;
        let tol = (p.share() * 0.15).max(0.002);
        assert!((share - p.share()).abs() < tol, "{}: {share:.4} vs {}", p.name(), p.share());
    }
    assert!(stats.per_persona[Persona::Bot as usize] >= 60, "too few bots for a detection AUC");
}

#[test]
fn every_row_references_a_known_user_and_item_within_the_window() {
    let (_, s, stats) = default_shop();
    let items: HashSet<String> = rows(&s.items).iter().map(|r| r[0].to_string()).collect();
    let users = rows(&s.users);
    assert_eq!(users.len() as u64, stats.users);
    let user_ids: HashSet<String> = users.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(user_ids.len(), users.len());
    assert_eq!(personas(s).len(), users.len(), "one persona per user");
    let signup: HashMap<String, i64> = users.iter().map(|r| (r[0].to_string(), unix(&r[1]))).collect();
    let mut first_seen: HashMap<String, i64> = HashMap::new();

    let events = rows(&s.events);
    assert_eq!(events.len() as u64, stats.events);
    for r in &events {
        assert!(user_ids.contains(&r[0]), "unknown user {}", &r[0]);
        assert!(items.contains(&r[1]), "unknown item {}", &r[1]);
        assert!(matches!(&r[2], "view" | "cart" | "purchase"), "event type {}", &r[2]);
        assert!(r[3].parse::<f64>().unwrap() > 0.0);
        assert_eq!(r[2] == *"purchase", !r[4].is_empty(), "order id only on purchases");
        let t = unix(&r[5]);
        assert!((START_UNIX..END_UNIX).contains(&t), "event at {}", &r[5]);
        let f = first_seen.entry(r[0].to_string()).or_insert(t);
        *f = (*f).min(t);
    }
    for r in rows(&s.searches) {
        assert!(user_ids.contains(&r[0]));
        assert!(!r[1].is_empty() && !r[1].contains('{'), "query {}", &r[1]);
        let t = unix(&r[2]);
        assert!((START_UNIX - 3600..END_UNIX).contains(&t));
    }
    for r in rows(&s.reviews) {
        assert!(user_ids.contains(&r[0]));
        assert!(items.contains(&r[1]));
        assert!(!r[4].is_empty());
        assert!(unix(&r[5]) < END_UNIX);
    }
    for (u, t) in &first_seen {
        assert!(signup[u] < *t, "user {u} signed up after their first event");
    }
}

#[test]
fn reviews_are_real_texts_of_bought_items_with_the_persona_tone() {
    let (cat, s, _) = default_shop();
    // The same text can occur more than once in the data set.
    let mut texts: HashMap<&str, Vec<(u32, u8)>> = HashMap::new();
    for r in &cat.reviews {
        texts.entry(r.body.as_str()).or_default().push((r.item_id, r.rating));
    }
    let bought: HashSet<(String, String)> = rows(&s.events)
        .iter()
        .filter(|r| &r[2] == "purchase")
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let who = personas(s);
    let reviews = rows(&s.reviews);
    assert!(reviews.len() > 3_000, "{} reviews", reviews.len());
    let (mut same_item, mut same_rating) = (0, 0);
    let mut ratings: HashMap<&str, Vec<f64>> = HashMap::new();
    for r in &reviews {
        assert!(
            bought.contains(&(r[0].to_string(), r[1].to_string())),
            "review of an item not bought"
        );
        let sources = texts.get(&r[4]).expect("review text from the data set");
        same_item += sources.iter().any(|(item, _)| item.to_string() == r[1]) as usize;
        same_rating += sources.iter().any(|(_, rating)| rating.to_string() == r[2]) as usize;
        ratings
            .entry(who[&r[0].parse::<u64>().unwrap()].as_str())
            .or_default()
            .push(r[2].parse().unwrap());
    }
    assert_eq!(same_rating, reviews.len(), "the text's own rating is the review's rating");
    assert!(
        same_item as f64 > 0.5 * reviews.len() as f64,
        "{same_item} of {} from the item itself",
        reviews.len()
    );
    let mean = |p: &str| ratings[p].iter().sum::<f64>() / ratings[p].len() as f64;
    let share3 = |p: &str| ratings[p].iter().filter(|&&x| x == 3.0).count() as f64 / ratings[p].len() as f64;
    assert!(mean("loyal_premium") > 4.4, "premium {}", mean("loyal_premium"));
    assert!(mean("lapsed") < 2.5, "lapsed {}", mean("lapsed"));
    assert!(share3("bargain_hunter") > 0.3, "bargain 3-star share {}", share3("bargain_hunter"));
    assert!(!ratings.contains_key("bot"), "bots write no reviews");
}

#[test]
fn personas_behave_differently() {
    let (cat, s, _) = default_shop();
    let who = personas(s);
    let price: HashMap<String, u32> = cat.items.iter().map(|i| (i.item_id.to_string(), i.price_cents)).collect();
    let tier: HashMap<String, u8> = cat.items.iter().map(|i| (i.item_id.to_string(), i.tier)).collect();
    #[derive(Default)]
    struct Acc {
        users: HashSet<u64>,
        events: f64,
        purchases: f64,
        high_tier: f64,
        low_tier: f64,
        last: i64,
        late_events: f64,
        buyers: HashSet<u64>,
        sessions: HashMap<u64, Vec<(String, i64)>>,
    }
    let mut acc: HashMap<String, Acc> = HashMap::new();
    for r in rows(&s.events) {
        let u: u64 = r[0].parse().unwrap();
        let a = acc.entry(who[&u].clone()).or_default();
        a.users.insert(u);
        a.events += 1.0;
        let t = unix(&r[5]);
        a.last = a.last.max(t);
        if t > START_UNIX + 45 * 86_400 {
            a.late_events += 1.0;
        }
        if &r[2] == "purchase" {
            a.purchases += 1.0;
            a.buyers.insert(u);
        }
        match tier[&r[1]] {
            0 => a.low_tier += 1.0,
            2 => a.high_tier += 1.0,
            _ => {}
        }
        // Views and carts show the list price; a purchase pays it or a sale price below it.
        let paid = (r[3].parse::<f64>().unwrap() * 100.0).round() as u32;
        if &r[2] == "purchase" {
            assert!(paid <= price[&r[1]], "paid {paid} over the list price {}", price[&r[1]]);
        } else {
            assert_eq!(paid, price[&r[1]]);
        }
        a.sessions.entry(u).or_default().push((r[1].to_string(), t));
    }
    let per_user = |p: &str, f: fn(&Acc) -> f64| f(&acc[p]) / acc[p].users.len() as f64;
    // Activity: trend browsers are the busiest humans, gift buyers the quietest.
    assert!(per_user("trend_browser", |a| a.events) > 1.5 * per_user("loyal_premium", |a| a.events));
    assert!(per_user("gift_buyer", |a| a.events) < 10.0);
    // Buying: premium buyers buy most; trend browsers rarely; gift buyers exactly once.
    assert!(per_user("loyal_premium", |a| a.purchases) > 5.0);
    assert!(per_user("trend_browser", |a| a.purchases) < 1.0);
    let g = &acc["gift_buyer"];
    assert_eq!(g.purchases as usize, g.users.len(), "one purchase per gift buyer");
    // Price band.
    let high = |p: &str| acc[p].high_tier / acc[p].events;
    let low = |p: &str| acc[p].low_tier / acc[p].events;
    assert!(high("loyal_premium") > 0.7, "premium high-tier share {}", high("loyal_premium"));
    assert!(low("bargain_hunter") > 0.7, "bargain low-tier share {}", low("bargain_hunter"));
    // Lapsed customers: nothing after the first four weeks.
    assert!(acc["lapsed"].last < START_UNIX + 27 * 86_400);
    assert_eq!(acc["lapsed"].late_events, 0.0);
    assert!(acc["loyal_premium"].late_events > 0.3 * acc["loyal_premium"].events);
}

#[test]
fn bots_only_view_in_identical_bursts() {
    let (_, s, _) = default_shop();
    let who = personas(s);
    let bots: HashSet<u64> = who.iter().filter(|(_, p)| p.as_str() == "bot").map(|(u, _)| *u).collect();
    assert!(!bots.is_empty());
    let mut per_bot: HashMap<u64, Vec<(String, i64)>> = HashMap::new();
    for r in rows(&s.events) {
        let u: u64 = r[0].parse().unwrap();
        if bots.contains(&u) {
            assert_eq!(&r[2], "view", "bot {u} did a {}", &r[2]);
            per_bot.entry(u).or_default().push((r[1].to_string(), unix(&r[5])));
        }
    }
    for r in rows(&s.searches).iter().chain(rows(&s.reviews).iter()) {
        assert!(!bots.contains(&r[0].parse().unwrap()), "bots neither search nor review");
    }
    // Split each bot's views into bursts (gaps over an hour): every burst of every bot is
    // the same sequence of items, two seconds apart.
    let mut reference: Option<Vec<String>> = None;
    for (u, views) in &per_bot {
        let mut bursts: Vec<Vec<(String, i64)>> = Vec::new();
        for v in views {
            match bursts.last_mut() {
                Some(b) if v.1 - b.last().unwrap().1 < 3600 => b.push(v.clone()),
                _ => bursts.push(vec![v.clone()]),
            }
        }
        assert!(bursts.len() >= 2, "bot {u}: {} bursts", bursts.len());
        for b in bursts {
            let items: Vec<String> = b.iter().map(|v| v.0.clone()).collect();
            assert!(b.windows(2).all(|w| w[1].1 - w[0].1 == 2), "bot {u}: views not two seconds apart");
            match &reference {
                None => reference = Some(items),
                Some(r) => assert_eq!(r, &items, "bot {u}: a different session"),
            }
        }
    }
    assert!(reference.unwrap().len() >= 50);
}

#[test]
fn searches_follow_the_persona() {
    let (_, s, _) = default_shop();
    let who = personas(s);
    let mut by: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows(&s.searches) {
        by.entry(who[&r[0].parse::<u64>().unwrap()].clone())
            .or_default()
            .push(r[1].to_string());
    }
    let share = |p: &str, words: &[&str]| {
        let q = &by[p];
        q.iter().filter(|q| words.iter().any(|w| q.contains(w))).count() as f64 / q.len() as f64
    };
    assert!(
        share(
            "bargain_hunter",
            &["sale", "cheap", "under $", "clearance", "deals", "discount", "budget", "coupon"]
        ) > 0.95
    );
    assert!(share("gift_buyer", &["gift", "present"]) > 0.95);
    assert!(
        share(
            "loyal_premium",
            &["silk", "cashmere", "designer", "luxury", "wool", "premium", "new season"]
        ) > 0.95
    );
    // A few hundred distinct queries in all, so a demo embeds each once.
    let distinct: HashSet<&String> = by.values().flatten().collect();
    assert!(distinct.len() < 2_000, "{} distinct queries", distinct.len());
}
