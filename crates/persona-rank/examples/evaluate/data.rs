//! Loaders for the two evaluation data sets in ../shared/data.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use persona_rank::sequences_from_events;

/// Time-ordered item sequences, one per user, items `0 .. n_items`.
pub struct Dataset {
    pub name: String,
    pub sequences: Vec<Vec<u32>>,
    pub n_items: usize,
}

/// S3-Rec's preprocessed Amazon Beauty: `user item1 item2 ...` per line,
/// items already in time order, ids 1-based (0 is their padding id).
pub fn load_beauty(path: &Path) -> Result<Dataset, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sequences = Vec::new();
    let mut n_items = 0;
    for (line_no, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        if fields.next().is_none() {
            continue;
        }
        let items = fields
            .map(|f| match f.parse::<u32>() {
                Ok(id) if id >= 1 => Ok(id - 1),
                _ => Err(format!("line {}: bad item id {f:?}", line_no + 1)),
            })
            .collect::<Result<Vec<u32>, String>>()?;
        if let Some(&max) = items.iter().max() {
            n_items = n_items.max(max as usize + 1);
        }
        sequences.push(items);
    }
    Ok(Dataset {
        name: "amazon-beauty (S3-Rec)".into(),
        sequences,
        n_items,
    })
}

/// MovieLens 100K (RecBole's `.inter` file): ratings >= 4 are positives,
/// ordered by timestamp, ties by item.
pub fn load_ml100k(path: &Path) -> Result<Dataset, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut users: HashMap<String, u32> = HashMap::new();
    let mut items: HashMap<String, u32> = HashMap::new();
    let mut events = Vec::new();
    for (line_no, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            continue;
        }
        let bad = |what: &str| format!("line {}: bad {what}", line_no + 1);
        let rating: f64 = f[2].parse().map_err(|_| bad("rating"))?;
        let time: f64 = f[3].parse().map_err(|_| bad("timestamp"))?;
        if rating < 4.0 {
            continue;
        }
        let next_user = users.len() as u32;
        let user = *users.entry(f[0].to_string()).or_insert(next_user);
        let next_item = items.len() as u32;
        let item = *items.entry(f[1].to_string()).or_insert(next_item);
        events.push((user, item, time as i64));
    }
    Ok(Dataset {
        name: "ml-100k (rating >= 4)".into(),
        sequences: sequences_from_events(&events, users.len()),
        n_items: items.len(),
    })
}
