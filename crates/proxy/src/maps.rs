//! The ABI's serialized header maps (little-endian): a `u32` pair count, then a `u32` key
//! length and a `u32` value length per pair, then each key and each value followed by a NUL.

use wasmdiff_gen::proxy::{Bytes, Pairs};

pub fn serialize(pairs: &Pairs) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        4 + pairs
            .iter()
            .map(|(k, v)| 10 + k.len() + v.len())
            .sum::<usize>(),
    );
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (key, value) in pairs {
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (key, value) in pairs {
        for bytes in [key, value] {
            out.extend_from_slice(&bytes.0);
            out.push(0);
        }
    }
    out
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// The pairs of a serialized map; `None` if it is malformed (sizes past the end, missing NULs,
/// trailing bytes). An empty input or a single NUL byte is the empty map.
pub fn deserialize(data: &[u8]) -> Option<Pairs> {
    if data.is_empty() || data == [0] {
        return Some(Vec::new());
    }
    let count = u32_at(data, 0)? as usize;
    // Each pair needs at least 10 bytes: bound the count before allocating for it.
    if count > data.len() / 10 {
        return None;
    }
    let mut sizes = Vec::with_capacity(count);
    for i in 0..count {
        let at = 4 + i * 8;
        sizes.push((u32_at(data, at)? as usize, u32_at(data, at + 4)? as usize));
    }
    let mut at = 4 + count * 8;
    let mut take = |len: usize| -> Option<Bytes> {
        let end = at.checked_add(len)?;
        let bytes = data.get(at..end)?;
        if data.get(end) != Some(&0) {
            return None;
        }
        at = end + 1;
        Some(Bytes(bytes.to_vec()))
    };
    let mut pairs = Vec::with_capacity(count);
    for (key_len, value_len) in sizes {
        let key = take(key_len)?;
        pairs.push((key, take(value_len)?));
    }
    (at == data.len()).then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_round_trip_and_malformed_ones_are_refused() {
        let pairs: Pairs = vec![
            (Bytes::from("1"), Bytes::from("two")),
            (Bytes::from(""), Bytes::from("")),
        ];
        let data = serialize(&pairs);
        // The spec's example, with the right bytes for '1' and '2'.
        assert_eq!(&data[..12], &[2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(deserialize(&data), Some(pairs));
        assert_eq!(deserialize(&[]), Some(vec![]));
        assert_eq!(deserialize(&[0]), Some(vec![]));
        for bad in [
            &data[..data.len() - 1],
            &[0xff, 0xff, 0xff, 0xff, 0][..],
            &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0][..],
            &[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, b'a', 1, 0][..],
        ] {
            assert_eq!(deserialize(bad), None, "{bad:?}");
        }
        let mut trailing = data.clone();
        trailing.push(7);
        assert_eq!(deserialize(&trailing), None);
    }
}
