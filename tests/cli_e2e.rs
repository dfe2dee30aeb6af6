//! End to end on the command line: the real `rwkv-reader` binary reads the sample case files with
//! the bundled demo model into a private library, then answers questions (`ask`, `--json`,
//! `--all`, `--as-of-page`), writes section summaries (`summarize`, reused on a second run) and
//! exports the notes (`export`) — checking the citations, provenance and errors a user relies on.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod sandbox;

use serde_json::Value;

use sandbox::Sandbox;

/// What the tests below need beyond the shared sandbox.
trait RunExt {
    /// Runs and expects success; stdout.
    fn ok(&self, args: &[&str]) -> String;
    /// Runs with `--json` and parses stdout.
    fn json(&self, args: &[&str]) -> Value;
}

impl RunExt for Sandbox {
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rwkv-reader {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let stdout = self.ok(&with_json);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("rwkv-reader {args:?}: not JSON ({e}):\n{stdout}"))
    }
}

fn pages(evidence: &Value) -> (u64, u64) {
    let pages = &evidence["pages"];
    match (pages[0].as_u64(), pages[1].as_u64()) {
        (Some(a), Some(b)) => (a, b),
        _ => panic!("evidence without pages: {evidence}"),
    }
}

#[test]
fn ask_summarize_and_export_the_sample_case_files() {
    let sandbox = Sandbox::new();
    let ingested = sandbox.json(&["ingest", "sample-docs/cases"]);
    let files = ingested["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 10, "every case file is read: {ingested}");

    // A question about one document: the answer cites the deposition's pages and says where
    // its state came from and how much was re-read.
    let question = "What did Mr. Stoltz say about the expedited shipping?";
    let answer = sandbox.json(&["ask", "--doc", "deposition", "--max-tokens", "16", question]);
    assert_eq!(answer["question"], question);
    let evidence = answer["evidence"].as_array().cloned().unwrap_or_default();
    let first = evidence
        .first()
        .unwrap_or_else(|| panic!("no evidence: {answer}"));
    assert!(first["title"]
        .as_str()
        .is_some_and(|t| t.contains("deposition")));
    // Stoltz's refusal is on the PDF's third page (transcript page 39).
    let (from, to) = pages(first);
    assert!(from <= 3 && 3 <= to, "cited pp. {from}–{to}: {first}");
    let provenance = &answer["provenance"];
    assert_eq!(
        provenance["family"], "pile",
        "the demo model is prompted as a base model"
    );
    assert!(provenance["generated_tokens"]
        .as_u64()
        .is_some_and(|n| (1..=16).contains(&n)));
    // Bounded re-reading: within the default budget of 6,144 tokens, whatever is read.
    assert!(provenance["reread_tokens"]
        .as_u64()
        .is_some_and(|n| n <= 6144));
    // Every passage marked read is listed with the tokens re-read for it, and nothing else.
    let read = provenance["passages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let marked = evidence.iter().filter(|e| e["role"] == "read").count();
    assert!((1..=3).contains(&read.len()), "{provenance}");
    assert_eq!(marked, read.len(), "{answer}");
    let per_passage: u64 = read
        .iter()
        .filter_map(|p| p["span"]["tokens"].as_u64())
        .sum();
    assert_eq!(provenance["reread_tokens"].as_u64(), Some(per_passage));
    // --passages 1: the model reads the best passage only.
    let one = sandbox.json(&[
        "ask",
        "--doc",
        "deposition",
        "--passages",
        "1",
        "--max-tokens",
        "4",
        question,
    ]);
    assert_eq!(
        one["provenance"]["passages"].as_array().map(Vec::len),
        Some(1),
        "{one}"
    );
    let bad = sandbox.run(&["ask", "--passages", "0", question]);
    assert!(!bad.status.success());

    // The same question as plain text: the answer, then each cited page and the provenance.
    let text = sandbox.ok(&["ask", "--doc", "deposition", "--max-tokens", "8", question]);
    assert!(text.contains("deposition"), "{text}");
    assert!(text.contains("p. ") || text.contains("pp. "), "{text}");
    assert!(text.contains("Provenance:"), "{text}");
    assert!(
        text.contains("[read 1/"),
        "the passages read are marked: {text}"
    );

    // Spoiler-free: nothing past page 2 is used (Stoltz's answer comes a page later).
    let early = sandbox.json(&["ask", "--doc", "deposition", "--as-of-page", "2", question]);
    for e in early["evidence"].as_array().cloned().unwrap_or_default() {
        assert!(pages(&e).1 <= 2, "evidence past page 2: {e}");
    }
    assert_eq!(early["provenance"]["as_of_page"], 2);

    // Every document answers for itself, each with its own citation.
    let all = sandbox.json(&["ask", "--all", "--max-tokens", "4", "Who is the defendant?"]);
    let results = all.as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 10, "one result per document");
    let status = |r: &Value| {
        r["outcome"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut answered = 0;
    for r in &results {
        match status(r).as_str() {
            "answered" => {
                answered += 1;
                let answer = &r["outcome"]["answer"];
                assert_eq!(answer["document"]["id"], r["document"]["id"]);
                assert!(answer["evidence"][0]["pages"].is_array(), "{r}");
            }
            "skipped" => {
                let reason = r["outcome"]["reason"].as_str().unwrap_or_default();
                assert!(reason.contains("no passage matches"), "{r}");
            }
            other => panic!("unexpected outcome {other:?}: {r}"),
        }
    }
    assert!(
        answered >= 5,
        "most case files name the defendant: {answered} answered"
    );

    // The prompt family comes from the flag, else the config file.
    let flagged = sandbox.json(&[
        "ask",
        "--doc",
        "order",
        "--max-tokens",
        "2",
        "--prompt-family",
        "world",
        "Who moved to dismiss?",
    ]);
    assert_eq!(flagged["provenance"]["family"], "world");
    sandbox.write_config("prompt_family = \"raven\"\n");
    let configured = sandbox.json(&[
        "ask",
        "--doc",
        "order",
        "--max-tokens",
        "2",
        "Who moved to dismiss?",
    ]);
    assert_eq!(configured["provenance"]["family"], "raven");
    sandbox.write_config("prompt_family = \"alpaca\"\n");
    let refused = sandbox.run(&["ask", "--doc", "order", "Who moved to dismiss?"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("config.toml") && stderr.contains("raven"),
        "{stderr}"
    );
    sandbox.write_config("");

    // Summaries: one per section with pages; a second run reuses them all.
    let report = sandbox.json(&["summarize", "--doc", "order-on-motion"]);
    let summaries = report["summaries"].as_array().cloned().unwrap_or_default();
    assert!(
        summaries.len() >= 2,
        "the order has headed sections: {report}"
    );
    for s in &summaries {
        assert!(
            s["section"]["title"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{s}"
        );
    }
    let again = sandbox.json(&["summarize", "--doc", "order-on-motion"]);
    assert_eq!(again["generated"], 0, "{again}");
    assert_eq!(again["reused"].as_u64(), Some(summaries.len() as u64));

    // Export: the questions asked of the order and its summaries, with citations, as Markdown.
    let out = sandbox.path("order.md");
    let out_arg = out.to_string_lossy().into_owned();
    sandbox.ok(&["export", "--doc", "order-on-motion", "--output", &out_arg]);
    let markdown = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("export: {e}"));
    assert!(markdown.contains("Who moved to dismiss?"), "{markdown}");
    assert!(
        markdown.contains("p. ") || markdown.contains("pp. "),
        "{markdown}"
    );
    for s in &summaries {
        let title = s["section"]["title"].as_str().unwrap_or_default();
        assert!(
            markdown.contains(title),
            "summary {title:?} missing from:\n{markdown}"
        );
    }

    // A document that isn't there: a clear error naming what the library holds.
    let missing = sandbox.run(&["ask", "--doc", "no-such-filing", "Anything?"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        stderr.contains("no-such-filing") && stderr.contains("complaint"),
        "{stderr}"
    );
}

#[test]
fn bench_refuses_a_precision_it_would_not_apply_to_a_checkpoint() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&[
        "bench",
        "--model",
        "models/demo/rwkv4-demo.safetensors",
        "--quant",
        "q8_0",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted --quant silently: {stderr}");
    assert!(
        stderr.contains("--quant q8_0") && stderr.contains("rwkv-reader convert"),
        "the refusal says to convert first: {stderr}"
    );
}

#[test]
fn convert_makes_the_output_folder_it_needs() {
    let sandbox = Sandbox::new();
    let out_path = sandbox.path("not/yet/there/demo-q8_0.gguf");
    let out = sandbox.run(&[
        "convert",
        "models/demo/rwkv4-demo.safetensors",
        out_path.to_str().unwrap(),
        "--to",
        "q8_0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_path.is_file());
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote"));
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_gpu_device_without_the_cuda_build_is_a_clear_error_that_loses_nothing() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["--device", "cuda", "ingest", "sample-docs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a CPU-only build accepted --device cuda"
    );
    assert!(
        stderr.contains("on cuda") && stderr.contains("--features cuda"),
        "the error names the device and how to get it: {stderr}"
    );
    // Nothing was written to the library before the refusal.
    let listed = sandbox.run(&["search", "lease"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("lease"),
        "documents were read although the model could not be loaded"
    );
    // The config file's device, with a name no build knows.
    sandbox.write_config("device = \"tpu\"\n");
    let out = sandbox.run(&["ingest", "sample-docs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "device = \"tpu\" was accepted");
    assert!(
        stderr.contains("unknown device \"tpu\"") && stderr.contains("cuda:N"),
        "{stderr}"
    );
}

#[test]
fn the_sample_folder_s_own_readme_is_not_a_document() {
    let sandbox = Sandbox::new();
    let report = sandbox.json(&["ingest", "sample-docs/"]);
    let text = report.to_string();
    assert!(
        !text.contains("sample-docs/README.md"),
        "README.md was ingested: {text}"
    );
    assert!(
        text.contains("the-keeper-of-tallow-point.txt") && text.contains("complaint.txt"),
        "the samples are: {text}"
    );
}
