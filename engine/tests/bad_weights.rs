//! Files that are not usable RWKV-4 checkpoints get a clear error naming the file and the reason.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use common::fixture;
use engine::{EngineError, Model};

fn load_error(name: &str) -> String {
    match Model::load(&fixture(name)) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(name.rsplit('/').next().unwrap_or(name)),
                "error does not name the file: {text}"
            );
            text
        }
    }
}

#[test]
fn valid_one_layer_models_load_from_both_containers() {
    for name in ["bad/ok-1layer.safetensors", "bad/ok-1layer.pth"] {
        let model = Model::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.info().n_layer, 1);
    }
}

#[test]
fn newer_rwkv_versions_are_refused() {
    for name in [
        "bad/v5-keys.pth",
        "bad/v6-keys.safetensors",
        "bad/v7-keys.safetensors",
    ] {
        let err = load_error(name);
        assert!(err.contains("newer RWKV version"), "{name}: {err}");
    }
}

#[test]
fn missing_and_misshaped_tensors_are_named() {
    let err = load_error("bad/missing-tensor.safetensors");
    assert!(err.contains("blocks.0.att.key.weight"), "{err}");
    let err = load_error("bad/misshaped.safetensors");
    assert!(
        err.contains("blocks.0.att.value.weight") && err.contains("[8, 9]"),
        "{err}"
    );
}

#[test]
fn truncated_empty_legacy_and_foreign_files_are_refused() {
    assert!(load_error("bad/truncated.pth").contains("zip"));
    assert!(load_error("bad/truncated.safetensors").contains("truncated"));
    assert!(load_error("bad/empty.pth").contains("empty"));
    assert!(load_error("bad/legacy.pth").contains("legacy"));
    assert!(load_error("bad/notamodel.safetensors").contains("not an RWKV checkpoint"));
}

#[test]
fn nested_state_dict_is_reported_with_its_key() {
    let err = load_error("bad/nested.pth");
    assert!(err.contains("\"model\""), "{err}");
}

#[test]
fn a_malicious_pickle_is_parsed_never_executed() {
    let markers = [
        "/tmp/rwkv_reader_pickle_executed",
        "/tmp/rwkv_reader_pickle_executed_eval",
    ];
    for m in markers {
        let _ = std::fs::remove_file(m);
    }
    let result = Model::load(&fixture("bad/evil.pth"));
    assert!(
        matches!(result, Err(EngineError::BadWeights { .. })),
        "{result:?}"
    );
    for m in markers {
        assert!(
            !std::path::Path::new(m).exists(),
            "{m} was created: the pickle ran"
        );
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = Model::load(std::path::Path::new("/nonexistent/model.pth"))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/model.pth"), "{err}");
}
