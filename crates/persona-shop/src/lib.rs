//! A deterministic demo shop for persona, with planted truth.
//!
//! The catalogue is the real one of the CC0 women's clothing reviews (`data/`): every
//! Clothing ID with its Department (the category) and Class, a title made from the class and
//! the words its reviews use most, and a price drawn per class with spread. Users are drawn
//! from six personas that differ in the departments and price band they shop, how active they
//! are and when, how often they buy, what they search for and the ratings they give. Their 90
//! days of events (views, carts, purchases), searches and reviews (real review texts of the
//! item they bought, with the rating their persona gives) are written as CSV, one user at a
//! time, so memory stays bounded however many users there are. The persona of each user goes
//! to a file of its own, which the pipeline never reads, so that a demo can score itself.
//!
//! Everything is a function of the seed: every user has a random stream of its own
//! (ChaCha8, stream = user id), so the output is byte-identical for a seed, whatever the
//! number of threads.

use flate2::read::GzDecoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
mod bots;
mod zh;
pub use bots::{BotShape, Variant};
pub use zh::read_polarity_dir;

/// Length of the event window, in days.
pub const DAYS: i64 = 90;
/// End of the window (exclusive): 2026-07-01 00:00:00 UTC.
pub const END_UNIX: i64 = 1_782_864_000;
/// Start of the window: 2026-04-02 00:00:00 UTC.
pub const START_UNIX: i64 = END_UNIX - DAYS * 86_400;

/// The planted personas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Persona {
    BargainHunter,
    LoyalPremium,
    TrendBrowser,
    GiftBuyer,
    Lapsed,
    Bot,
}

impl Persona {
    pub const ALL: [Persona; 6] = [
        Persona::BargainHunter,
        Persona::LoyalPremium,
        Persona::TrendBrowser,
        Persona::GiftBuyer,
        Persona::Lapsed,
        Persona::Bot,
    ];

    /// Name written to personas.csv.
    pub fn name(self) -> &'static str {
        match self {
            Persona::BargainHunter => "bargain_hunter",
            Persona::LoyalPremium => "loyal_premium",
            Persona::TrendBrowser => "trend_browser",
            Persona::GiftBuyer => "gift_buyer",
            Persona::Lapsed => "lapsed",
            Persona::Bot => "bot",
        }
    }

    /// 1-based id written to personas.csv (for agreement scores over integer labels).
    pub fn id(self) -> u8 {
        self as u8 + 1
    }

    /// Expected share of the users.
    pub fn share(self) -> f64 {
        match self {
            Persona::BargainHunter => 0.24,
            Persona::LoyalPremium => 0.18,
            Persona::TrendBrowser => 0.22,
            Persona::GiftBuyer => 0.16,
            Persona::Lapsed => 0.195,
            Persona::Bot => 0.005,
        }
    }

    fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }
}

const LOW: [bool; 3] = [true, false, false];
const MID: [bool; 3] = [false, true, false];
const HIGH: [bool; 3] = [false, false, true];
const MID_HIGH: [bool; 3] = [false, true, true];
const ANY: [bool; 3] = [true, true, true];

/// How a persona shops.
struct Spec {
    /// (department, price tiers within the class: low, mid, high) it mostly shops.
    cells: &'static [(&'static str, [bool; 3])],
    /// Share of views drawn from the whole catalogue instead.
    noise: f64,
    /// Sessions in the window (inclusive range), views per session.
    sessions: (u32, u32),
    views: (u32, u32),
    /// Chance that a viewed item goes to the cart, and that a carted item is bought.
    cart_p: f64,
    buy_p: f64,
    /// Chance that a purchase is at a sale price (60-85% of the list price).
    sale_p: f64,
    /// Chance that a purchase gets a review, and the weights of ratings 1..5.
    review_p: f64,
    ratings: [f64; 5],
    /// Searches in the window (inclusive range) and the query templates.
    searches: (u32, u32),
    queries: &'static [&'static str],
    /// Days of the window (from its start) the persona is active in.
    days: (f64, f64),
    /// Hours of the day sessions start in.
    hours: (u32, u32),
    /// Age range, and weights of the acquisition channels (CHANNELS).
    ages: (u32, u32),
    channels: [f64; 5],
}

const CHANNELS: [&str; 5] = ["direct", "search", "social", "email", "affiliate"];
const REGIONS: [&str; 6] = ["Northeast", "Southeast", "Midwest", "Southwest", "West", "Pacific Northwest"];
const COLOURS: [&str; 8] = ["black", "white", "navy", "red", "green", "blush", "grey", "ivory"];

static SPECS: [Spec; 6] = [
    // Bargain hunters: cheap tops, bottoms and lounge wear; many views, buy on sale;
    // lukewarm reviews.
    Spec {
        cells: &[("Tops", LOW), ("Bottoms", LOW), ("Intimate", LOW)],
        noise: 0.1,
        sessions: (5, 12),
        views: (5, 12),
        cart_p: 0.15,
        buy_p: 0.45,
        sale_p: 0.7,
        review_p: 0.08,
        ratings: [0.07, 0.15, 0.40, 0.25, 0.13],
        searches: (2, 6),
        queries: &[
            "{noun} on sale",
            "cheap {noun}",
            "{noun} under $30",
            "clearance {noun}",
            "{noun} deals",
            "discount {noun}",
            "{colour} {noun} sale",
            "budget {noun} free shipping",
            "{noun} coupon code",
        ],
        days: (0.0, 90.0),
        hours: (18, 23),
        ages: (22, 45),
        channels: [0.15, 0.25, 0.10, 0.20, 0.30],
    },
    // Loyal premium buyers: expensive dresses, jackets and tops, bought often all along;
    // happy reviews.
    Spec {
        cells: &[("Dresses", HIGH), ("Jackets", HIGH), ("Tops", HIGH)],
        noise: 0.1,
        sessions: (4, 10),
        views: (2, 6),
        cart_p: 0.35,
        buy_p: 0.75,
        sale_p: 0.02,
        review_p: 0.06,
        ratings: [0.01, 0.02, 0.05, 0.22, 0.70],
        searches: (1, 3),
        queries: &[
            "silk {noun}",
            "cashmere {noun}",
            "designer {noun}",
            "luxury {noun}",
            "tailored wool {noun}",
            "{colour} silk {noun}",
            "new season {noun} collection",
            "premium italian {noun}",
        ],
        days: (0.0, 90.0),
        hours: (7, 22),
        ages: (35, 65),
        channels: [0.50, 0.20, 0.05, 0.25, 0.0],
    },
    // Trend browsers: the Trend department, mid-priced dresses and tops; many long
    // sessions, rarely buy.
    Spec {
        cells: &[("Trend", ANY), ("Dresses", MID), ("Tops", MID)],
        noise: 0.1,
        sessions: (8, 18),
        views: (4, 10),
        cart_p: 0.05,
        buy_p: 0.15,
        sale_p: 0.1,
        review_p: 0.35,
        ratings: [0.04, 0.08, 0.18, 0.35, 0.35],
        searches: (3, 8),
        queries: &[
            "trending {noun}",
            "new arrivals {noun}",
            "{noun} street style",
            "boho {noun}",
            "statement {noun}",
            "festival outfit {noun}",
            "{colour} {noun} trend",
            "what to wear this summer",
            "viral {noun}",
        ],
        days: (0.0, 90.0),
        hours: (10, 23),
        ages: (18, 32),
        channels: [0.10, 0.15, 0.65, 0.05, 0.05],
    },
    // One-off gift buyers: sleep, lounge and intimates, mid-priced jackets; one or two
    // sessions (mostly before Mother's Day, 10 May), one purchase.
    Spec {
        cells: &[("Intimate", MID_HIGH), ("Jackets", MID)],
        noise: 0.1,
        sessions: (1, 2),
        views: (2, 6),
        cart_p: 0.0,
        buy_p: 0.0,
        sale_p: 0.05,
        review_p: 0.3,
        ratings: [0.02, 0.03, 0.08, 0.27, 0.60],
        searches: (1, 3),
        queries: &[
            "gift for mom",
            "gift for her {noun}",
            "mothers day gift {noun}",
            "gift set {noun}",
            "birthday present for wife",
            "{noun} gift wrapped",
            "cozy {noun} gift",
            "{colour} {noun} gift",
        ],
        days: (0.0, 90.0),
        hours: (9, 21),
        ages: (28, 60),
        channels: [0.20, 0.60, 0.10, 0.05, 0.05],
    },
    // Lapsed customers: mid to high bottoms, cheap dresses and jackets; active only in the
    // first four weeks; unhappy reviews.
    Spec {
        cells: &[("Bottoms", MID_HIGH), ("Dresses", LOW), ("Jackets", LOW)],
        noise: 0.1,
        sessions: (3, 7),
        views: (3, 8),
        cart_p: 0.25,
        buy_p: 0.6,
        sale_p: 0.2,
        review_p: 0.15,
        ratings: [0.35, 0.30, 0.20, 0.10, 0.05],
        searches: (1, 3),
        queries: &[
            "{noun} petite",
            "{noun} size 12",
            "return policy",
            "{noun} tall",
            "{noun} that fits",
            "{colour} {noun}",
            "how to return {noun}",
        ],
        days: (0.0, 26.0),
        hours: (8, 22),
        ages: (25, 60),
        channels: [0.30, 0.30, 0.15, 0.15, 0.10],
    },
    // Bot-like accounts: bursts of views of the same crawl, two seconds apart; never a
    // cart, purchase, search or review.
    Spec {
        cells: &[],
        noise: 0.0,
        sessions: (4, 8),
        views: (0, 0),
        cart_p: 0.0,
        buy_p: 0.0,
        sale_p: 0.0,
        review_p: 0.0,
        ratings: [0.0; 5],
        searches: (0, 0),
        queries: &[],
        days: (0.0, 90.0),
        hours: (0, 23),
        ages: (0, 0),
        channels: [1.0, 0.0, 0.0, 0.0, 0.0],
    },
];

/// Base price (USD) and the noun used in titles and searches, per Class.
fn class_info(class: &str) -> (f64, &'static str) {
    match class {
        "Dresses" => (128.0, "dress"),
        "Knits" => (58.0, "knit top"),
        "Blouses" => (78.0, "blouse"),
        "Sweaters" => (98.0, "sweater"),
        "Pants" => (98.0, "pants"),
        "Jeans" => (128.0, "jeans"),
        "Fine gauge" => (88.0, "fine-gauge sweater"),
        "Skirts" => (88.0, "skirt"),
        "Jackets" => (148.0, "jacket"),
        "Lounge" => (68.0, "lounge set"),
        "Swim" => (88.0, "swimsuit"),
        "Outerwear" => (198.0, "coat"),
        "Shorts" => (58.0, "shorts"),
        "Sleep" => (58.0, "pajamas"),
        "Legwear" => (28.0, "tights"),
        "Intimates" => (38.0, "bralette"),
        "Layering" => (34.0, "cami"),
        "Trend" => (118.0, "statement piece"),
        "Casual bottoms" => (68.0, "joggers"),
        "Chemises" => (48.0, "chemise"),
        _ => (60.0, "piece"),
    }
}

/// Words from reviews that make a title: styles first, then fabrics and colours.
const STYLE_WORDS: [&str; 24] = [
    "floral",
    "striped",
    "lace",
    "embroidered",
    "ruffled",
    "pleated",
    "tiered",
    "printed",
    "plaid",
    "sequin",
    "cropped",
    "sleeveless",
    "wrap",
    "maxi",
    "midi",
    "mini",
    "oversized",
    "fitted",
    "flowy",
    "boho",
    "ribbed",
    "smocked",
    "peplum",
    "tunic",
];
const FABRIC_WORDS: [&str; 26] = [
    "linen", "silk", "cotton", "denim", "velvet", "wool", "cashmere", "jersey", "chiffon", "suede", "leather", "fleece", "satin", "modal",
    "corduroy", "tweed", "black", "white", "navy", "red", "green", "blue", "grey", "pink", "ivory", "olive",
];
const PLAIN_WORDS: [&str; 6] = ["Classic", "Everyday", "Essential", "Signature", "Relaxed", "Modern"];

/// One review of the source data set.
#[derive(Clone, Debug)]
pub struct SourceReview {
    pub item_id: u32,
    pub rating: u8,
    pub title: String,
    pub body: String,
}

/// One catalogue item.
#[derive(Clone, Debug)]
pub struct Item {
    pub item_id: u32,
    pub title: String,
    pub department: String,
    pub class: String,
    /// List price in cents.
    pub price_cents: u32,
    /// Price tier within its class: 0 low, 1 mid, 2 high (terciles).
    pub tier: u8,
    /// Reviews of the item in the source data (its popularity).
    pub reviews: u32,
}

/// Weighted sampling from a list of catalogue positions.
#[derive(Clone, Debug, Default)]
struct Pool {
    items: Vec<u32>,
    cumulative: Vec<f64>,
}

impl Pool {
    fn new(items: Vec<u32>, weight: impl Fn(u32) -> f64) -> Pool {
        let mut total = 0.0;
        let cumulative = items
            .iter()
            .map(|&i| {
                total += weight(i);
                total
            })
            .collect();
        Pool { items, cumulative }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = *self.cumulative.last().expect("empty pool");
        let x = rng.random::<f64>() * total;
        let k = self.cumulative.partition_point(|&c| c <= x).min(self.items.len() - 1);
        self.items[k]
    }
}

/// The catalogue and the review texts, with the samplers built from them.
pub struct Catalogue {
    pub items: Vec<Item>,
    pub reviews: Vec<SourceReview>,
    /// Review positions by (catalogue position, rating), and by (class, rating).
    by_item_rating: HashMap<(u32, u8), Vec<u32>>,
    by_class_rating: HashMap<(String, u8), Vec<u32>>,
    by_department_rating: HashMap<(String, u8), Vec<u32>>,
    /// Per persona (except bots): the items it mostly shops.
    pools: Vec<Pool>,
    /// The whole catalogue by popularity.
    everything: Pool,
    /// The bots' crawl: the same items in the same order every time.
    crawl: Vec<u32>,
    /// Chinese titles and search queries (set with the Chinese reviews).
    chinese: bool,
}

impl Catalogue {
    /// Reads the gzip-compressed reviews CSV (the data set's own layout) and builds the
    /// catalogue. Prices depend on the seed; everything else on the file only.
    pub fn from_reviews_gz(path: &Path, seed: u64) -> io::Result<Catalogue> {
        let file = std::fs::File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Catalogue::from_reviews_csv(GzDecoder::new(io::BufReader::new(file)), seed)
    }

    /// As `from_reviews_gz`, from the uncompressed CSV.
    pub fn from_reviews_csv<R: Read>(reader: R, seed: u64) -> io::Result<Catalogue> {
        let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
        // Per Clothing ID: counts of (department, class) and the review rows.
        let mut kinds: HashMap<u32, HashMap<(String, String), u32>> = HashMap::new();
        let mut rows: Vec<SourceReview> = Vec::new();
        for record in csv.records() {
            let r = record.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let field = |i: usize| r.get(i).unwrap_or("").trim();
            let Ok(item_id) = field(1).parse::<u32>() else { continue };
            let department = field(9);
            let class = field(10);
            if !department.is_empty() && !class.is_empty() {
                *kinds
                    .entry(item_id)
                    .or_default()
                    .entry((department.to_string(), class.to_string()))
                    .or_default() += 1;
            }
            let body = field(4);
            let Ok(rating) = field(5).parse::<u8>() else { continue };
            if body.is_empty() || !(1..=5).contains(&rating) {
                continue;
            }
            rows.push(SourceReview {
                item_id,
                rating,
                title: field(3).to_string(),
                body: body.to_string(),
            });
        }
        if kinds.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no items with a department in the reviews file",
            ));
        }

        // Items: every Clothing ID whose reviews name a department (the most frequent
        // department and class if they disagree), in id order.
        let mut ids: Vec<u32> = kinds.keys().copied().collect();
        ids.sort_unstable();
        let mut position: HashMap<u32, u32> = HashMap::new();
        let mut items: Vec<Item> = Vec::with_capacity(ids.len());
        for &id in &ids {
            let mut k: Vec<(&(String, String), &u32)> = kinds[&id].iter().collect();
            k.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let (department, class) = k[0].0.clone();
            position.insert(id, items.len() as u32);
            items.push(Item {
                item_id: id,
                title: String::new(),
                department,
                class,
                price_cents: 0,
                tier: 0,
                reviews: 0,
            });
        }
        let reviews: Vec<SourceReview> = rows.into_iter().filter(|r| position.contains_key(&r.item_id)).collect();

        // Titles: the class noun with the style and the fabric or colour word its reviews
        // use most (ties: list order); a plain word when they use none.
        let mut word_counts: Vec<HashMap<&'static str, u32>> = vec![HashMap::new(); items.len()];
        for r in &reviews {
            let p = position[&r.item_id] as usize;
            items[p].reviews += 1;
            let lower = r.body.to_lowercase();
            for w in lower.split(|c: char| !c.is_alphanumeric() && c != '-') {
                if let Some(s) = STYLE_WORDS.iter().chain(FABRIC_WORDS.iter()).find(|&&s| s == w) {
                    *word_counts[p].entry(s).or_default() += 1;
                }
            }
        }
        for (p, item) in items.iter_mut().enumerate() {
            let best = |list: &[&'static str]| -> Option<&'static str> {
                let mut best: Option<(&'static str, u32)> = None;
                for &w in list {
                    if let Some(&n) = word_counts[p].get(w) {
                        if best.is_none_or(|(_, m)| n > m) {
                            best = Some((w, n));
                        }
                    }
                }
                best.map(|(w, _)| w)
            };
            let noun = class_info(&item.class).1;
            let mut words: Vec<String> = Vec::new();
            for w in [best(&STYLE_WORDS), best(&FABRIC_WORDS)].into_iter().flatten() {
                if !noun.contains(w) {
                    words.push(capitalise(w));
                }
            }
            if words.is_empty() {
                words.push(PLAIN_WORDS[item.item_id as usize % PLAIN_WORDS.len()].to_string());
            }
            words.push(noun.split(' ').map(capitalise).collect::<Vec<_>>().join(" "));
            item.title = words.join(" ");
        }

        // Prices: the class's base price times a log-normal spread (sigma 0.35, clamped to
        // 0.45-2.5x), in whole dollars less 5 cents; tiers are price terciles within a class.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(u64::MAX);
        for item in items.iter_mut() {
            let base = class_info(&item.class).0;
            let mult = (0.35 * normal(&mut rng)).exp().clamp(0.45, 2.5);
            item.price_cents = ((base * mult).round().max(5.0) as u32) * 100 - 5;
        }
        let mut by_class: HashMap<&str, Vec<usize>> = HashMap::new();
        for (p, item) in items.iter().enumerate() {
            by_class.entry(item.class.as_str()).or_default().push(p);
        }
        let mut tiers = vec![0u8; items.len()];
        for members in by_class.values() {
            let mut m = members.clone();
            m.sort_by_key(|&p| (items[p].price_cents, items[p].item_id));
            for (rank, &p) in m.iter().enumerate() {
                tiers[p] = (rank * 3 / m.len()) as u8;
            }
        }
        for (item, t) in items.iter_mut().zip(tiers) {
            item.tier = t;
        }

        // Review lookups.
        let mut by_item_rating: HashMap<(u32, u8), Vec<u32>> = HashMap::new();
        let mut by_class_rating: HashMap<(String, u8), Vec<u32>> = HashMap::new();
        let mut by_department_rating: HashMap<(String, u8), Vec<u32>> = HashMap::new();
        for (i, r) in reviews.iter().enumerate() {
            let p = position[&r.item_id];
            by_item_rating.entry((p, r.rating)).or_default().push(i as u32);
            by_class_rating
                .entry((items[p as usize].class.clone(), r.rating))
                .or_default()
                .push(i as u32);
            by_department_rating
                .entry((items[p as usize].department.clone(), r.rating))
                .or_default()
                .push(i as u32);
        }

        // Samplers: popularity is the number of reviews (a long tail).
        let weight = |p: u32| (items[p as usize].reviews as f64).powf(0.9) + 0.5;
        let mut pools = Vec::new();
        for persona in Persona::ALL {
            let spec = persona.spec();
            let members: Vec<u32> = (0..items.len() as u32)
                .filter(|&p| {
                    let it = &items[p as usize];
                    spec.cells.iter().any(|(d, t)| *d == it.department && t[it.tier as usize])
                })
                .collect();
            if persona != Persona::Bot && members.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("no items for persona {} in the reviews file", persona.name()),
                ));
            }
            pools.push(Pool::new(members, weight));
        }
        let everything = Pool::new((0..items.len() as u32).collect(), weight);
        let crawl: Vec<u32> = (0..items.len() as u32).step_by((items.len() / 60).max(1)).take(60).collect();
        Ok(Catalogue {
            items,
            reviews,
            by_item_rating,
            by_class_rating,
            by_department_rating,
            pools,
            everything,
            crawl,
            chinese: false,
        })
    }

    /// A real review for an item and a rating: one of the item's own reviews with that
    /// rating, else one of its class with that rating, else one of its department with that
    /// rating, else any review with that rating.
    fn review_for(&self, p: u32, rating: u8, rng: &mut ChaCha8Rng) -> &SourceReview {
        let class = &self.items[p as usize].class;
        let list = self
            .by_item_rating
            .get(&(p, rating))
            .or_else(|| self.by_class_rating.get(&(class.clone(), rating)))
            .or_else(|| self.by_department_rating.get(&(self.items[p as usize].department.clone(), rating)));
        match list {
            Some(list) => &self.reviews[list[rng.random_range(0..list.len())] as usize],
            // Not reached with the shipped data set (every department has every rating).
            None => {
                let all: Vec<&SourceReview> = self.reviews.iter().filter(|r| r.rating == rating).collect();
                all[rng.random_range(0..all.len())]
            }
        }
    }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn pick_weighted(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// The persona of a user: a function of the seed and the user id only.
pub fn persona_of(seed: u64, user_id: u64) -> Persona {
    let mut rng = user_rng(seed, user_id);
    draw_persona(&mut rng)
}

fn draw_persona(rng: &mut ChaCha8Rng) -> Persona {
    let shares: Vec<f64> = Persona::ALL.iter().map(|p| p.share()).collect();
    Persona::ALL[pick_weighted(&shares, rng)]
}

fn user_rng(seed: u64, user_id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(user_id);
    rng
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    pub users: u64,
    pub seed: u64,
    /// Worker threads (0: one per CPU). The output does not depend on it.
    pub threads: usize,
}

/// Where the CSV files go.
pub struct Sinks<'a> {
    pub items: &'a mut dyn Write,
    pub users: &'a mut dyn Write,
    pub events: &'a mut dyn Write,
    pub searches: &'a mut dyn Write,
    pub reviews: &'a mut dyn Write,
    pub personas: &'a mut dyn Write,
}

/// Rows written, per file and per persona.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub items: u64,
    pub users: u64,
    pub events: u64,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
    /// Return events (only with [`Variant::returns`] or a bot shape that returns).
    pub refunds: u64,
    pub searches: u64,
    pub reviews: u64,
    pub per_persona: [u64; 6],
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.items += o.items;
        self.users += o.users;
        self.events += o.events;
        self.views += o.views;
        self.carts += o.carts;
        self.purchases += o.purchases;
        self.refunds += o.refunds;
        self.searches += o.searches;
        self.reviews += o.reviews;
        for i in 0..6 {
            self.per_persona[i] += o.per_persona[i];
        }
    }
}

/// The header line of each file.
pub const ITEMS_HEADER: &str = "item_id,title,category,class,price\n";
pub const USERS_HEADER: &str = "user_id,signup_at,age,region,channel\n";
pub const EVENTS_HEADER: &str = "user_id,item_id,event_type,price,order_id,occurred_at\n";
pub const SEARCHES_HEADER: &str = "user_id,query,searched_at\n";
pub const REVIEWS_HEADER: &str = "user_id,item_id,rating,title,body,reviewed_at\n";
pub const PERSONAS_HEADER: &str = "user_id,persona_id,persona\n";

#[derive(Default)]
struct Buffers {
    users: Vec<u8>,
    events: Vec<u8>,
    searches: Vec<u8>,
    reviews: Vec<u8>,
    personas: Vec<u8>,
    stats: Stats,
}

/// Users generated per round (each round is split between the threads, then written in order).
const ROUND: u64 = 8192;

/// Writes the whole shop. The output is a function of `cat`, `cfg.users` and `cfg.seed`.
pub fn generate(cat: &Catalogue, cfg: &Config, out: Sinks<'_>) -> io::Result<Stats> {
    generate_variant(cat, cfg, &Variant::default(), out)
}

/// As [`generate`], with another kind of bot ring or with returns; the default variant
/// writes the very same bytes as [`generate`].
pub fn generate_variant(cat: &Catalogue, cfg: &Config, variant: &Variant, out: Sinks<'_>) -> io::Result<Stats> {
    let mut stats = Stats::default();
    out.items.write_all(ITEMS_HEADER.as_bytes())?;
    let mut line = Vec::new();
    for item in &cat.items {
        line.clear();
        write_u64(&mut line, item.item_id as u64);
        line.push(b',');
        write_csv_text(&mut line, &item.title);
        line.push(b',');
        write_csv_text(&mut line, &item.department);
        line.push(b',');
        write_csv_text(&mut line, &item.class);
        line.push(b',');
        write_cents(&mut line, item.price_cents);
        line.push(b'\n');
        out.items.write_all(&line)?;
        stats.items += 1;
    }
    out.users.write_all(USERS_HEADER.as_bytes())?;
    out.events.write_all(EVENTS_HEADER.as_bytes())?;
    out.searches.write_all(SEARCHES_HEADER.as_bytes())?;
    out.reviews.write_all(REVIEWS_HEADER.as_bytes())?;
    out.personas.write_all(PERSONAS_HEADER.as_bytes())?;

    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        cfg.threads
    }
    .max(1);
    let mut first = 1u64;
    while first <= cfg.users {
        let last = (first + ROUND - 1).min(cfg.users);
        let n = last - first + 1;
        let per = n.div_ceil(threads as u64);
        let parts: Vec<Buffers> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let lo = first + t * per;
                    let hi = (lo + per - 1).min(last);
                    s.spawn(move || {
                        let mut b = Buffers::default();
                        let mut u = lo;
                        while u <= hi {
                            generate_user(cat, cfg.seed, variant, u, &mut b);
                            u += 1;
                        }
                        b
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("generator thread panicked")).collect()
        });
        for b in parts {
            out.users.write_all(&b.users)?;
            out.events.write_all(&b.events)?;
            out.searches.write_all(&b.searches)?;
            out.reviews.write_all(&b.reviews)?;
            out.personas.write_all(&b.personas)?;
            stats.add(&b.stats);
        }
        first = last + 1;
    }
    Ok(stats)
}

struct Event {
    item: u32,
    kind: u8, // 0 view, 1 cart, 2 purchase, 3 return
    price_cents: u32,
    order: u32,
    at: i64,
}

/// One user's rows, appended to the buffers.
fn generate_user(cat: &Catalogue, seed: u64, variant: &Variant, user_id: u64, b: &mut Buffers) {
    let mut rng = user_rng(seed, user_id);
    let persona = draw_persona(&mut rng);
    let spec = persona.spec();
    b.stats.users += 1;
    b.stats.per_persona[persona as usize] += 1;
    if persona == Persona::Bot && variant.bots != BotShape::Crawler {
        bots::generate_bot(cat, seed, variant.bots, user_id, &mut rng, b);
        return;
    }

    // Session start times, in order.
    let n_sessions = rng.random_range(spec.sessions.0..=spec.sessions.1);
    let mut bot_days: Vec<f64> = Vec::new();
    let mut starts: Vec<i64> = (0..n_sessions)
        .map(|_| {
            let day = if persona == Persona::Bot {
                // Bursts on different days.
                loop {
                    let d = rng.random_range(0..DAYS) as f64;
                    if !bot_days.contains(&d) {
                        bot_days.push(d);
                        break d;
                    }
                }
            } else if persona == Persona::GiftBuyer && rng.random::<f64>() < 0.7 {
                // The two weeks before Mother's Day (10 May 2026 is day 38).
                rng.random_range(24.0..38.0)
            } else {
                rng.random_range(spec.days.0..spec.days.1)
            };
            let hour = rng.random_range(spec.hours.0..=spec.hours.1) as i64;
            let t = START_UNIX + (day.floor() as i64) * 86_400 + hour * 3600 + rng.random_range(0..3600);
            t.min(END_UNIX - 4 * 3600 + rng.random_range(0..3600))
        })
        .collect();
    starts.sort_unstable();

    let mut events: Vec<Event> = Vec::new();
    let mut orders = 0u32;
    let pool = &cat.pools[persona as usize];
    for (s, &start) in starts.iter().enumerate() {
        let mut t = start;
        if persona == Persona::Bot {
            for &item in &cat.crawl {
                events.push(Event {
                    item,
                    kind: 0,
                    price_cents: cat.items[item as usize].price_cents,
                    order: 0,
                    at: t,
                });
                t += 2;
            }
            continue;
        }
        let n_views = rng.random_range(spec.views.0..=spec.views.1);
        let mut cart: Vec<u32> = Vec::new();
        for _ in 0..n_views {
            let item = if rng.random::<f64>() < spec.noise {
                cat.everything.sample(&mut rng)
            } else {
                pool.sample(&mut rng)
            };
            let price = cat.items[item as usize].price_cents;
            events.push(Event {
                item,
                kind: 0,
                price_cents: price,
                order: 0,
                at: t,
            });
            t += rng.random_range(15..240);
            if rng.random::<f64>() < spec.cart_p && !cart.contains(&item) {
                events.push(Event {
                    item,
                    kind: 1,
                    price_cents: price,
                    order: 0,
                    at: t,
                });
                t += rng.random_range(10..120);
                cart.push(item);
            }
        }
        // Gift buyers buy exactly one thing, in their last session.
        if persona == Persona::GiftBuyer && s + 1 == starts.len() {
            let item = events.last().map(|e| e.item).unwrap_or_else(|| pool.sample(&mut rng));
            let price = cat.items[item as usize].price_cents;
            events.push(Event {
                item,
                kind: 1,
                price_cents: price,
                order: 0,
                at: t,
            });
            t += rng.random_range(10..120);
            cart = vec![item];
        }
        let bought: Vec<u32> = if persona == Persona::GiftBuyer {
            cart
        } else {
            cart.into_iter().filter(|_| rng.random::<f64>() < spec.buy_p).collect()
        };
        if !bought.is_empty() {
            orders += 1;
            t += rng.random_range(30..300);
            for item in bought {
                let list = cat.items[item as usize].price_cents;
                let paid = if rng.random::<f64>() < spec.sale_p {
                    let f = rng.random_range(0.60..0.85);
                    ((list as f64 * f / 100.0).round() as u32 * 100).saturating_sub(5).max(95)
                } else {
                    list
                };
                events.push(Event {
                    item,
                    kind: 2,
                    price_cents: paid,
                    order: orders,
                    at: t,
                });
            }
        }
    }

    // Searches, each shortly before the start of one of the sessions.
    let n_searches = rng.random_range(spec.searches.0..=spec.searches.1);
    let mut searches: Vec<(String, i64)> = Vec::new();
    for _ in 0..n_searches {
        // The same draws in both languages, so that a Chinese shop differs only in words.
        let template = rng.random_range(0..spec.queries.len());
        let item = &cat.items[pool.sample(&mut rng) as usize];
        let colour = rng.random_range(0..COLOURS.len());
        let query = if cat.chinese {
            zh::query(persona as usize, template, item, colour)
        } else {
            spec.queries[template].replace("{noun}", class_info(&item.class).1).replace("{colour}", COLOURS[colour])
        };
        let at = starts[rng.random_range(0..starts.len())] - rng.random_range(5..60);
        searches.push((query, at));
    }
    searches.sort_by_key(|s| s.1);

    // Reviews of bought items, 2-20 days later, with the persona's rating.
    let mut reviews: Vec<(u32, u8, &SourceReview, i64)> = Vec::new();
    for e in events.iter().filter(|e| e.kind == 2) {
        if rng.random::<f64>() < spec.review_p {
            let rating = cat.rating_for(pick_weighted(&spec.ratings, &mut rng) as u8 + 1, &mut rng);
            let review = cat.review_for(e.item, rating, &mut rng);
            let at = e.at + rng.random_range(2 * 86_400..20 * 86_400);
            if at < END_UNIX {
                reviews.push((e.item, rating, review, at));
            }
        }
    }
    reviews.sort_by_key(|r| r.3);

    // The user: signed up before their first activity; long-standing customers earlier.
    let first_activity = starts[0].min(searches.first().map(|s| s.1).unwrap_or(i64::MAX));
    let signup = match persona {
        Persona::Bot => first_activity - rng.random_range(60..600),
        Persona::GiftBuyer | Persona::TrendBrowser if rng.random::<f64>() < 0.4 => first_activity - rng.random_range(60..600),
        Persona::LoyalPremium | Persona::Lapsed => START_UNIX - rng.random_range(60 * 86_400..1000 * 86_400),
        _ => START_UNIX - rng.random_range(0..700 * 86_400),
    }
    .min(first_activity - 60);
    let age = if spec.ages.1 > 0 {
        Some(rng.random_range(spec.ages.0..=spec.ages.1))
    } else {
        None
    };
    let region = REGIONS[rng.random_range(0..REGIONS.len())];
    let channel = CHANNELS[pick_weighted(&spec.channels, &mut rng)];
    // Drawn last, so that everything before is the shop without returns.
    if variant.returns {
        bots::add_returns(&mut events, bots::return_share(persona), &mut rng);
    }
    let row = UserRow {
        user_id,
        persona,
        signup,
        age,
        region,
        channel,
    };
    write_user(cat, b, &row, &mut events, &searches, &reviews);
}

/// The users.csv row of a user.
struct UserRow {
    user_id: u64,
    persona: Persona,
    signup: i64,
    age: Option<u32>,
    region: &'static str,
    channel: &'static str,
}

/// Appends one user's rows to the buffers; `events` in any order (sorted here by time).
fn write_user(
    cat: &Catalogue,
    b: &mut Buffers,
    row: &UserRow,
    events: &mut [Event],
    searches: &[(String, i64)],
    reviews: &[(u32, u8, &SourceReview, i64)],
) {
    let UserRow {
        user_id,
        persona,
        signup,
        age,
        region,
        channel,
    } = *row;
    let w = &mut b.users;
    write_u64(w, user_id);
    w.push(b',');
    write_ts(w, signup);
    w.push(b',');
    if let Some(a) = age {
        write_u64(w, a as u64);
    }
    w.push(b',');
    w.extend_from_slice(region.as_bytes());
    w.push(b',');
    w.extend_from_slice(channel.as_bytes());
    w.push(b'\n');

    let w = &mut b.personas;
    write_u64(w, user_id);
    w.push(b',');
    write_u64(w, persona.id() as u64);
    w.push(b',');
    w.extend_from_slice(persona.name().as_bytes());
    w.push(b'\n');

    events.sort_by_key(|e| e.at); // stable: a purchase keeps its place after its cart
    for e in events.iter() {
        let w = &mut b.events;
        write_u64(w, user_id);
        w.push(b',');
        write_u64(w, cat.items[e.item as usize].item_id as u64);
        w.extend_from_slice(match e.kind {
            0 => b",view,".as_slice(),
            1 => b",cart,".as_slice(),
            2 => b",purchase,".as_slice(),
            _ => b",return,".as_slice(),
        });
        write_cents(w, e.price_cents);
        w.push(b',');
        // A return names the order it gives back.
        if e.kind >= 2 {
            write_u64(w, user_id);
            w.push(b'-');
            write_u64(w, e.order as u64);
        }
        w.push(b',');
        write_ts(w, e.at);
        w.push(b'\n');
        b.stats.events += 1;
        match e.kind {
            0 => b.stats.views += 1,
            1 => b.stats.carts += 1,
            2 => b.stats.purchases += 1,
            _ => b.stats.refunds += 1,
        }
    }
    for (query, at) in searches {
        let w = &mut b.searches;
        write_u64(w, user_id);
        w.push(b',');
        write_csv_text(w, query);
        w.push(b',');
        write_ts(w, *at);
        w.push(b'\n');
        b.stats.searches += 1;
    }
    for (item, rating, review, at) in reviews {
        let w = &mut b.reviews;
        write_u64(w, user_id);
        w.push(b',');
        write_u64(w, cat.items[*item as usize].item_id as u64);
        w.push(b',');
        write_u64(w, *rating as u64);
        w.push(b',');
        if !review.title.is_empty() {
            write_csv_text(w, &review.title);
        }
        w.push(b',');
        write_csv_text(w, &review.body);
        w.push(b',');
        write_ts(w, *at);
        w.push(b'\n');
        b.stats.reviews += 1;
    }
}

fn write_u64(w: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    w.extend_from_slice(&digits[i..]);
}

fn write_cents(w: &mut Vec<u8>, cents: u32) {
    write_u64(w, (cents / 100) as u64);
    w.push(b'.');
    w.push(b'0' + (cents % 100 / 10) as u8);
    w.push(b'0' + (cents % 10) as u8);
}

fn write2(w: &mut Vec<u8>, v: i64) {
    w.push(b'0' + (v / 10) as u8);
    w.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD HH:MM:SS+00` for a Unix time.
fn write_ts(w: &mut Vec<u8>, unix: i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    write_u64(w, y as u64);
    w.push(b'-');
    write2(w, m);
    w.push(b'-');
    write2(w, d);
    w.push(b' ');
    write2(w, secs / 3600);
    w.push(b':');
    write2(w, secs / 60 % 60);
    w.push(b':');
    write2(w, secs % 60);
    w.extend_from_slice(b"+00");
}

/// Formats a Unix time as `write_ts` does (for callers and tests).
pub fn format_ts(unix: i64) -> String {
    let mut v = Vec::new();
    write_ts(&mut v, unix);
    String::from_utf8(v).expect("ascii")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn write_csv_text(w: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) || s.is_empty() {
        w.push(b'"');
        for c in s.bytes() {
            if c == b'"' {
                w.push(b'"');
            }
            w.push(c);
        }
        w.push(b'"');
    } else {
        w.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_utc() {
        assert_eq!(format_ts(END_UNIX), "2026-07-01 00:00:00+00");
        assert_eq!(format_ts(START_UNIX), "2026-04-02 00:00:00+00");
        assert_eq!(format_ts(0), "1970-01-01 00:00:00+00");
        assert_eq!(format_ts(951_782_400 + 86_399), "2000-02-29 23:59:59+00");
    }

    #[test]
    fn csv_text_is_quoted_when_needed() {
        let mut v = Vec::new();
        write_csv_text(&mut v, "plain");
        v.push(b'|');
        write_csv_text(&mut v, "a, \"b\"\nc");
        assert_eq!(String::from_utf8(v).unwrap(), "plain|\"a, \"\"b\"\"\nc\"");
    }

    #[test]
    fn numbers_format() {
        let mut v = Vec::new();
        write_u64(&mut v, 0);
        v.push(b' ');
        write_u64(&mut v, 1_234_567);
        v.push(b' ');
        write_cents(&mut v, 7795);
        v.push(b' ');
        write_cents(&mut v, 5);
        assert_eq!(String::from_utf8(v).unwrap(), "0 1234567 77.95 0.05");
    }
}
