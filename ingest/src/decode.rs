//! Turning the bytes of a text file into a Rust string without mangling it: UTF-8 with or without
//! BOM, UTF-16 with BOM, legacy single-byte files (Windows-1252, a superset of Latin-1's printable
//! range, common in court records), CRLF and lone-CR line ends. Binary files are refused.

use serde::{Deserialize, Serialize};

/// The encoding a text file was found to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark (plain ASCII included).
    Utf8,
    /// UTF-8 with a byte-order mark (stripped).
    Utf8Bom,
    /// UTF-16 little endian, with BOM.
    Utf16Le,
    /// UTF-16 big endian, with BOM.
    Utf16Be,
    /// Not valid UTF-8: decoded as Windows-1252 (Latin-1's printable characters plus curly
    /// quotes, dashes and the euro sign in 0x80–0x9F).
    Windows1252,
}

/// Decoded text, line ends normalised to `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    /// The text.
    pub text: String,
    /// What the bytes were.
    pub encoding: TextEncoding,
}

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The content looks binary (NUL bytes or many control characters).
    #[error("binary content, not text ({0})")]
    Binary(String),
}

/// Share of control characters (other than tab, newline, CR, form feed, escape) above which a
/// file counts as binary. Text files have none; binary files have plenty.
const MAX_CONTROL_FRACTION: f64 = 0.02;

/// Decodes a text file's bytes, detecting the encoding (see the module doc).
pub fn decode_text(bytes: &[u8]) -> Result<DecodedText, DecodeError> {
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        (
            String::from_utf8_lossy(rest).into_owned(),
            TextEncoding::Utf8Bom,
        )
    } else if bytes.starts_with(b"\xFF\xFE") {
        let (text, _) = encoding_rs::UTF_16LE.decode_with_bom_removal(bytes);
        (text.into_owned(), TextEncoding::Utf16Le)
    } else if bytes.starts_with(b"\xFE\xFF") {
        let (text, _) = encoding_rs::UTF_16BE.decode_with_bom_removal(bytes);
        (text.into_owned(), TextEncoding::Utf16Be)
    } else {
        check_not_binary(bytes)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_string(), TextEncoding::Utf8),
            Err(_) => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                (text.into_owned(), TextEncoding::Windows1252)
            }
        }
    };
    Ok(DecodedText {
        text: normalize_line_ends(&text),
        encoding,
    })
}

fn check_not_binary(bytes: &[u8]) -> Result<(), DecodeError> {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if let Some(pos) = sample.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary(format!("NUL byte at offset {pos}")));
    }
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    if !sample.is_empty() && controls as f64 / sample.len() as f64 > MAX_CONTROL_FRACTION {
        return Err(DecodeError::Binary(format!(
            "{controls} control bytes in the first {} bytes",
            sample.len()
        )));
    }
    Ok(())
}

/// CRLF and lone CR (old Mac files) become `\n`, so offsets and paragraph detection agree
/// whatever system wrote the file.
pub fn normalize_line_ends(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode_text("Café\n".as_bytes()).unwrap();
        assert_eq!(plain.text, "Café\n");
        assert_eq!(plain.encoding, TextEncoding::Utf8);
        let bom = decode_text(b"\xEF\xBB\xBFCaf\xC3\xA9").unwrap();
        assert_eq!(bom.text, "Café");
        assert_eq!(bom.encoding, TextEncoding::Utf8Bom);
    }

    #[test]
    fn latin1_and_windows_1252_are_decoded_not_mangled() {
        // "Société Générale v. Müller" in Latin-1, then cp1252 curly quotes and an em dash.
        let latin1 = b"Soci\xe9t\xe9 G\xe9n\xe9rale v. M\xfcller";
        let got = decode_text(latin1).unwrap();
        assert_eq!(got.text, "Société Générale v. Müller");
        assert_eq!(got.encoding, TextEncoding::Windows1252);
        let cp1252 = b"\x93Objection\x94 \x97 sustained \x80";
        assert_eq!(
            decode_text(cp1252).unwrap().text,
            "\u{201c}Objection\u{201d} \u{2014} sustained \u{20ac}"
        );
    }

    #[test]
    fn crlf_and_lone_cr_become_newlines() {
        let got = decode_text(b"one\r\ntwo\rthree\n\r\nfour").unwrap();
        assert_eq!(got.text, "one\ntwo\nthree\n\nfour");
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Añb".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let got = decode_text(&bytes).unwrap();
        assert_eq!(got.text, "Añb");
        assert_eq!(got.encoding, TextEncoding::Utf16Le);
    }

    #[test]
    fn binary_content_is_refused() {
        let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00";
        assert!(matches!(decode_text(elf), Err(DecodeError::Binary(_))));
        let noisy: Vec<u8> = (0..1000u32).map(|i| (i % 32) as u8 + 1).collect();
        assert!(matches!(decode_text(&noisy), Err(DecodeError::Binary(_))));
        assert_eq!(decode_text(b"").unwrap().text, "");
    }
}
