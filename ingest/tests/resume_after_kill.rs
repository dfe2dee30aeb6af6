//! Killing ingestion with SIGKILL at random moments and starting again ends in exactly the state
//! of a run that was never interrupted: same texts and chunks, the same checkpoint files byte for
//! byte (so the same final state of every document), and every chunk in the index exactly once.
//!
//! The process killed is `ingest-test-worker ingest` (this package's test-support binary). Set
//! `INGEST_KILL_SEED` to replay a failing sequence of kill times; the seed is printed.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MIN_KILLS: usize = 5;

fn spawn_ingest(library: &Path, docs: &Path) -> Child {
    Command::new(worker_binary())
        .args([
            "ingest",
            "--chunk-tokens",
            "48",
            "--checkpoint-every",
            "2",
            "--library",
        ])
        .arg(library)
        .arg("--model")
        .arg(demo_model_path())
        .arg(docs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("test worker starts")
}

fn run_to_completion(library: &Path, docs: &Path) -> Duration {
    let started = Instant::now();
    let out = spawn_ingest(library, docs).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Every `*.ckpt` file under the library's checkpoints, by path relative to the library.
fn checkpoint_files(library: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(library.join("checkpoints"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
        .map(|e| {
            let rel = e.path().strip_prefix(library).unwrap().to_path_buf();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Files under `library` whose name ends with `suffix`.
fn count_files(library: &Path, suffix: &str) -> usize {
    walkdir::WalkDir::new(library)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .count()
}

/// Polls `ready` until it holds (false) or the child exits on its own (true).
fn wait_until(child: &mut Child, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ready() {
            return false;
        }
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    panic!("no progress within 60 s");
}

/// xorshift64*: enough randomness for kill times, reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn sigkill_at_random_points_then_resume_is_bit_identical_to_an_uninterrupted_run() {
    let docs = tempfile::tempdir().unwrap();
    write_file(docs.path(), "a-lighthouse.txt", &prose("lighthouse", 10));
    write_file(docs.path(), "b/orchard.md", &prose("orchard", 8));
    write_file(
        docs.path(),
        "c-ferry.txt",
        &prose("ferry", 6).replace("\n\n", "\n\n\x0c"),
    );
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/good.pdf"),
        docs.path().join("d-court.pdf"),
    )
    .unwrap();

    // Start-up alone (model load, opening the library) on an empty folder, then the whole job.
    let empty = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let startup = run_to_completion(scratch.path(), empty.path());
    let reference = tempfile::tempdir().unwrap();
    let uninterrupted = run_to_completion(reference.path(), docs.path());

    let seed = std::env::var("INGEST_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("INGEST_KILL_SEED={seed} (start-up {startup:?}, uninterrupted run {uninterrupted:?})");
    let mut rng = Rng(seed);

    let killed = tempfile::tempdir().unwrap();
    let mut kills = Vec::new();
    while kills.len() < MIN_KILLS + 1 {
        let mut child = spawn_ingest(killed.path(), docs.path());
        let started = Instant::now();
        // Kill points: one during start-up, one during preparation (extract, chunk, index), the
        // rest while reading, each a random number of checkpoints further on plus a random
        // delay (so some land between checkpoints, some in the middle of writing one).
        let finished = match kills.len() {
            0 => {
                std::thread::sleep(startup.mul_f64(rng.next_f64()));
                false
            }
            1 => {
                let target = count_files(killed.path(), "record.json") + 1;
                wait_until(&mut child, || {
                    count_files(killed.path(), "record.json") >= target
                })
            }
            _ => {
                let target =
                    count_files(killed.path(), ".ckpt") + 1 + (rng.next_f64() * 3.0) as usize;
                wait_until(&mut child, || count_files(killed.path(), ".ckpt") >= target)
            }
        };
        assert!(!finished, "the job ended before kill {}", kills.len() + 1);
        std::thread::sleep(Duration::from_millis((rng.next_f64() * 40.0) as u64));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        kills.push(started.elapsed());
    }
    println!("killed after {kills:?}");
    let expected = checkpoint_files(reference.path());
    let before_final_run = checkpoint_files(killed.path()).len();
    assert!(
        before_final_run > 0 && before_final_run < expected.len(),
        "kills must interrupt reading: {before_final_run} of {} checkpoints",
        expected.len()
    );
    run_to_completion(killed.path(), docs.path());

    let got = checkpoint_files(killed.path());
    assert!(expected.len() >= 10, "{}", expected.len());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &expected {
        assert!(
            got[path] == *bytes,
            "{} differs after resuming",
            path.display()
        );
    }

    let a = open_library(reference.path());
    let b = open_library(killed.path());
    let docs_a = a.documents().unwrap();
    assert_eq!(docs_a.len(), 4);
    assert_eq!(docs_a, b.documents().unwrap());
    for doc in &docs_a {
        assert_eq!(
            a.document_text(&doc.id).unwrap(),
            b.document_text(&doc.id).unwrap()
        );
        assert_eq!(a.chunks(&doc.id).unwrap(), b.chunks(&doc.id).unwrap());
        let every_chunk_once: Vec<u32> = (0..doc.chunk_count).collect();
        assert_eq!(
            b.indexed_chunks(&doc.id).unwrap(),
            every_chunk_once,
            "{}",
            doc.title
        );
        let (model, _) = demo();
        let (_, final_a) = a.final_state(&doc.id, model).unwrap().unwrap();
        let (_, final_b) = b.final_state(&doc.id, model).unwrap().unwrap();
        assert_eq!(final_a, final_b);
    }
}
