//! Word-wrapping a document into screen rows, without ever wrapping the whole document.
//!
//! The Reader keeps its scroll position as a byte offset (the start of the top row) instead of a
//! row number, so a 4 MB book scrolls by re-wrapping only the logical line under the cursor, and a
//! resize never invalidates the position. Every row is a byte range of the original text; widths
//! are measured on the inert form of each char (see `inert_text`), which is what gets drawn.

use std::ops::Range;

use super::inert_text::display_width;

/// Byte range of the logical line (between `\n`s) that contains `offset`, without its `\n`.
pub fn logical_line_at(text: &str, offset: usize) -> Range<usize> {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    start..end
}

/// Splits `line` (no `\n` inside) into rows of at most `width_cols` columns, breaking after
/// spaces where possible and inside a word only when one word is wider than a row. Returns byte
/// ranges relative to `line`; an empty line is one empty row.
pub fn wrap_line(line: &str, width_cols: usize) -> Vec<Range<usize>> {
    let width_cols = width_cols.max(1);
    let mut rows = Vec::new();
    let mut row_start = 0;
    let mut row_width = 0;
    // Byte offset just after the last space in the current row, and the row width up to it.
    let mut break_at: Option<(usize, usize)> = None;
    for (i, c) in line.char_indices() {
        let w = display_width(c);
        // A break at the last space may leave the rest of the row still too wide for `c`
        // (wide chars): then break again, right before `c`.
        while row_width + w > width_cols && i > row_start {
            match break_at.take() {
                Some((at, width_before)) if at > row_start => {
                    rows.push(row_start..at);
                    row_start = at;
                    row_width -= width_before;
                }
                _ => {
                    rows.push(row_start..i);
                    row_start = i;
                    row_width = 0;
                }
            }
        }
        row_width += w;
        if c == ' ' || c == '\t' {
            break_at = Some((i + c.len_utf8(), row_width));
        }
    }
    rows.push(row_start..line.len());
    rows
}

/// Absolute byte ranges of the rows of the logical line containing `offset`.
fn rows_of_line_at(
    text: &str,
    offset: usize,
    width_cols: usize,
) -> (Range<usize>, Vec<Range<usize>>) {
    let line = logical_line_at(text, offset);
    let rows = wrap_line(&text[line.clone()], width_cols)
        .into_iter()
        .map(|r| line.start + r.start..line.start + r.end)
        .collect();
    (line, rows)
}

/// Index of the row that holds `offset` (an offset at a row's end belongs to the next row).
fn row_index(rows: &[Range<usize>], offset: usize) -> usize {
    rows.iter().rposition(|r| r.start <= offset).unwrap_or(0)
}

/// Start of the row that contains `offset`.
pub fn row_start_at(text: &str, offset: usize, width_cols: usize) -> usize {
    let (_, rows) = rows_of_line_at(text, offset, width_cols);
    rows[row_index(&rows, offset)].start
}

/// Start of the row after the one starting at or containing `offset`, if there is one.
pub fn next_row_start(text: &str, offset: usize, width_cols: usize) -> Option<usize> {
    let (line, rows) = rows_of_line_at(text, offset, width_cols);
    let i = row_index(&rows, offset);
    if let Some(next) = rows.get(i + 1) {
        Some(next.start)
    } else if line.end < text.len() {
        Some(line.end + 1)
    } else {
        None
    }
}

/// Start of the row before the one containing `offset`, if there is one.
pub fn prev_row_start(text: &str, offset: usize, width_cols: usize) -> Option<usize> {
    let (line, rows) = rows_of_line_at(text, offset, width_cols);
    let i = row_index(&rows, offset);
    if i > 0 {
        Some(rows[i - 1].start)
    } else if line.start == 0 {
        None
    } else {
        let (_, prev_rows) = rows_of_line_at(text, line.start - 1, width_cols);
        prev_rows.last().map(|r| r.start)
    }
}

/// Moves `offset` (a row start) by `delta_rows` rows, stopping at either end.
pub fn move_rows(text: &str, offset: usize, delta_rows: i64, width_cols: usize) -> usize {
    let mut at = row_start_at(text, offset, width_cols);
    for _ in 0..delta_rows.unsigned_abs() {
        let step = if delta_rows > 0 {
            next_row_start(text, at, width_cols)
        } else {
            prev_row_start(text, at, width_cols)
        };
        match step {
            Some(next) => at = next,
            None => break,
        }
    }
    at
}

/// The row starts that fill a screen of `height_rows` ending at the end of the text: the
/// furthest the Reader scrolls down.
pub fn last_screen_start(text: &str, width_cols: usize, height_rows: usize) -> usize {
    let last = row_start_at(text, text.len(), width_cols);
    move_rows(
        text,
        last,
        -(height_rows.saturating_sub(1) as i64),
        width_cols,
    )
}

/// Up to `height_rows` rows starting with the row that contains `offset`.
pub fn rows_from(
    text: &str,
    offset: usize,
    width_cols: usize,
    height_rows: usize,
) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(height_rows);
    let mut at = offset.min(text.len());
    while out.len() < height_rows {
        let (line, rows) = rows_of_line_at(text, at, width_cols);
        let first = row_index(&rows, at);
        for r in &rows[first..] {
            if out.len() == height_rows {
                break;
            }
            out.push(r.clone());
        }
        if line.end >= text.len() {
            break;
        }
        at = line.end + 1;
    }
    out
}

/// The largest char boundary ≤ `offset` (offsets from the library could point inside a char).
pub fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_text(line: &str, width: usize) -> Vec<&str> {
        wrap_line(line, width)
            .into_iter()
            .map(|r| &line[r])
            .collect()
    }

    #[test]
    fn wraps_at_spaces_and_keeps_every_byte() {
        let line = "the quick brown fox jumps over";
        let rows = rows_text(line, 10);
        assert_eq!(rows, vec!["the quick ", "brown fox ", "jumps over"]);
        assert_eq!(rows.concat(), line);
    }

    #[test]
    fn breaks_words_longer_than_a_row() {
        assert_eq!(rows_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_chars_never_overflow_and_always_progress() {
        for width in 1..6 {
            let rows = rows_text("界界 界x界", width);
            assert_eq!(rows.concat(), "界界 界x界");
            for row in rows {
                let cols: usize = row.chars().map(display_width).sum();
                assert!(cols <= width.max(2), "{row:?} at {width}");
            }
        }
    }

    #[test]
    fn empty_line_is_one_row() {
        assert_eq!(wrap_line("", 10), vec![0..0]);
    }

    #[test]
    fn scrolling_down_then_up_returns_to_the_start() {
        let text = "one two three four\n\nfive six seven eight nine\nten";
        let mut starts = vec![0];
        while let Some(next) = next_row_start(text, *starts.last().unwrap_or(&0), 9) {
            starts.push(next);
        }
        let rows: Vec<_> = starts
            .iter()
            .map(|&s| rows_from(text, s, 9, 1)[0].clone())
            .collect();
        let shown: Vec<&str> = rows.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            shown,
            vec![
                "one two ",
                "three ",
                "four",
                "",
                "five six ",
                "seven ",
                "eight ",
                "nine",
                "ten"
            ]
        );
        for pair in starts.windows(2) {
            assert_eq!(prev_row_start(text, pair[1], 9), Some(pair[0]));
        }
        assert_eq!(prev_row_start(text, 0, 9), None);
    }

    #[test]
    fn move_rows_stops_at_both_ends() {
        let text = "a\nb\nc\nd";
        assert_eq!(move_rows(text, 0, 100, 5), 6);
        assert_eq!(move_rows(text, 6, -100, 5), 0);
        assert_eq!(last_screen_start(text, 5, 2), 4);
        assert_eq!(last_screen_start(text, 5, 10), 0);
    }

    #[test]
    fn offsets_inside_a_char_are_floored() {
        let text = "é\nx";
        assert_eq!(logical_line_at(text, 1), 0..2);
        assert_eq!(row_start_at(text, 1, 10), 0);
    }
}
