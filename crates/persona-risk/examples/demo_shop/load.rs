//! Reading the demo shop's CSV files into per-user events.

use persona_risk::{Event, EventKind, EventTypes};
use std::collections::HashMap;
use std::path::Path;

/// One user of the shop, with what the evaluation needs.
pub struct User {
    pub id: u64,
    pub signup: Option<i64>,
    /// Events in time order (ties keep the file's order).
    pub events: Vec<Event>,
    pub bot: bool,
    pub persona: String,
}

fn reader(path: &Path) -> Result<csv::Reader<std::fs::File>, String> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `YYYY-MM-DD HH:MM:SS+00` to Unix seconds (days from civil, H. Hinnant).
pub fn unix(ts: &str) -> Result<i64, String> {
    let bad = || format!("not a UTC timestamp: {ts}");
    if ts.len() < 19 {
        return Err(bad());
    }
    let num = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<i64>().ok()).ok_or_else(bad);
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// All users of users.csv, in id order, with their events and planted persona.
pub fn read_shop(dir: &Path) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for r in reader(&dir.join("users.csv"))?.records() {
        let r = r.map_err(|e| e.to_string())?;
        let id: u64 = r[0].parse().map_err(|_| format!("user id {}", &r[0]))?;
        let signup = if r[1].is_empty() { None } else { Some(unix(&r[1])?) };
        index.insert(id, users.len());
        users.push(User { id, signup, events: Vec::new(), bot: false, persona: String::new() });
    }
    let types = EventTypes::default();
    for r in reader(&dir.join("events.csv"))?.records() {
        let r = r.map_err(|e| e.to_string())?;
        let id: u64 = r[0].parse().map_err(|_| format!("user id {}", &r[0]))?;
        let Some(&u) = index.get(&id) else { return Err(format!("event of unknown user {id}")) };
        let kind = types.classify(&r[2]);
        let amount = if kind == EventKind::Purchase { r[3].parse::<f64>().ok() } else { None };
        let item: i64 = r[1].parse().map_err(|_| format!("item id {}", &r[1]))?;
        users[u].events.push(Event { at: unix(&r[5])?, item, kind, amount });
    }
    for u in users.iter_mut() {
        u.events.sort_by_key(|e| e.at);
    }
    for r in reader(&dir.join("personas.csv"))?.records() {
        let r = r.map_err(|e| e.to_string())?;
        let id: u64 = r[0].parse().map_err(|_| format!("user id {}", &r[0]))?;
        if let Some(&u) = index.get(&id) {
            users[u].bot = &r[2] == "bot";
            users[u].persona = r[2].to_string();
        }
    }
    users.sort_by_key(|u| u.id);
    Ok(users)
}
