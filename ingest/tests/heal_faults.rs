//! Fault injection: 50 times, one stored file of a small library (chosen by a seeded generator,
//! any file: records, texts, chunk lists, checkpoints, index segments and metadata, the library
//! file) is deleted, truncated, has one bit flipped or is overwritten with garbage. Each time:
//! nothing panics, a search or an answer that differs from the undamaged library's carries a
//! warning, and `check --repair` (plus a new ingestion where it says one is needed) gives back
//! exactly the undamaged library.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod heal_support;

use heal_support::*;
use ingest::Library;
use std::path::Path;

/// SplitMix64: a tiny seeded generator, so that every run damages the same files the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One way of damaging a file; returns what was done, for the failure message.
fn damage(path: &Path, rng: &mut Rng) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    match rng.below(4) {
        0 => {
            std::fs::remove_file(path).unwrap();
            "deleted".into()
        }
        1 => {
            let keep = rng.below(bytes.len());
            std::fs::write(path, &bytes[..keep]).unwrap();
            format!("truncated to {keep} of {} bytes", bytes.len())
        }
        2 if !bytes.is_empty() => {
            let mut flipped = bytes.clone();
            let at = rng.below(bytes.len());
            flipped[at] ^= 1 << rng.below(8);
            std::fs::write(path, flipped).unwrap();
            format!("bit flipped at byte {at} of {}", bytes.len())
        }
        _ => {
            std::fs::write(path, b"\x00garbage\xff").unwrap();
            "overwritten with garbage".into()
        }
    }
}

#[test]
fn fifty_random_damages_are_reported_and_repaired() {
    let small = Small::build();
    let pristine_dir = small.lib();
    let pristine = snapshot(&pristine_dir);
    let pristine_library = Library::open(&pristine_dir).unwrap();
    let pristine_hits = pristine_library
        .search("orchard inspected", 10, None)
        .unwrap();
    let pristine_answer = ask_lighthouse(&pristine_library).unwrap();
    assert!(!warns(&pristine_answer), "{:?}", pristine_answer.notices);
    drop(pristine_library);

    let mut rng = Rng(0x5eed_0016);
    let mut reingested = 0;
    for round in 0..50 {
        let work = tempfile::tempdir().unwrap();
        let lib = work.path().join("lib");
        copy_dir(&pristine_dir, &lib);
        let files = walk(&lib);
        let victim = &files[rng.below(files.len())];
        let what = damage(victim, &mut rng);
        let label = format!(
            "round {round}: {} {what}",
            victim.strip_prefix(&lib).unwrap().display()
        );

        // Reading: an unchanged result, or a warning.
        let library = Library::open(&lib).unwrap_or_else(|e| panic!("{label}: open: {e}"));
        let hits = library
            .search("orchard inspected", 10, None)
            .unwrap_or_else(|e| panic!("{label}: search: {e}"));
        if hits != pristine_hits {
            assert!(
                !library.noticed().is_empty(),
                "{label}: hits changed silently"
            );
        }
        match ask_lighthouse(&library) {
            Ok(answer) => {
                let same = answer.text == pristine_answer.text
                    && answer.evidence == pristine_answer.evidence;
                assert!(
                    same || warns(&answer),
                    "{label}: a different answer without a warning: {:?}",
                    answer.notices
                );
            }
            // No answer is not an answer from damaged data; what was wrong is noticed.
            Err(e) => println!("{label}: no answer: {e}"),
        }
        drop(library);

        // Repairing: the library comes back as it was.
        let repaired = repair(&lib);
        if !repaired.is_healthy() {
            assert!(
                repaired.after.problems.len() == repaired.after.needing_reingest().count(),
                "{label}: left unrepaired without saying a new ingestion is needed: {:#?}",
                repaired.after
            );
            reingested += 1;
            let mut writer = Library::open_writer(&lib).unwrap();
            ingest(&mut writer, &[small.docs()], &test_options());
            drop(writer);
        }
        assert!(check(&lib).is_healthy(), "{label}: {:#?}", check(&lib));
        assert_eq!(snapshot(&lib), pristine, "{label}: differs after repair");
        println!("{label}: repaired");
    }
    println!("{reingested} of 50 rounds needed a new ingestion");
}
