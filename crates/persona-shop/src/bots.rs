//! Other kinds of abuse than the default crawler ring, and returns, for shops that test
//! whether a risk score generalises (`persona-shop --bots scalper --returns`).
//!
//! The default shop plants one bot shape only, so a detector could learn "many fast views
//! of one crawl" and nothing else. The shapes here are written to the same personas.csv
//! name (`bot`), so an evaluation counts them the same way:
//!
//! * `scalper`: accounts opened in a few bursts (a campaign), each looking at a few of the
//!   shop's hot items at a human pace, then buying several of the same hot items within
//!   seconds, in one or a few orders, and returning what did not resell weeks later. Every
//!   account shuffles the hot list its own way, so their sequences are similar, not equal.
//! * `slow-crawler`: a shared pool of items visited in a fresh random order each session,
//!   a view every half minute to three minutes, for hours; never a cart. No burst, and no
//!   two sequences alike.
//!
//! With `returns`, ordinary customers return some of their purchases too (at rates that
//! follow how happy their persona is), so that a return alone says nothing.

use crate::{pick_weighted, write_user, Buffers, Catalogue, Event, Persona, UserRow, CHANNELS, DAYS, END_UNIX, REGIONS, START_UNIX};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Which bots a shop plants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BotShape {
    /// The same crawl in the same order, two seconds a view (the default shop).
    #[default]
    Crawler,
    /// Burst-created accounts that buy hot items fast and return them later.
    Scalper,
    /// Shuffled crawls of a shared pool at a human pace.
    SlowCrawler,
}

impl BotShape {
    /// Every shape, as the command line lists them.
    pub const ALL: [BotShape; 3] = [BotShape::Crawler, BotShape::Scalper, BotShape::SlowCrawler];

    /// The name `--bots` takes.
    pub fn name(self) -> &'static str {
        match self {
            BotShape::Crawler => "crawler",
            BotShape::Scalper => "scalper",
            BotShape::SlowCrawler => "slow-crawler",
        }
    }

    /// The shape of a name.
    pub fn parse(name: &str) -> Option<BotShape> {
        BotShape::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What a shop plants beyond the personas' ordinary behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Variant {
    /// The kind of bot ring.
    pub bots: BotShape,
    /// Whether ordinary customers return some purchases.
    pub returns: bool,
}

/// Share of purchased lines an ordinary persona returns.
pub(crate) fn return_share(p: Persona) -> f64 {
    match p {
        Persona::Lapsed => 0.15,
        Persona::TrendBrowser => 0.10,
        Persona::BargainHunter => 0.08,
        Persona::GiftBuyer => 0.06,
        Persona::LoyalPremium => 0.05,
        Persona::Bot => 0.0,
    }
}

/// Returns each purchase with probability `share`, 5 to 25 days after it (dropped when
/// that falls after the window).
pub(crate) fn add_returns(events: &mut Vec<Event>, share: f64, rng: &mut ChaCha8Rng) {
    let bought: Vec<usize> = (0..events.len()).filter(|&i| events[i].kind == 2).collect();
    for i in bought {
        if rng.random::<f64>() < share {
            let e = &events[i];
            let at = e.at + rng.random_range(5 * 86_400..25 * 86_400);
            if at < END_UNIX {
                events.push(Event {
                    item: e.item,
                    kind: 3,
                    price_cents: e.price_cents,
                    order: e.order,
                    at,
                });
            }
        }
    }
}

/// The hot items scalpers go for: the most reviewed items of the top price tier of their
/// class, a function of the catalogue only.
fn hot_items(cat: &Catalogue) -> Vec<u32> {
    let mut top: Vec<u32> = (0..cat.items.len() as u32).filter(|&p| cat.items[p as usize].tier == 2).collect();
    top.sort_by_key(|&p| (std::cmp::Reverse(cat.items[p as usize].reviews), p));
    top.truncate(8);
    top
}

/// The slow crawlers' pool: every n-th item from an offset the fast crawl does not use.
fn slow_pool(cat: &Catalogue) -> Vec<u32> {
    let n = cat.items.len() as u32;
    let step = (n / 150).max(1);
    (step / 2..n).step_by(step as usize).take(150).collect()
}

/// The campaign: the start times of the bursts in which scalper accounts are opened,
/// shared by the whole ring (a stream of its own, so it draws nothing from the users').
fn campaign(seed: u64) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::MAX - 1);
    (0..3)
        .map(|_| START_UNIX + rng.random_range(3..DAYS - 20) * 86_400 + rng.random_range(0..86_400))
        .collect()
}

fn view(cat: &Catalogue, item: u32, at: i64) -> Event {
    Event {
        item,
        kind: 0,
        price_cents: cat.items[item as usize].price_cents,
        order: 0,
        at,
    }
}

/// One bot of `shape` (not the crawler, which the main generator writes), from the user's
/// own stream after its persona draw.
pub(crate) fn generate_bot(cat: &Catalogue, seed: u64, shape: BotShape, user_id: u64, rng: &mut ChaCha8Rng, b: &mut Buffers) {
    let (signup, events) = match shape {
        BotShape::Scalper => scalper(cat, seed, rng),
        _ => slow_crawler(cat, rng),
    };
    let mut events = events;
    // Fake accounts fill in plausible profiles.
    let age = Some(rng.random_range(19..=38));
    let region = REGIONS[rng.random_range(0..REGIONS.len())];
    let channel = CHANNELS[pick_weighted(&[0.1, 0.05, 0.3, 0.0, 0.55], rng)];
    let row = UserRow {
        user_id,
        persona: Persona::Bot,
        signup,
        age,
        region,
        channel,
    };
    write_user(cat, b, &row, &mut events, &[], &[]);
}

fn scalper(cat: &Catalogue, seed: u64, rng: &mut ChaCha8Rng) -> (i64, Vec<Event>) {
    let hot = hot_items(cat);
    let waves = campaign(seed);
    let signup = waves[rng.random_range(0..waves.len())] + rng.random_range(0..5400);
    let mut events = Vec::new();
    let mut t = signup + rng.random_range(120..1800);
    let drops = rng.random_range(1..=3u32);
    for order in 1..=drops {
        if t >= END_UNIX - 3600 {
            break;
        }
        // A human pace over a few items, most of them hot.
        let mut seen: Vec<u32> = Vec::new();
        for _ in 0..rng.random_range(2..=5) {
            let item = if rng.random::<f64>() < 0.8 {
                hot[rng.random_range(0..hot.len())]
            } else {
                cat.everything.sample(rng)
            };
            events.push(view(cat, item, t));
            seen.push(item);
            t += rng.random_range(45..240);
        }
        // Then the checkout script: a few hot items, several of each, seconds apart.
        let mut pick = hot.clone();
        pick.shuffle(rng);
        pick.truncate(rng.random_range(1..=3));
        let mut lines: Vec<u32> = Vec::new();
        for &item in &pick {
            events.push(Event { kind: 1, ..view(cat, item, t) });
            t += rng.random_range(3..9);
            for _ in 0..rng.random_range(1..=3) {
                lines.push(item);
            }
        }
        t += rng.random_range(10..30);
        for item in lines {
            events.push(Event {
                kind: 2,
                order,
                ..view(cat, item, t)
            });
        }
        t += rng.random_range(86_400..10 * 86_400);
    }
    // What did not resell goes back.
    add_returns(&mut events, 0.4, rng);
    (signup, events)
}

fn slow_crawler(cat: &Catalogue, rng: &mut ChaCha8Rng) -> (i64, Vec<Event>) {
    let pool = slow_pool(cat);
    let sessions = rng.random_range(3..=6);
    let mut days: Vec<i64> = Vec::new();
    while days.len() < sessions {
        let d = rng.random_range(0..DAYS - 1);
        if !days.contains(&d) {
            days.push(d);
        }
    }
    days.sort_unstable();
    let mut events = Vec::new();
    for d in &days {
        let mut t = START_UNIX + d * 86_400 + rng.random_range(0..12 * 3600);
        let mut order = pool.clone();
        order.shuffle(rng);
        order.truncate(rng.random_range(60..=150));
        for item in order {
            if t >= END_UNIX {
                break;
            }
            events.push(view(cat, item, t));
            t += rng.random_range(20..180);
        }
    }
    let first = events.first().map_or(START_UNIX, |e| e.at);
    (first - rng.random_range(60..600), events)
}
