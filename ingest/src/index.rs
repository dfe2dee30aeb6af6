//! The full-text index of chunks (tantivy, English stemming). One tantivy document per chunk:
//! document id, chunk index, byte range and pages are stored; the text is indexed but not stored
//! (the library keeps each document's text, and snippets are cut from it).
//!
//! A document's chunks are replaced in one commit (delete by document id, add all chunks, commit
//! with a payload naming the document and digest), so after a crash the index holds either all
//! of the old chunks or all of the new ones, each exactly once: tantivy reopens at its last
//! completed commit.

use crate::error::{IngestError, Result};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TokenStream as _;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Memory budget of the index writer (tantivy needs at least 15 MB per thread).
const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// One chunk as the index stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedChunk {
    /// Document id.
    pub document_id: String,
    /// Chunk index within the document.
    pub chunk_index: u32,
    /// Byte range in the document text.
    pub byte_range: Range<u64>,
    /// First and last page.
    pub pages: (u32, u32),
}

/// What the last commit of the index was about (stored as the commit payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCursor {
    /// Document whose chunks the commit replaced (or removed).
    pub document_id: String,
    /// Digest of the document version indexed; empty when the document was removed.
    pub document_digest: String,
    /// Number of chunks added.
    pub chunks: u32,
}

/// A highlighted excerpt of a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// The excerpt (at most ~200 characters).
    pub text: String,
    /// Where the excerpt starts in the document text (bytes).
    pub byte_start: u64,
    /// Byte ranges of matched words within `text`.
    pub highlights: Vec<Range<usize>>,
}

#[derive(Clone, Copy)]
struct Fields {
    document_id: Field,
    chunk: Field,
    byte_start: Field,
    byte_end: Field,
    page_start: Field,
    page_end: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        document_id: b.add_text_field("doc_id", STRING | STORED),
        chunk: b.add_u64_field("chunk", INDEXED | STORED | FAST),
        byte_start: b.add_u64_field("byte_start", STORED),
        byte_end: b.add_u64_field("byte_end", STORED),
        page_start: b.add_u64_field("page_start", STORED),
        page_end: b.add_u64_field("page_end", STORED),
        text: b.add_text_field("text", text_options),
    };
    (b.build(), fields)
}

/// The chunk index of a library.
pub struct ChunkIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for ChunkIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkIndex")
            .field("dir", &self.dir)
            .finish()
    }
}

/// A search hit before the library adds titles and snippets.
#[derive(Debug, Clone, PartialEq)]
pub struct RawHit {
    /// BM25 score.
    pub score: f32,
    /// The chunk.
    pub chunk: IndexedChunk,
    /// Excerpt, when the chunk text was available.
    pub snippet: Option<Snippet>,
}

impl ChunkIndex {
    /// Opens the index in `dir`, creating it if absent.
    pub fn open_or_create(dir: &Path) -> Result<ChunkIndex> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        let err = |e: tantivy::TantivyError| index_error(dir, e);
        let (schema, fields) = schema();
        let directory =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| index_error(dir, e.into()))?;
        let index = Index::open_or_create(directory, schema).map_err(err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(ChunkIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
        })
    }

    /// A writer (one per library: the caller holds the library's writer lock).
    pub fn writer(&self) -> Result<IndexWriter> {
        self.index
            .writer_with_num_threads(1, WRITER_MEMORY_BYTES)
            .map_err(|e| index_error(&self.dir, e))
    }

    /// Replaces all chunks of `document_id` by `chunks` (text taken from `text`) and commits, with
    /// a [`CommitCursor`] as payload. Atomic: see the module doc.
    pub fn replace_document(
        &self,
        writer: &mut IndexWriter,
        document_id: &str,
        document_digest: &str,
        chunks: &[crate::chunk::Chunk],
        text: &str,
    ) -> Result<()> {
        let f = self.fields;
        writer.delete_term(Term::from_field_text(f.document_id, document_id));
        for c in chunks {
            let body = text.get(c.byte_range()).unwrap_or_default();
            writer
                .add_document(doc!(
                    f.document_id => document_id,
                    f.chunk => u64::from(c.index),
                    f.byte_start => c.byte_start,
                    f.byte_end => c.byte_end,
                    f.page_start => u64::from(c.page_start),
                    f.page_end => u64::from(c.page_end),
                    f.text => body,
                ))
                .map_err(|e| index_error(&self.dir, e))?;
        }
        let cursor = CommitCursor {
            document_id: document_id.to_string(),
            document_digest: document_digest.to_string(),
            chunks: chunks.len() as u32,
        };
        self.commit(writer, &cursor)
    }

    /// Removes every chunk of `document_id` and commits.
    pub fn remove_document(&self, writer: &mut IndexWriter, document_id: &str) -> Result<()> {
        writer.delete_term(Term::from_field_text(self.fields.document_id, document_id));
        let cursor = CommitCursor {
            document_id: document_id.to_string(),
            document_digest: String::new(),
            chunks: 0,
        };
        self.commit(writer, &cursor)
    }

    fn commit(&self, writer: &mut IndexWriter, cursor: &CommitCursor) -> Result<()> {
        let payload = serde_json::to_string(cursor).unwrap_or_default();
        let mut prepared = writer
            .prepare_commit()
            .map_err(|e| index_error(&self.dir, e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| index_error(&self.dir, e))?;
        Ok(())
    }

    /// The payload of the last completed commit.
    #[cfg(test)]
    pub fn last_commit(&self) -> Result<Option<CommitCursor>> {
        let metas = self
            .index
            .load_metas()
            .map_err(|e| index_error(&self.dir, e))?;
        Ok(metas.payload.and_then(|p| serde_json::from_str(&p).ok()))
    }

    /// Number of chunks of `document_id` in the last committed state.
    #[cfg(test)]
    pub fn count_chunks(&self, document_id: &str) -> Result<usize> {
        self.reload()?;
        let query = TermQuery::new(
            Term::from_field_text(self.fields.document_id, document_id),
            IndexRecordOption::Basic,
        );
        self.reader
            .searcher()
            .search(&query, &Count)
            .map_err(|e| index_error(&self.dir, e))
    }

    /// Chunk indices of `document_id` in the index, sorted (duplicates kept, for checks).
    pub fn chunk_indices(&self, document_id: &str) -> Result<Vec<u32>> {
        self.reload()?;
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.document_id, document_id),
            IndexRecordOption::Basic,
        );
        let n = searcher
            .search(&query, &Count)
            .map_err(|e| index_error(&self.dir, e))?;
        let top = searcher
            .search(&query, &TopDocs::with_limit(n.max(1)).order_by_score())
            .map_err(|e| index_error(&self.dir, e))?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| index_error(&self.dir, e))?;
            out.push(self.decode(&doc).chunk_index);
        }
        out.sort_unstable();
        Ok(out)
    }

    fn reload(&self) -> Result<()> {
        // Manual reload: picks up commits made by a writer in another process.
        self.reader.reload().map_err(|e| index_error(&self.dir, e))
    }

    /// Best chunks for `query` (tantivy query syntax; stemmed English), optionally only in the
    /// given documents. `chunk_text` returns a chunk's text for the snippet.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        documents: Option<&[String]>,
        chunk_text: &dyn Fn(&IndexedChunk) -> Option<String>,
    ) -> Result<Vec<RawHit>> {
        self.reload()?;
        let searcher = self.reader.searcher();
        let mut parser = QueryParser::for_index(&self.index, vec![self.fields.text]);
        parser.set_conjunction_by_default();
        let (text_query, _errors) = parser.parse_query_lenient(query);
        let mut parsed: Box<dyn Query> = text_query;
        if let Some(ids) = documents {
            let any_of: Vec<(Occur, Box<dyn Query>)> = ids
                .iter()
                .map(|id| {
                    let term = Term::from_field_text(self.fields.document_id, id);
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect();
            parsed = Box::new(BooleanQuery::new(vec![
                (Occur::Must, parsed),
                (Occur::Must, Box::new(BooleanQuery::new(any_of))),
            ]));
        }
        let top = searcher
            .search(
                &*parsed,
                &TopDocs::with_limit(limit.max(1)).order_by_score(),
            )
            .map_err(|e| index_error(&self.dir, e))?;
        let mut snippets = SnippetGenerator::create(&searcher, &*parsed, self.fields.text)
            .map_err(|e| index_error(&self.dir, e))?;
        snippets.set_max_num_chars(200);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| index_error(&self.dir, e))?;
            let chunk = self.decode(&doc);
            let snippet = chunk_text(&chunk).map(|text| {
                let s = snippets.snippet(&text);
                Snippet {
                    text: s.fragment().to_string(),
                    byte_start: chunk.byte_range.start + s.fragment_range().start as u64,
                    highlights: s.highlighted().to_vec(),
                }
            });
            hits.push(RawHit {
                score,
                chunk,
                snippet,
            });
        }
        Ok(hits)
    }

    /// The index's own analysis of `text` (the `en_stem` analyzer: lowercased, stemmed English
    /// words) with each word's byte range, so passages are scored on the same terms the index
    /// searches.
    pub fn analyzer(&self) -> Result<TermAnalyzer> {
        let analyzer = self
            .index
            .tokenizer_for_field(self.fields.text)
            .map_err(|e| index_error(&self.dir, e))?;
        Ok(TermAnalyzer(analyzer))
    }

    /// Chunks in the index (all documents), and how many hold each of `stems` (already analyzed
    /// terms, see [`ChunkIndex::analyzer`]). Chunks deleted but not yet merged away still count:
    /// the figures are for weighting terms, not for listing.
    pub fn term_chunk_counts(&self, stems: &[String]) -> Result<(u64, Vec<u64>)> {
        self.reload()?;
        let searcher = self.reader.searcher();
        let mut counts = Vec::with_capacity(stems.len());
        for stem in stems {
            let term = Term::from_field_text(self.fields.text, stem);
            counts.push(
                searcher
                    .doc_freq(&term)
                    .map_err(|e| index_error(&self.dir, e))?,
            );
        }
        Ok((searcher.num_docs(), counts))
    }

    /// How many chunks of `document_id` hold each of `stems` (analyzed terms).
    pub fn term_chunk_counts_in(&self, document_id: &str, stems: &[String]) -> Result<Vec<u64>> {
        let searcher = self.reader.searcher();
        let mut counts = Vec::with_capacity(stems.len());
        for stem in stems {
            let query = BooleanQuery::new(vec![
                (Occur::Must, self.term_query(stem, IndexRecordOption::Basic)),
                (Occur::Must, self.document_query(document_id)),
            ]);
            counts.push(
                searcher
                    .search(&query, &Count)
                    .map_err(|e| index_error(&self.dir, e))? as u64,
            );
        }
        Ok(counts)
    }

    /// The best chunks of `document_id` for analyzed terms with their weights (BM25 of each
    /// term multiplied by its weight; a chunk needs one of the terms), best first, with scores.
    pub fn search_weighted_in(
        &self,
        document_id: &str,
        weighted_stems: &[(String, f32)],
        limit: usize,
    ) -> Result<Vec<(f32, IndexedChunk)>> {
        let searcher = self.reader.searcher();
        let any_term: Vec<(Occur, Box<dyn Query>)> = weighted_stems
            .iter()
            .filter(|(_, weight)| *weight > 0.0)
            .map(|(stem, weight)| {
                let q: Box<dyn Query> = Box::new(BoostQuery::new(
                    self.term_query(stem, IndexRecordOption::WithFreqs),
                    *weight,
                ));
                (Occur::Should, q)
            })
            .collect();
        if any_term.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BooleanQuery::new(any_term)) as Box<dyn Query>,
            ),
            (Occur::Must, self.document_query(document_id)),
        ]);
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|e| index_error(&self.dir, e))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| index_error(&self.dir, e))?;
            out.push((score, self.decode(&doc)));
        }
        Ok(out)
    }

    fn term_query(&self, stem: &str, option: IndexRecordOption) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.fields.text, stem),
            option,
        ))
    }

    fn document_query(&self, document_id: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.fields.document_id, document_id),
            IndexRecordOption::Basic,
        ))
    }

    fn decode(&self, doc: &TantivyDocument) -> IndexedChunk {
        let f = self.fields;
        let num = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        IndexedChunk {
            document_id: doc
                .get_first(f.document_id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            chunk_index: num(f.chunk) as u32,
            byte_range: num(f.byte_start)..num(f.byte_end),
            pages: (num(f.page_start) as u32, num(f.page_end) as u32),
        }
    }
}

/// The index's text analyzer (see [`ChunkIndex::analyzer`]).
#[derive(Clone)]
pub struct TermAnalyzer(tantivy::tokenizer::TextAnalyzer);

impl TermAnalyzer {
    /// Each indexed word of `text`: its byte range and its analyzed form.
    pub fn terms(&mut self, text: &str, out: &mut Vec<(Range<usize>, String)>) {
        out.clear();
        let mut stream = self.0.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            out.push((token.offset_from..token.offset_to, token.text.clone()));
        }
    }

    /// The analyzed forms of `words` (a word the analyzer drops, e.g. an over-long one, is left
    /// out; one word may give several terms).
    pub fn analyze_words(&mut self, words: &[String]) -> Vec<String> {
        let mut stems = Vec::new();
        let mut found = Vec::new();
        for w in words {
            self.terms(w, &mut found);
            for (_, stem) in found.drain(..) {
                if !stems.contains(&stem) {
                    stems.push(stem);
                }
            }
        }
        stems
    }
}

impl std::fmt::Debug for TermAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TermAnalyzer(en_stem)")
    }
}

fn index_error(dir: &Path, e: tantivy::TantivyError) -> IngestError {
    IngestError::Index {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::Chunk;

    fn chunks_of(cuts: &[usize]) -> Vec<Chunk> {
        let mut start = 0;
        cuts.iter()
            .enumerate()
            .map(|(i, &end)| {
                let c = Chunk {
                    index: i as u32,
                    byte_start: start as u64,
                    byte_end: end as u64,
                    page_start: i as u32 + 1,
                    page_end: i as u32 + 1,
                    token_count: 1,
                    token_offset: i as u64,
                };
                start = end;
                c
            })
            .collect()
    }

    #[test]
    fn stemmed_search_filters_and_replacement_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let index = ChunkIndex::open_or_create(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        let a = "The tenants were evicted in March. The landlord appealed the ruling.";
        let b = "A contract for the sale of horses. Nothing about eviction here? Eviction!";
        index
            .replace_document(&mut writer, "a", "da1", &chunks_of(&[35, a.len()]), a)
            .unwrap();
        index
            .replace_document(&mut writer, "b", "db1", &chunks_of(&[b.len()]), b)
            .unwrap();

        let text = |c: &IndexedChunk| {
            let src = if c.document_id == "a" { a } else { b };
            Some(src[c.byte_range.start as usize..c.byte_range.end as usize].to_string())
        };
        // "evicting" stems to "evict", matching "evicted" and "eviction".
        let hits = index.search("evicting", 10, None, &text).unwrap();
        let mut found: Vec<_> = hits
            .iter()
            .map(|h| (h.chunk.document_id.as_str(), h.chunk.chunk_index))
            .collect();
        found.sort();
        assert_eq!(found, [("a", 0), ("b", 0)]);
        let hit_a = hits.iter().find(|h| h.chunk.document_id == "a").unwrap();
        assert_eq!(hit_a.chunk.pages, (1, 1));
        let snippet = hit_a.snippet.as_ref().unwrap();
        let highlighted: Vec<&str> = snippet
            .highlights
            .iter()
            .map(|r| &snippet.text[r.clone()])
            .collect();
        assert_eq!(highlighted, ["evicted"]);

        let only_b = index
            .search("evicting", 10, Some(&["b".to_string()]), &text)
            .unwrap();
        assert_eq!(only_b.len(), 1);
        assert_eq!(only_b[0].chunk.document_id, "b");

        // Re-indexing replaces: no duplicates, old chunks gone.
        index
            .replace_document(&mut writer, "a", "da2", &chunks_of(&[10, 35, a.len()]), a)
            .unwrap();
        index
            .replace_document(&mut writer, "a", "da2", &chunks_of(&[10, 35, a.len()]), a)
            .unwrap();
        assert_eq!(index.chunk_indices("a").unwrap(), [0, 1, 2]);
        assert_eq!(
            index.last_commit().unwrap(),
            Some(CommitCursor {
                document_id: "a".into(),
                document_digest: "da2".into(),
                chunks: 3
            })
        );
        index.remove_document(&mut writer, "b").unwrap();
        assert_eq!(index.count_chunks("b").unwrap(), 0);
        // Query syntax errors are tolerated (lenient parsing).
        assert!(index.search("landlord AND (", 5, None, &text).is_ok());
    }
}
