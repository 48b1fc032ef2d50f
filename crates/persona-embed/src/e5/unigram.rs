//! XLM-RoBERTa's SentencePiece Unigram tokenizer, as the reference engine of
//! the model file runs it: the file's per-codepoint normalisation map, runs
//! of spaces collapsed to one, a leading metaspace and every space turned
//! into U+2581, then the most probable split into pieces (Viterbi over the
//! piece scores), a character no piece covers becoming `<unk>`.
//!
//! Own code rather than `tokenizers`' Unigram model: the normalisation is the
//! file's own table, not a SentencePiece charsmap, and a trie over 250,002
//! pieces would cost tens of megabytes per backend where this hash table of
//! piece indexes costs two.

use super::file::Vocabulary;

const METASPACE: char = '\u{2581}';
/// Score of an unknown character: below every piece, as SentencePiece does.
const UNKNOWN_PENALTY: f32 = 10.0;

pub(crate) struct Unigram {
    vocabulary: Vocabulary,
    /// Open addressing over FNV-1a of the piece bytes: piece index + 1, 0 = empty.
    table: Vec<u32>,
    unknown_score: f32,
    longest_piece: usize,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl Unigram {
    pub(crate) fn new(vocabulary: Vocabulary) -> Self {
        let pieces = vocabulary.scores.len();
        let size = (pieces * 2).next_power_of_two().max(2);
        let mask = size - 1;
        let mut table = vec![0u32; size];
        let mut longest_piece = 1;
        for i in 0..pieces {
            let piece = piece(&vocabulary, i);
            if piece.is_empty() {
                continue;
            }
            longest_piece = longest_piece.max(piece.len());
            let mut slot = fnv1a(piece) as usize & mask;
            while table[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            table[slot] = i as u32 + 1;
        }
        let lowest = vocabulary.scores.iter().copied().fold(f32::INFINITY, f32::min);
        Self { vocabulary, table, unknown_score: lowest - UNKNOWN_PENALTY, longest_piece }
    }

    pub(crate) fn bos(&self) -> u32 {
        self.vocabulary.bos
    }

    pub(crate) fn eos(&self) -> u32 {
        self.vocabulary.eos
    }

    /// The first piece (lowest index) whose bytes are `bytes`.
    fn lookup(&self, bytes: &[u8]) -> Option<u32> {
        let mask = self.table.len() - 1;
        let mut slot = fnv1a(bytes) as usize & mask;
        loop {
            let entry = self.table[slot];
            if entry == 0 {
                return None;
            }
            if piece(&self.vocabulary, entry as usize - 1) == bytes {
                return Some(entry - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The text after normalisation, as characters: `(byte offset, char)` of
    /// each in `buffer`, which receives the UTF-8.
    fn normalize(&self, text: &str, buffer: &mut String) -> Vec<usize> {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            match self.vocabulary.normalization.get(&(c as u32)) {
                None => chars.push(c),
                Some(replacement) => chars.extend(replacement.iter().filter_map(|&cp| char::from_u32(cp))),
            }
        }
        chars.dedup_by(|b, a| *a == ' ' && *b == ' ');
        let mut starts = Vec::with_capacity(chars.len() + 2);
        if chars.first() != Some(&' ') {
            starts.push(buffer.len());
            buffer.push(METASPACE);
        }
        for c in chars {
            starts.push(buffer.len());
            buffer.push(if c == ' ' { METASPACE } else { c });
        }
        starts.push(buffer.len());
        starts
    }

    /// Piece ids of `text`, without the sentence markers.
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        let mut buffer = String::with_capacity(text.len() + 8);
        let starts = self.normalize(text, &mut buffer);
        let bytes = buffer.as_bytes();
        let n = starts.len() - 1;
        // best[e]: score of the best split of the first e characters, reached
        // by piece[e] (None: an unknown character) starting at from[e].
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        let mut piece_at: Vec<Option<u32>> = vec![None; n + 1];
        let mut from = vec![0usize; n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] == f32::NEG_INFINITY {
                continue;
            }
            for e in i + 1..=n {
                let span = &bytes[starts[i]..starts[e]];
                if span.len() > self.longest_piece {
                    break;
                }
                if let Some(id) = self.lookup(span).filter(|&id| id != self.vocabulary.unk) {
                    let score = best[i] + self.vocabulary.scores[id as usize];
                    if score > best[e] {
                        (best[e], piece_at[e], from[e]) = (score, Some(id), i);
                    }
                }
            }
            let score = best[i] + self.unknown_score;
            if score > best[i + 1] {
                (best[i + 1], piece_at[i + 1], from[i + 1]) = (score, None, i);
            }
        }
        let mut ids = Vec::new();
        let mut e = n;
        while e > 0 {
            ids.push(piece_at[e].unwrap_or(self.vocabulary.unk));
            e = from[e];
        }
        ids.reverse();
        ids
    }
}

fn piece(vocabulary: &Vocabulary, i: usize) -> &[u8] {
    let (a, b) = (vocabulary.offsets[i] as usize, vocabulary.offsets[i + 1] as usize);
    &vocabulary.bytes[a..b]
}
