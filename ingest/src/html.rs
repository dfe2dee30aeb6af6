//! HTML to plain text, good enough for saved web pages and court opinions: tags removed, script
//! and style dropped, block elements become line or paragraph breaks, whitespace collapsed outside
//! `<pre>`, character references decoded. Not a full HTML5 parser: it never fails, it degrades.

/// Text and title extracted from an HTML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlText {
    /// The `<title>`, if any, whitespace-collapsed.
    pub title: Option<String>,
    /// The visible text, paragraphs separated by blank lines.
    pub text: String,
}

/// Converts HTML source to text (see the module doc).
pub fn html_to_text(html: &str) -> HtmlText {
    let mut out = TextBuilder::default();
    let mut title = None;
    let mut rest = html;
    let mut pre_depth = 0usize;
    while let Some(lt) = rest.find('<') {
        out.push_text(&decode_entities(&rest[..lt]), pre_depth > 0);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(gt) = find_tag_end(rest) else {
            // A lone '<' (e.g. "a < b" written carelessly): keep it as text.
            out.push_text("<", pre_depth > 0);
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue; // <!DOCTYPE>, <?xml?>, stray "</ >"
        }
        if !closing && matches!(name.as_str(), "script" | "style" | "title" | "template") {
            let (inner, after) = split_at_closing(rest, &name);
            if name == "title" {
                let t = collapse_whitespace(&decode_entities(inner));
                if !t.is_empty() && title.is_none() {
                    title = Some(t);
                }
            }
            rest = after;
            continue;
        }
        if name == "pre" {
            pre_depth = if closing {
                pre_depth.saturating_sub(1)
            } else {
                pre_depth + 1
            };
        }
        match name.as_str() {
            "br" => out.line_break(),
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre"
            | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "table"
            | "ul" | "ol" | "dl" | "hr" | "figure" | "figcaption" | "address" | "center" => {
                out.paragraph_break()
            }
            "li" | "tr" | "dt" | "dd" | "caption" => out.line_break(),
            "td" | "th" => out.push_text(" ", false),
            _ => {}
        }
    }
    out.push_text(&decode_entities(rest), pre_depth > 0);
    HtmlText {
        title,
        text: out.finish(),
    }
}

/// Index of the '>' that ends the tag starting at `s[0] == '<'`, skipping quoted attributes.
fn find_tag_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.len() < 2
        || !(bytes[1].is_ascii_alphabetic() || matches!(bytes[1], b'/' | b'!' | b'?'))
    {
        return None;
    }
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits `rest` at `</name ...>` (case-insensitive): (inside, after the closing tag).
fn split_at_closing<'a>(rest: &'a str, name: &str) -> (&'a str, &'a str) {
    let lower = rest.to_ascii_lowercase();
    let needle = format!("</{name}");
    match lower.find(&needle) {
        Some(start) => {
            let after = &rest[start..];
            let end = after.find('>').map_or(after.len(), |g| g + 1);
            (&rest[..start], &after[end..])
        }
        None => (rest, ""),
    }
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Accumulates text, collapsing whitespace and merging consecutive breaks.
#[derive(Default)]
struct TextBuilder {
    out: String,
    /// Newlines owed before the next visible text (1 = line break, 2 = paragraph break).
    pending_breaks: usize,
    pending_space: bool,
}

impl TextBuilder {
    fn push_text(&mut self, text: &str, preformatted: bool) {
        if preformatted {
            if !text.is_empty() {
                self.flush_breaks();
                self.out.push_str(text);
            }
            return;
        }
        for word_or_space in split_keep_whitespace(text) {
            if word_or_space.trim().is_empty() {
                self.pending_space = true;
            } else {
                self.flush_breaks();
                if self.pending_space && !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push(' ');
                }
                self.pending_space = false;
                self.out.push_str(word_or_space);
            }
        }
    }

    fn flush_breaks(&mut self) {
        if self.pending_breaks > 0 && !self.out.is_empty() {
            let have = self.out.len() - self.out.trim_end_matches('\n').len();
            for _ in have..self.pending_breaks {
                self.out.push('\n');
            }
            self.pending_space = false;
        }
        self.pending_breaks = 0;
    }

    fn line_break(&mut self) {
        self.pending_breaks = self.pending_breaks.max(1);
    }

    fn paragraph_break(&mut self) {
        self.pending_breaks = 2;
    }

    fn finish(mut self) -> String {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }
}

fn split_keep_whitespace(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let ws = first.is_whitespace();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_whitespace() != ws)
            .map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// Decodes `&name;`, `&#123;` and `&#x7B;`; unknown references stay as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest[1..].find(';').map(|i| i + 1).filter(|&i| i <= 32);
        let decoded = semi.and_then(|semi| decode_reference(&rest[1..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_reference(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        // Windows-1252 numeric references (&#150;) are what HTML5 parsers decode them as.
        let code = match code {
            0x80..=0x9F => {
                let byte = [code as u8];
                let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
                s.chars().next().map_or(code, |c| c as u32)
            }
            0 => 0xFFFD,
            other => other,
        };
        return char::from_u32(code).or(Some('\u{FFFD}'));
    }
    NAMED_ENTITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, c)| c)
        .or_else(|| latin1_entity(name))
}

const NAMED_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("ndash", '–'),
    ("mdash", '—'),
    ("hellip", '…'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("bull", '•'),
    ("dagger", '†'),
    ("Dagger", '‡'),
    ("prime", '′'),
    ("Prime", '″'),
    ("euro", '€'),
    ("trade", '™'),
    ("larr", '←'),
    ("rarr", '→'),
    ("harr", '↔'),
    ("minus", '−'),
    ("thinsp", '\u{2009}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("fnof", 'ƒ'),
    ("circ", 'ˆ'),
    ("tilde", '˜'),
    ("permil", '‰'),
    ("lsaquo", '‹'),
    ("rsaquo", '›'),
];

/// The 96 HTML 4 entities of Latin-1 (U+00A0..=U+00FF), in code point order.
const LATIN1_NAMES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

fn latin1_entity(name: &str) -> Option<char> {
    let i = LATIN1_NAMES.iter().position(|&n| n == name)?;
    char::from_u32(0xA0 + i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_scripts_and_keeps_paragraphs() {
        let html = r#"<!DOCTYPE html><html><head><title> Smith  v. Jones </title>
            <style>p { color: red }</style><script>var a = "<p>";</script></head>
            <body><h1>OPINION</h1><p>The court   finds<br>for the
            <b>plaintiff</b>.</p><!-- hidden --><ul><li>One</li><li>Two</li></ul>
            <p class="x">Caf&eacute; &amp; bar &#8212; &#x41;&#150;&unknown; 3 &lt; 4</p></body></html>"#;
        let got = html_to_text(html);
        assert_eq!(got.title.as_deref(), Some("Smith v. Jones"));
        assert_eq!(
            got.text,
            "OPINION\n\nThe court finds\nfor the plaintiff.\n\nOne\nTwo\n\nCafé & bar — A–&unknown; 3 < 4\n"
        );
    }

    #[test]
    fn preformatted_text_keeps_its_spacing() {
        let got = html_to_text("<p>a</p><pre>x  =  1\n  y</pre><p>b</p>");
        assert_eq!(got.text, "a\n\nx  =  1\n  y\n\nb\n");
    }

    #[test]
    fn malformed_markup_degrades_without_losing_text() {
        let got = html_to_text("if a < b and <b>bold</b> <unclosed");
        assert_eq!(got.text, "if a < b and bold <unclosed\n");
        assert_eq!(html_to_text("").text, "");
        assert_eq!(html_to_text("<script>never closed").text, "");
    }
}
