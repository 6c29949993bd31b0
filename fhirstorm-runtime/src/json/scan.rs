//! Finding the bytes a JSON string cannot hold as they are (`"`, `\`, control characters), eight
//! at a time: the parser's and the writer's inner loop over string contents.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is `"`, `\` or below 0x20. A byte can also be marked
/// wrongly, but only above (at a higher address than) a byte marked rightly, so the lowest mark
/// is always right: borrows run upwards only.
#[inline]
fn special(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    (zero_quote | zero_backslash | control) & HIGH
}

/// The index of the first `"`, `\` or control character in `bytes` at or after `from`, or
/// `bytes.len()` if there is none.
#[inline]
pub(crate) fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    if let Some(tail) = bytes.get(i..) {
        for chunk in tail.chunks_exact(8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let marks = special(u64::from_le_bytes(word));
            if marks != 0 {
                return i + (marks.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
    }
    while let Some(&c) = bytes.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    bytes.len().max(from)
}

#[cfg(test)]
mod tests {
    use super::find_special;

    fn naive(bytes: &[u8], from: usize) -> usize {
        (from..bytes.len()).find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f)).unwrap_or(bytes.len().max(from))
    }

    #[test]
    fn agrees_with_a_byte_at_a_time_scan() {
        // Every special byte at every position of a 19-byte run, over backgrounds that provoke
        // borrows (0x20, 0x21, 0x23, 0x5b, 0x5d: neighbours of the special values) and UTF-8.
        let specials = [b'"', b'\\', 0x00, 0x01, 0x1f, b'\n'];
        let backgrounds: [&[u8]; 4] = [b" !#[]", b"abcdefgh", "é€😀".as_bytes(), &[0x7f, 0x80, 0xff, 0x20]];
        for bg in backgrounds {
            let base: Vec<u8> = bg.iter().copied().cycle().take(19).collect();
            for from in 0..4 {
                assert_eq!(find_special(&base, from), naive(&base, from));
            }
            for pos in 0..base.len() {
                for s in specials {
                    for second in [None, Some(pos + 3), Some(pos + 9)] {
                        let mut b = base.clone();
                        b[pos] = s;
                        if let Some(q) = second.filter(|&q| q < b.len()) {
                            b[q] = 0x05;
                        }
                        for from in [0, 1, pos, pos + 1] {
                            assert_eq!(find_special(&b, from), naive(&b, from), "{b:?} from {from}");
                        }
                    }
                }
            }
        }
        assert_eq!(find_special(b"abc", 7), 7);
        assert_eq!(find_special(b"", 0), 0);
    }
}
