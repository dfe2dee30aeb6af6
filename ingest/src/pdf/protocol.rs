//! The byte protocol between the PDF worker (child) and the parent: length-prefixed frames on the
//! worker's stdout. Frame = tag (u8) + payload length (u32 LE) + payload. A frame cut short by the
//! worker's death is simply not delivered; everything before it counts.

use std::io::{self, Read, Write};

/// Frames a worker sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Number of pages in the document (sent once, before any page).
    PageCount(u32),
    /// One page's text. `has_images`: the page draws at least one image (a scan, if no text);
    /// `missing_unicode_map`: a composite font on the page has no ToUnicode map (text likely garbage).
    Page {
        /// 1-based page number.
        number: u32,
        /// Flags about the page's resources.
        has_images: bool,
        /// See above.
        missing_unicode_map: bool,
        /// Extracted text.
        text: String,
    },
    /// Extraction of one page failed (a panic or an error caught in the worker).
    PageFailed {
        /// 1-based page number.
        number: u32,
        /// Why.
        reason: String,
    },
    /// The document is encrypted and cannot be opened without a password.
    Encrypted(String),
    /// The document cannot be opened at all.
    Unreadable(String),
    /// All requested pages were sent.
    Done,
}

const TAG_PAGE_COUNT: u8 = 1;
const TAG_PAGE: u8 = 2;
const TAG_PAGE_FAILED: u8 = 3;
const TAG_ENCRYPTED: u8 = 4;
const TAG_UNREADABLE: u8 = 5;
const TAG_DONE: u8 = 6;

/// Largest payload accepted (a page of text is far smaller); guards the parent's memory against a
/// corrupted stream.
pub const MAX_FRAME_BYTES: u32 = 64 * 1024 * 1024;

/// Writes one frame and flushes, so the parent has every finished page even if the next one kills
/// the worker.
pub fn write_frame(out: &mut dyn Write, frame: &Frame) -> io::Result<()> {
    let (tag, payload): (u8, Vec<u8>) = match frame {
        Frame::PageCount(n) => (TAG_PAGE_COUNT, n.to_le_bytes().to_vec()),
        Frame::Page {
            number,
            has_images,
            missing_unicode_map,
            text,
        } => {
            let mut p = number.to_le_bytes().to_vec();
            p.push(u8::from(*has_images) | (u8::from(*missing_unicode_map) << 1));
            p.extend_from_slice(text.as_bytes());
            (TAG_PAGE, p)
        }
        Frame::PageFailed { number, reason } => {
            let mut p = number.to_le_bytes().to_vec();
            p.extend_from_slice(reason.as_bytes());
            (TAG_PAGE_FAILED, p)
        }
        Frame::Encrypted(reason) => (TAG_ENCRYPTED, reason.as_bytes().to_vec()),
        Frame::Unreadable(reason) => (TAG_UNREADABLE, reason.as_bytes().to_vec()),
        Frame::Done => (TAG_DONE, Vec::new()),
    };
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l <= MAX_FRAME_BYTES)
        .ok_or_else(|| io::Error::other("frame too large"))?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&payload)?;
    out.flush()
}

/// Reads the next frame; `Ok(None)` at a clean or torn end of stream.
pub fn read_frame(input: &mut dyn Read) -> io::Result<Option<Frame>> {
    let mut head = [0u8; 5];
    if !read_exact_or_eof(input, &mut head)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::other(format!("frame of {len} bytes")));
    }
    let mut payload = vec![0u8; len as usize];
    if !read_exact_or_eof(input, &mut payload)? {
        return Ok(None);
    }
    let number = || -> io::Result<u32> {
        payload
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| io::Error::other("short frame"))
    };
    let text_from =
        |start: usize| String::from_utf8_lossy(payload.get(start..).unwrap_or(&[])).into_owned();
    let frame = match head[0] {
        TAG_PAGE_COUNT => Frame::PageCount(number()?),
        TAG_PAGE => {
            let flags = *payload
                .get(4)
                .ok_or_else(|| io::Error::other("short frame"))?;
            Frame::Page {
                number: number()?,
                has_images: flags & 1 != 0,
                missing_unicode_map: flags & 2 != 0,
                text: text_from(5),
            }
        }
        TAG_PAGE_FAILED => Frame::PageFailed {
            number: number()?,
            reason: text_from(4),
        },
        TAG_ENCRYPTED => Frame::Encrypted(text_from(0)),
        TAG_UNREADABLE => Frame::Unreadable(text_from(0)),
        TAG_DONE => Frame::Done,
        other => return Err(io::Error::other(format!("unknown frame tag {other}"))),
    };
    Ok(Some(frame))
}

/// Fills `buf`; false if the stream ended first (at any point).
fn read_exact_or_eof(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_torn_frame_is_dropped() {
        let frames = vec![
            Frame::PageCount(3),
            Frame::Page {
                number: 1,
                has_images: true,
                missing_unicode_map: false,
                text: "Straße".into(),
            },
            Frame::PageFailed {
                number: 2,
                reason: "panic".into(),
            },
            Frame::Encrypted("pw".into()),
            Frame::Unreadable("bad xref".into()),
            Frame::Done,
        ];
        let mut bytes = Vec::new();
        for f in &frames {
            write_frame(&mut bytes, f).unwrap();
        }
        let mut reader = &bytes[..];
        let mut got = Vec::new();
        while let Some(f) = read_frame(&mut reader).unwrap() {
            got.push(f);
        }
        assert_eq!(got, frames);

        let torn = &bytes[..bytes.len() - 3];
        let mut reader = torn;
        let mut count = 0;
        while let Ok(Some(_)) = read_frame(&mut reader) {
            count += 1;
        }
        assert_eq!(count, frames.len() - 1, "the last frame is incomplete");
    }
}
