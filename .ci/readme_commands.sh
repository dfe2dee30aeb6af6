#!/usr/bin/env bash
# Runs every command line of README.md's ```sh blocks, the way a person following the README would:
#   - `cargo test ...` as it is;
#   - `cargo run ... -- PATH...` (no subcommand: the terminal UI) inside tmux, on a private library and
#     config, waiting until the Library shows every file under PATH read, asking one question and
#     quitting with `q`;
#   - every other `cargo run ... -- SUBCOMMAND ...` headless, with `--library` in a temporary folder,
#     failing on a non-zero exit or empty output.
# Blocks that show commands for things CI cannot have (real weights, a GPU) are fenced as ```text.
# Usage: .ci/readme_commands.sh [README]   (run from the repository root)
set -euo pipefail
readme="${1:-README.md}"
sandbox="$(mktemp -d)"
trap 'tmux -L readme-ci kill-server >/dev/null 2>&1 || true; rm -rf "$sandbox"' EXIT

# The private places every command uses: nothing of the user's (or CI's) own is read or written.
export RWKV_READER_CONFIG="$sandbox/config.toml"
export XDG_CONFIG_HOME="$sandbox/config-home"
export XDG_DATA_HOME="$sandbox/data-home"
export RUST_BACKTRACE=0
: >"$RWKV_READER_CONFIG"
library="$sandbox/library"

# ```sh blocks only; one command a line (no line continuations in the README's blocks).
mapfile -t commands < <(awk '
    /^```sh[[:space:]]*$/ { inside = 1; next }
    /^```/ { inside = 0; next }
    inside && $0 !~ /^[[:space:]]*(#|$)/ { print }
' "$readme")
if [ "${#commands[@]}" -eq 0 ]; then
    echo "no \`\`\`sh command lines in $readme" >&2
    exit 1
fi

fail() {
    echo "README command failed: $1" >&2
    echo "  reason: $2" >&2
    exit 1
}

# What the screen of the UI session shows now.
screen() { tmux -L readme-ci capture-pane -p -t readme 2>/dev/null || true; }

# Waits until `predicate SCREEN` holds, or fails after SECONDS.
wait_screen() {
    local what="$1" seconds="$2" predicate="$3" waited=0
    while ! "$predicate" "$(screen)"; do
        if ! tmux -L readme-ci has-session -t readme 2>/dev/null; then
            fail "$command" "the UI exited while waiting for $what"
        fi
        if [ "$waited" -ge "$seconds" ]; then
            echo "---- screen ----" >&2
            screen >&2
            fail "$command" "no $what after ${seconds}s"
        fi
        sleep 2
        waited=$((waited + 2))
    done
}

# The documents the UI is opened on: every supported file under the paths it was given, minus
# what the folder's ignore file lists (the UI itself decides; this only names what to wait for).
expected_files=()
library_shows_every_file_read() {
    local file
    for file in "${expected_files[@]}"; do
        grep -F -- "$file" <<<"$1" | grep -q "ready" || return 1
    done
}
prompt_open() { grep -q "> " <<<"$1"; }
answer_shown() { grep -q "re-read" <<<"$1"; }
library_drawn() { grep -q "1 Library" <<<"$1"; }

run_ui() {
    local command="$1"
    local paths=${command#*-- }
    local path name
    for path in $paths; do
        while IFS= read -r name; do
            expected_files+=("$name")
        done < <(find "$path" -type f \( -name '*.txt' -o -name '*.md' -o -name '*.pdf' -o -name '*.html' \) \
            -printf '%f\n' | grep -v -x -F -f <(cat "$path/.rwkv-reader-ignore" 2>/dev/null || true))
    done
    echo "== UI: $command (waiting for ${#expected_files[@]} documents to be read)"
    tmux -L readme-ci kill-server >/dev/null 2>&1 || true
    tmux -L readme-ci new-session -d -s readme -x 120 -y 40 \
        "cd '$PWD' && RWKV_READER_LIBRARY='$library-ui' $command; echo \"exit status \$?\"; sleep 600"
    # The first run builds the release binary inside the terminal, as it does for a person.
    wait_screen "library view" 2400 library_drawn
    wait_screen "library view with every document read" 900 library_shows_every_file_read
    tmux -L readme-ci send-keys -t readme Enter
    sleep 2
    tmux -L readme-ci send-keys -t readme a
    wait_screen "question prompt" 60 prompt_open
    tmux -L readme-ci send-keys -t readme -l "What was the liability cap in the lease?"
    tmux -L readme-ci send-keys -t readme Enter
    wait_screen "answer with its evidence" 600 answer_shown
    tmux -L readme-ci send-keys -t readme q
    local waited=0
    until grep -q "exit status" <<<"$(screen)"; do
        [ "$waited" -ge 60 ] && fail "$command" "the UI did not quit on q"
        sleep 1
        waited=$((waited + 1))
    done
    grep -q "exit status 0" <<<"$(screen)" || fail "$command" "$(screen | grep 'exit status')"
    tmux -L readme-ci kill-server >/dev/null 2>&1 || true
    echo "   ok: every document read, a question answered, quit with q"
}

run_headless() {
    local command="$1"
    echo "== $command"
    local out="$sandbox/out.txt"
    if ! eval "$command --library '$library'" >"$out" 2>"$sandbox/err.txt"; then
        tail -20 "$sandbox/err.txt" >&2
        fail "$command" "non-zero exit"
    fi
    if [ ! -s "$out" ]; then
        tail -20 "$sandbox/err.txt" >&2
        fail "$command" "it printed nothing"
    fi
    head -5 "$out" | sed 's/^/   /'
}

for command in "${commands[@]}"; do
    case "$command" in
    cargo\ test*)
        echo "== $command"
        eval "$command"
        ;;
    cargo\ run*--\ *)
        args=${command#*-- }
        first=${args%% *}
        case "$first" in
        ingest | search | ask | summarize | export | bench | eval | convert | check)
            run_headless "$command"
            ;;
        *)
            run_ui "$command"
            ;;
        esac
        ;;
    *)
        fail "$command" "CI does not know how to run this line (fence it as \`\`\`text if it is not for CI)"
        ;;
    esac
done
echo "readme: ${#commands[@]} passed, 0 failed"
