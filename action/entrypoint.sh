#!/usr/bin/env bash
# mlops-maturity GitHub Action: install the binary, scan, diff, summarise, comment.
#
#   entrypoint.sh resolve   version and target triple → $GITHUB_OUTPUT (for the cache key)
#   entrypoint.sh install   verified release binary (or a build from the action's source)
#   entrypoint.sh run       scan head (and base on pull_request), diff, summary, comment
#
# Everything comes in through environment variables (action.yml maps the inputs):
# nothing from the event or the repository is ever interpolated into shell code, and
# this script uses no eval. The repository is only read, never executed.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }
die() { printf '::error title=mlops-maturity::%s\n' "$*"; exit 2; }

truthy() {
  case "${1:-}" in
    true | True | TRUE | 1 | yes) return 0 ;;
    *) return 1 ;;
  esac
}

# Append NAME=VALUE to $GITHUB_OUTPUT (values here are paths and numbers, no newlines).
set_output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# Workflow commands are disabled while the binary runs: its diagnostics quote
# repository paths and messages, which must not be able to act as `::commands::`.
quiet_commands_begin() {
  # Unguessable, so repository text cannot re-enable commands by printing `::TOKEN::`.
  STOP_TOKEN="mm-$(od -An -tx1 -N16 /dev/urandom 2>/dev/null | tr -d ' \n' || true)$RANDOM$RANDOM"
  printf '::stop-commands::%s\n' "$STOP_TOKEN"
}
quiet_commands_end() {
  printf '::%s::\n' "$STOP_TOKEN"
}

action_path() {
  if [[ -n "${ACTION_PATH:-}" ]]; then
    printf '%s' "$ACTION_PATH"
  else
    cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd
  fi
}

resolve_version() {
  local v="${INPUT_VERSION:-}"
  if [[ -z "$v" || "$v" == "auto" ]]; then
    # The version of the action's own source: the release made from the same tag.
    v="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$(action_path)/Cargo.toml" | head -n 1)"
  fi
  v="${v#v}"
  [[ "$v" =~ ^[0-9A-Za-z.+-]+$ ]] || die "version '${v}' is not a release version (e.g. 0.1.0)"
  printf '%s' "$v"
}

resolve_target() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64) printf 'x86_64-unknown-linux-gnu' ;;
    Linux/ARM64 | Linux/aarch64) printf 'aarch64-unknown-linux-gnu' ;;
    macOS/ARM64 | Darwin/arm64) printf 'aarch64-apple-darwin' ;;
    macOS/X64 | Darwin/x86_64) printf 'x86_64-apple-darwin' ;;
    Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64) printf 'x86_64-pc-windows-msvc' ;;
    *) printf 'unknown' ;;
  esac
}

cmd_resolve() {
  local version target
  version="$(resolve_version)"
  target="$(resolve_target)"
  set_output version "$version"
  set_output target "$target"
  set_output install-dir "${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/mlops-maturity/$version/$target"
  log "mlops-maturity $version for $target"
}

# Download the release binary and its .sha256 and verify them; 0 on success.
download_release() {
  local version="$1" target="$2" dir="$3"
  local repo="${MLOPS_MATURITY_REPO:-${GITHUB_ACTION_REPOSITORY:-}}"
  local base="${MLOPS_MATURITY_DOWNLOAD_URL:-}"
  if [[ -z "$base" ]]; then
    [[ -n "$repo" ]] || { log "no release repository known; building from source"; return 1; }
    base="https://github.com/$repo/releases/download/v$version"
  fi
  [[ "$target" != unknown ]] || { log "no release binary for this runner; building from source"; return 1; }
  local asset="mlops-maturity-$target"
  [[ "$target" == *windows* ]] && asset="$asset.exe"
  command -v curl >/dev/null || { log "curl not found; building from source"; return 1; }
  mkdir -p "$dir"
  local tmp
  tmp="$(mktemp -d)"
  # HTTPS only; a file:// mirror (air-gapped runners, tests) is allowed when named explicitly.
  local proto='=https'
  [[ "$base" == file://* ]] && proto='=file'
  if ! curl -fsSL --retry 3 --proto "$proto" -o "$tmp/$asset" "$base/$asset" ||
    ! curl -fsSL --retry 3 --proto "$proto" -o "$tmp/$asset.sha256" "$base/$asset.sha256"; then
    log "download of $base/$asset failed; building from source"
    rm -rf "$tmp"
    return 1
  fi
  # Check against the published hash only, under the name we chose: a .sha256 file that
  # named another file would otherwise make `sha256sum -c` check that file instead.
  local expected
  expected="$(head -c 200 "$tmp/$asset.sha256" | awk 'NR == 1 { print tolower($1) }')"
  if [[ ! "$expected" =~ ^[0-9a-f]{64}$ ]] ||
    ! (cd "$tmp" && printf '%s  %s\n' "$expected" "$asset" | sha256sum -c - >&2); then
    rm -rf "$tmp"
    die "checksum mismatch for $asset: refusing to run it"
  fi
  mv "$tmp/$asset" "$dir/mlops-maturity"
  mv "$tmp/$asset.sha256" "$dir/mlops-maturity.sha256.orig"
  # Keep a checksum of the installed name so a cached copy is verified again.
  (cd "$dir" && sha256sum mlops-maturity >mlops-maturity.sha256)
  chmod +x "$dir/mlops-maturity"
  rm -rf "$tmp"
  log "installed the verified release binary $asset"
}

build_from_source() {
  local dir="$1" src
  src="$(action_path)"
  command -v cargo >/dev/null || die "no release binary and no cargo to build one: install Rust (dtolnay/rust-toolchain) before this action, or set the 'version' input to a released version"
  log "building mlops-maturity from $src (cargo build --release --locked)"
  cargo build --release --locked --manifest-path "$src/Cargo.toml" --target-dir "${RUNNER_TEMP:-/tmp}/mlops-maturity-target" >&2
  mkdir -p "$dir"
  cp "${RUNNER_TEMP:-/tmp}/mlops-maturity-target/release/mlops-maturity" "$dir/mlops-maturity"
  (cd "$dir" && sha256sum mlops-maturity >mlops-maturity.sha256)
}

cmd_install() {
  local bin
  if [[ -n "${MLOPS_MATURITY_BIN:-}" ]]; then
    [[ -x "$MLOPS_MATURITY_BIN" ]] || die "MLOPS_MATURITY_BIN=$MLOPS_MATURITY_BIN is not executable"
    bin="$MLOPS_MATURITY_BIN"
  else
    local version target dir
    version="$(resolve_version)"
    target="$(resolve_target)"
    dir="${INSTALL_DIR:-${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/mlops-maturity/$version/$target}"
    if [[ -x "$dir/mlops-maturity" ]] && (cd "$dir" && sha256sum -c --quiet mlops-maturity.sha256 >&2); then
      log "using the cached mlops-maturity $version ($dir)"
    elif ! download_release "$version" "$target" "$dir"; then
      build_from_source "$dir"
    fi
    bin="$dir/mlops-maturity"
  fi
  "$bin" --version >&2
  if [[ -n "${GITHUB_ENV:-}" ]]; then
    printf 'MLOPS_MATURITY_BIN=%s\n' "$bin" >>"$GITHUB_ENV"
  fi
  set_output bin "$bin"
}

# ── run ──────────────────────────────────────────────────────────────────────────────

# A field of the event payload, via jq (GitHub-hosted runners have it); empty if absent.
event_field() {
  local filter="$1"
  [[ -n "${GITHUB_EVENT_PATH:-}" && -f "${GITHUB_EVENT_PATH:-}" ]] || return 0
  command -v jq >/dev/null || return 0
  jq -r "$filter // empty" "$GITHUB_EVENT_PATH" 2>/dev/null || true
}

# First `"overall": N` at the top level of a pretty report.
overall_of() {
  sed -n 's/^  "overall": \([0-9]*\),*$/\1/p' "$1" | head -n 1
}

# up + down of the diff's top-level `counts` (pretty JSON, two-space indent).
changed_of() {
  awk '/^  "counts": \{/ { inside = 1 }
       inside && /"(up|down)":/ { gsub(/[^0-9]/, ""); sum += $0 }
       inside && /^  \}/ { inside = 0 }
       END { printf "%d", sum }' "$1"
}

# Remove the base worktree on exit (set by cmd_run).
CLEANUP_WORKSPACE=""
CLEANUP_WORKTREE=""
cleanup() {
  if [[ -n "$CLEANUP_WORKTREE" ]]; then
    git -C "$CLEANUP_WORKSPACE" worktree remove --force "$CLEANUP_WORKTREE" >/dev/null 2>&1 || true
  fi
}

summary() {
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    cat >>"$GITHUB_STEP_SUMMARY"
  else
    cat >/dev/null
  fi
}

fork_notice() {
  local why="$1"
  printf '::notice title=mlops-maturity: no PR comment::%s The maturity diff is in the job summary. To comment on pull requests from forks safely, run this action with comment: false here, upload diff.md as an artifact, and post it from a separate workflow_run workflow that never checks out the PR code (see docs/action.md, "Pull requests from forks (workflow_run)"). Do not use pull_request_target with a checkout of the PR head.\n' "$why"
}

# The second half of the workflow_run recipe (docs/action.md): diff two reports that an
# untrusted pull_request run uploaded, and post the comment with a write token. The
# reports are only data (every string is escaped when rendered); the PR number from the
# artifact is checked against the head commit of the trusted workflow_run event.
comment_from_reports() {
  local bin="$1"
  local base_json="${INPUT_BASE_REPORT:-}" head_json="${INPUT_HEAD_REPORT:-}"
  [[ -f "$base_json" && -f "$head_json" ]] || die "base-report and head-report must both be report files"
  local pr="${INPUT_PR_NUMBER:-}"
  if [[ -z "$pr" && -n "${INPUT_PR_NUMBER_FILE:-}" ]]; then
    [[ -f "$INPUT_PR_NUMBER_FILE" ]] || die "pr-number-file $INPUT_PR_NUMBER_FILE not found"
    pr="$(head -c 32 "$INPUT_PR_NUMBER_FILE" | head -n 1 | tr -d '[:space:]')"
  fi
  [[ "$pr" =~ ^[0-9]{1,10}$ ]] || die "the pull request number is not a number"
  local head_sha="${INPUT_HEAD_SHA:-}"
  [[ "$head_sha" =~ ^[0-9a-f]{40,64}$ ]] || die "head-sha (github.event.workflow_run.head_sha) is required with base-report/head-report"
  [[ -n "${GITHUB_REPOSITORY:-}" ]] || die "GITHUB_REPOSITORY is not set"
  local out status=0
  out="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlops-maturity.XXXXXX")"
  local lang="${INPUT_LANG:-en}"
  case "$lang" in en | zh) ;; *) die "lang must be en or zh, not '$lang'" ;; esac
  quiet_commands_begin
  "$bin" diff "$base_json" "$head_json" --format markdown --lang "$lang" -o "$out/diff.md" || status=$?
  "$bin" diff "$base_json" "$head_json" --format json -o "$out/diff.json" || status=$?
  quiet_commands_end
  [[ "$status" == 0 ]] || die "the uploaded reports could not be compared (exit $status)"
  summary <"$out/diff.md"
  set_output diff-path "$out/diff.md"
  set_output changed-sub-items "$(changed_of "$out/diff.json")"
  local api_args=(--github-repo "$GITHUB_REPOSITORY" --pr "$pr" --body-file "$out/diff.md" --expect-head-sha "$head_sha")
  if [[ -n "${GITHUB_API_URL:-}" ]]; then
    api_args+=(--api-url "$GITHUB_API_URL")
  fi
  local crc=0
  "$bin" comment "${api_args[@]}" || crc=$?
  case "$crc" in
    0) set_output comment "posted" ;;
    3) set_output comment "read-only"
       die "the token may not write pull-request comments: give this workflow permissions: pull-requests: write" ;;
    *) set_output comment "failed"
       die "posting the pull-request comment failed (exit $crc)" ;;
  esac
}

cmd_run() {
  local bin="${MLOPS_MATURITY_BIN:-}"
  [[ -n "$bin" && -x "$bin" ]] || die "mlops-maturity is not installed (run 'entrypoint.sh install' first, or set MLOPS_MATURITY_BIN)"
  if [[ -n "${INPUT_BASE_REPORT:-}" || -n "${INPUT_HEAD_REPORT:-}" ]]; then
    comment_from_reports "$bin"
    return
  fi
  local workspace="${GITHUB_WORKSPACE:-$PWD}"
  local scan_path="${INPUT_PATH:-.}"
  local lang="${INPUT_LANG:-en}"
  case "$lang" in en | zh) ;; *) die "lang must be en or zh, not '$lang'" ;; esac
  case "$scan_path" in
    /* | ../* | */../* | .. | -*) die "path must be relative to the repository root, inside it: '$scan_path'" ;;
  esac
  local fail_under="${INPUT_FAIL_UNDER:-}"
  [[ -z "$fail_under" || "$fail_under" =~ ^[1-5]$ ]] || die "fail-under must be 1-5, not '$fail_under'"

  local out
  out="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlops-maturity.XXXXXX")"
  local head_json="$out/head.json" report_md="$out/report.md"
  local scan_args=(--format json --lang "$lang")

  local event="${GITHUB_EVENT_NAME:-}"
  local status=0 below=0 regressed=0

  quiet_commands_begin
  (cd "$workspace" && "$bin" scan "$scan_path" "${scan_args[@]}" -o "$head_json") || status=$?
  quiet_commands_end
  [[ "$status" == 0 ]] || die "scanning the head failed (exit $status); see the messages above"
  local overall
  overall="$(overall_of "$head_json")"
  set_output overall-level "$overall"
  set_output report-path "$head_json"
  if [[ -n "$fail_under" && -n "$overall" && "$overall" -lt "$fail_under" ]]; then
    below=1
  fi

  if truthy "${INPUT_SARIF:-false}"; then
    quiet_commands_begin
    (cd "$workspace" && "$bin" scan "$scan_path" --format sarif --lang "$lang" -o "$out/mlops-maturity.sarif") || status=$?
    quiet_commands_end
    [[ "$status" == 0 ]] || die "writing SARIF failed (exit $status)"
    set_output sarif-path "$out/mlops-maturity.sarif"
  fi

  local base_sha="${MM_BASE_SHA:-}" pr="${MM_PR_NUMBER:-}" fork="${MM_HEAD_FORK:-}"
  if [[ "$event" == pull_request ]]; then
    [[ -n "$base_sha" ]] || base_sha="$(event_field '.pull_request.base.sha')"
    [[ -n "$pr" ]] || pr="$(event_field '.pull_request.number')"
    [[ -n "$fork" ]] || fork="$(event_field '.pull_request.head.repo.fork')"
  fi
  [[ -z "$base_sha" || "$base_sha" =~ ^[0-9a-f]{7,64}$ ]] || die "base sha '$base_sha' is not a commit id"
  [[ -z "$pr" || "$pr" =~ ^[0-9]+$ ]] || die "pull request number '$pr' is not a number"

  if [[ "$event" != pull_request || -z "$base_sha" ]]; then
    # push / schedule / manual: the full report.
    quiet_commands_begin
    (cd "$workspace" && "$bin" scan "$scan_path" --format markdown --lang "$lang" -o "$report_md") || status=$?
    quiet_commands_end
    [[ "$status" == 0 ]] || die "writing the Markdown report failed (exit $status)"
    summary <"$report_md"
    set_output changed-sub-items 0
    set_output diff-path ""
    log "mlops-maturity: overall level $overall (full report in the job summary)"
  else
    # The base revision as a worktree: its files come from git, no API needed.
    if ! git -C "$workspace" cat-file -e "$base_sha^{commit}" 2>/dev/null; then
      log "base commit $base_sha is not in the checkout; fetching it (use actions/checkout with fetch-depth: 0 to avoid this)"
      git -C "$workspace" fetch --no-tags --depth=1 origin "$base_sha" >&2 ||
        die "cannot get the base commit $base_sha: check out with fetch-depth: 0"
    fi
    local base_dir="$out/base"
    git -C "$workspace" worktree add --detach --quiet "$base_dir" "$base_sha" >&2
    CLEANUP_WORKSPACE="$workspace"
    CLEANUP_WORKTREE="$base_dir"
    trap cleanup EXIT
    local base_json="$out/base.json" diff_md="$out/diff.md" diff_json="$out/diff.json"
    quiet_commands_begin
    if [[ -d "$base_dir/$scan_path" ]]; then
      (cd "$base_dir" && "$bin" scan "$scan_path" "${scan_args[@]}" -o "$base_json") || status=$?
    else
      # The scanned folder is new in this pull request: compare with an empty folder.
      mkdir -p "$out/empty"
      (cd "$out/empty" && "$bin" scan . "${scan_args[@]}" -o "$base_json") || status=$?
    fi
    quiet_commands_end
    [[ "$status" == 0 ]] || die "scanning the base failed (exit $status)"
    quiet_commands_begin
    "$bin" diff "$base_json" "$head_json" --format markdown --lang "$lang" -o "$diff_md" || status=$?
    local rc=0
    "$bin" diff "$base_json" "$head_json" --format json -o "$diff_json" --fail-on-regression || rc=$?
    quiet_commands_end
    [[ "$status" == 0 ]] || die "diff failed (exit $status)"
    case "$rc" in
      0) ;;
      1) regressed=1 ;;
      *) die "diff failed (exit $rc)" ;;
    esac
    summary <"$diff_md"
    set_output diff-path "$diff_md"
    set_output diff-json-path "$diff_json"
    set_output base-report-path "$base_json"
    set_output changed-sub-items "$(changed_of "$diff_json")"

    if ! truthy "${INPUT_COMMENT:-true}"; then
      log "comment: false: the diff is in the job summary only"
    elif truthy "$fork"; then
      fork_notice "This pull request comes from a fork, so its GITHUB_TOKEN is read-only."
    elif [[ -z "$pr" || -z "${GITHUB_REPOSITORY:-}" ]]; then
      log "no pull request number or repository: not commenting"
    elif [[ -z "${GITHUB_TOKEN:-}" ]]; then
      log "no token (input github-token): not commenting"
    else
      local crc=0
      if [[ -n "${GITHUB_API_URL:-}" ]]; then
        "$bin" comment --github-repo "$GITHUB_REPOSITORY" --pr "$pr" --body-file "$diff_md" \
          --api-url "$GITHUB_API_URL" || crc=$?
      else
        "$bin" comment --github-repo "$GITHUB_REPOSITORY" --pr "$pr" --body-file "$diff_md" || crc=$?
      fi
      case "$crc" in
        0) set_output comment "posted" ;;
        3)
          set_output comment "read-only"
          fork_notice "The token may not write pull-request comments (read-only: a fork, Dependabot, or permissions without pull-requests: write)."
          ;;
        *)
          set_output comment "failed"
          printf '::warning title=mlops-maturity::posting the pull-request comment failed (exit %s); the diff is in the job summary\n' "$crc"
          ;;
      esac
    fi
  fi

  if [[ "$below" == 1 ]]; then
    printf '::error title=mlops-maturity::overall level %s is below fail-under %s\n' "$overall" "$fail_under"
    exit 1
  fi
  if [[ "$regressed" == 1 ]] && truthy "${INPUT_FAIL_ON_REGRESSION:-false}"; then
    printf '::error title=mlops-maturity::a maturity level went down in this pull request (fail-on-regression)\n'
    exit 1
  fi
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  install) cmd_install ;;
  run) cmd_run ;;
  *)
    log "usage: entrypoint.sh resolve|install|run"
    exit 2
    ;;
esac
