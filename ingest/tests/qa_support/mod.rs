//! Shared fixtures of the question-answering tests: a long book with chapters and facts on known
//! pages, a legal filing, a document without headings, all ingested with the bundled demo model
//! and small checkpoint spacing into a temporary library.
#![allow(dead_code)] // each test binary uses a different subset

use ingest::qa::{AskOptions, QaContext};
use ingest::{IngestOptions, Library, ProgressEvent};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Chunk size of the fixtures (tokens).
pub const CHUNK_TOKENS: usize = 64;
/// Checkpoint spacing of the fixtures (chunks).
pub const CHECKPOINT_EVERY: usize = 2;
/// Pages of the book.
pub const BOOK_PAGES: u32 = 16;

/// The demo model and its tokenizer, loaded once per test binary.
pub fn demo() -> &'static (engine::Model, engine::Tokenizer) {
    static DEMO: OnceLock<(engine::Model, engine::Tokenizer)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo/rwkv4-demo.safetensors");
        let model = engine::Model::load(&path).expect("demo model loads");
        let tokenizer = engine::Tokenizer::for_model(&path).expect("demo tokenizer loads");
        (model, tokenizer)
    })
}

pub fn options() -> IngestOptions {
    IngestOptions {
        target_chunk_tokens: CHUNK_TOKENS,
        checkpoint_every_chunks: CHECKPOINT_EVERY,
        ..IngestOptions::default()
    }
}

/// Ask options for tests: short answers, fixed seed, one document.
pub fn ask_options(doc: &str) -> AskOptions {
    let mut o = AskOptions {
        documents: Some(vec![doc.to_string()]),
        ..AskOptions::default()
    };
    o.sampler.max_tokens = 12;
    o.sampler.seed = 11;
    o
}

/// Facts planted in the book: (page, sentence).
pub const BOOK_FACTS: &[(u32, &str)] = &[
    (3, "The brass astrolabe was buried beneath the chapel floor by the sexton, Tobias Wren."),
    (9, "According to the harbor ledger, the cannery paid eleven shillings for each barrel of salt."),
    (12, "Years later the brass astrolabe was found by Miriam Colt, the miller's daughter, near the weir."),
    (14, "The beacon burned whale oil until the winter the glazier repaired the cupola."),
];

const WORDS: &[&str] = &[
    "the",
    "town",
    "of",
    "greywater",
    "stood",
    "on",
    "a",
    "low",
    "hill",
    "above",
    "grey",
    "bay",
    "where",
    "fishing",
    "boats",
    "came",
    "home",
    "at",
    "dusk",
    "and",
    "nets",
    "were",
    "hung",
    "to",
    "dry",
    "along",
    "stone",
    "quay",
    "old",
    "women",
    "mended",
    "sails",
    "while",
    "children",
    "carried",
    "bread",
    "from",
    "bakery",
    "down",
    "narrow",
    "streets",
    "wind",
    "off",
    "sea",
    "smelled",
    "tar",
    "weed",
    "rain",
    "fell",
    "most",
    "afternoons",
    "in",
    "autumn",
    "farmers",
    "drove",
    "carts",
    "market",
    "square",
    "with",
    "apples",
    "wool",
    "cheese",
    "clerk",
    "kept",
    "accounts",
    "every",
    "evening",
    "by",
    "candle",
    "tavern",
    "sang",
    "songs",
    "about",
    "storms",
    "ships",
    "lost",
    "beyond",
    "reef",
    "winters",
    "long",
    "snow",
    "roads",
    "closed",
    "for",
    "weeks",
    "spring",
    "brought",
    "gulls",
    "back",
    "cliffs",
    "river",
    "ran",
    "fast",
    "under",
    "bridge",
];

/// Deterministic prose of about `words` words (a small linear congruential generator).
pub fn filler(seed: u64, words: usize) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut out = String::new();
    let mut written = 0;
    while written < words {
        let len = 8 + next(10);
        for k in 0..len {
            let w = WORDS[next(WORDS.len())];
            if k == 0 {
                out.push_str(&w[..1].to_uppercase());
                out.push_str(&w[1..]);
            } else {
                out.push(' ');
                out.push_str(w);
            }
        }
        out.push_str(". ");
        written += len;
        if next(4) == 0 {
            out.push_str("\n\n");
        }
    }
    out.trim_end().to_string()
}

/// Titles of the book's eight chapters (chapter k starts page 2k − 1).
pub const CHAPTER_TITLES: &[&str] = &[
    "Chapter 1: The Town on the Hill",
    "Chapter 2: The Sexton's Secret",
    "Chapter 3: Winter Roads",
    "Chapter 4: The Market Square",
    "Chapter 5: The Harbor Ledger",
    "Chapter 6: The Weir",
    "Chapter 7: The Beacon",
    "Chapter 8: Spring Gulls",
];

/// A 16-page book: a title, eight two-page chapters, facts on known pages; pages are separated
/// by form feeds.
pub fn book() -> String {
    let mut pages = Vec::new();
    for page in 1..=BOOK_PAGES {
        let mut text = String::new();
        if page == 1 {
            text.push_str("THE ALMANAC OF GREYWATER\n\nA Chronicle\n\n");
        }
        if page % 2 == 1 {
            text.push_str(CHAPTER_TITLES[(page / 2) as usize]);
            text.push_str("\n\n");
        }
        text.push_str(&filler(u64::from(page), 50));
        for (p, fact) in BOOK_FACTS {
            if *p == page {
                text.push_str("\n\n");
                text.push_str(fact);
            }
        }
        text.push_str("\n\n");
        text.push_str(&filler(u64::from(page) + 100, 45));
        pages.push(text);
    }
    pages.join("\n\x0c")
}

/// A short legal filing: caption, BACKGROUND, DISCUSSION, a lettered heading, ORDER.
pub fn legal_filing() -> String {
    format!(
        "              UNITED STATES DISTRICT COURT\n              DISTRICT OF NEW ALBION\n\n\
         HARBOR FISHERIES, INC.,                  )\n             Plaintiff,                  )   Case No. 24-cv-0101\n\
         \x20      v.                                 )\n\
         GREYWATER COLD STORAGE, LLC,             )   MEMORANDUM OPINION\n             Defendant.                  )   AND ORDER\n\n\
         BACKGROUND\n\n1. {}\n\n2. {}\n\n\
         DISCUSSION\n\n3. {}\n\n\
         A. The Storage Agreement\n\n4. {}\n\n\
         ORDER\n\n5. For these reasons the motion is granted in part and denied in part. {}\n\nSO ORDERED.\n",
        filler(201, 60),
        filler(202, 50),
        filler(203, 50),
        filler(204, 60),
        filler(205, 40),
    )
}

/// Paragraphs without a single heading.
pub fn plain_text() -> String {
    filler(301, 400)
}

/// A temporary library with some documents ingested.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub library_dir: PathBuf,
    /// Document ids by file name.
    pub ids: BTreeMap<String, String>,
}

impl Fixture {
    /// A book with chapters (`book.txt`), a court order (`order.txt`) and a text without headings
    /// (`plain.txt`), read completely.
    pub fn book_order_and_plain_text() -> Fixture {
        Fixture::build(
            &[
                ("book.txt", book()),
                ("order.txt", legal_filing()),
                ("plain.txt", plain_text()),
            ],
            None,
        )
    }

    /// Writes `files` and ingests them; with `stop_after_chunks`, reading is cancelled once that
    /// many chunks of a document are read (a document still being read).
    pub fn build(files: &[(&str, String)], stop_after_chunks: Option<u32>) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let library_dir = dir.path().join("library");
        let mut paths = Vec::new();
        for (name, text) in files {
            let path = dir.path().join("docs").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let (model, tokenizer) = demo();
        let mut writer = Library::open_writer(&library_dir).expect("writer");
        let cancel = AtomicBool::new(false);
        let summary = ingest::run(
            &paths,
            &mut writer,
            model,
            tokenizer,
            &options(),
            &mut |p| {
                if let (ProgressEvent::ChunkRead { chunks_read, .. }, Some(limit)) =
                    (&p.event, stop_after_chunks)
                {
                    if *chunks_read >= limit {
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
            },
            &cancel,
        )
        .expect("ingestion");
        let mut ids = BTreeMap::new();
        for f in &summary.files {
            let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
            ids.insert(name, f.document_id.clone().expect("document id"));
        }
        Fixture {
            dir,
            library_dir,
            ids,
        }
    }

    pub fn library(&self) -> Library {
        Library::open(&self.library_dir).expect("library opens")
    }

    pub fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }
}

/// A context for the demo model over `library`.
pub fn context(library: &Library) -> QaContext<'_> {
    let (model, tokenizer) = demo();
    QaContext::new(library, model, tokenizer)
}

/// SHA-256 of every file under `dir` (recursively), by path.
pub fn digests(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, ingest::layout::sha256_hex(&bytes));
            }
        }
    }
    out
}

/// End byte (exclusive) of page `page` in the stored text of document `id`.
pub fn page_end(library: &Library, id: &str, page: u32) -> u64 {
    let record = library.document(id).unwrap();
    record
        .pages
        .iter()
        .filter(|p| p.number <= page)
        .map(|p| p.byte_end)
        .max()
        .unwrap()
}
