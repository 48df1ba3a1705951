//! The scanned checkout's remote URLs, for tying models to it by their runs' git tags.
//! Read from `.git/config` as text (never by running git on the scanned repository).

use std::io::Read;
use std::path::Path;

use crate::connect::git::find_git_dir;

/// A git config larger than this is not read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// `url = …` of every `[remote "…"]` section of the checkout at `root` (linked
/// worktrees read the common directory's config). Empty when there is none.
pub fn remote_urls(root: &Path) -> Vec<String> {
    let Some(dirs) = find_git_dir(root) else {
        return Vec::new();
    };
    let Ok(file) = std::fs::File::open(dirs.common_dir.join("config")) else {
        return Vec::new();
    };
    let mut text = String::new();
    if file
        .take(MAX_CONFIG_BYTES)
        .read_to_string(&mut text)
        .is_err()
    {
        return Vec::new();
    }
    parse_remote_urls(&text)
}

/// Remote URLs in a git config text, in order, without duplicates.
pub fn parse_remote_urls(config: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    let mut in_remote = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_remote = line
                .trim_start_matches('[')
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("remote ");
            continue;
        }
        if !in_remote || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().trim_matches('"').to_string();
            if (key == "url" || key == "pushurl") && !value.is_empty() && !urls.contains(&value) {
                urls.push(value);
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_sections_only() {
        let config = "[core]\n\turl = not-a-remote\n[remote \"origin\"]\n\turl = git@github.com:acme/churn.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[remote \"mirror\"]\n\turl = \"https://gitlab.com/acme/churn\"\n\tpushurl = git@github.com:acme/churn.git\n[branch \"main\"]\n\tremote = origin\n";
        assert_eq!(
            parse_remote_urls(config),
            [
                "git@github.com:acme/churn.git",
                "https://gitlab.com/acme/churn"
            ]
        );
    }

    #[test]
    fn reads_a_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(&git).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            git.join("config"),
            "[remote \"origin\"]\n url = https://github.com/a/b\n",
        )
        .unwrap();
        assert_eq!(remote_urls(dir.path()), ["https://github.com/a/b"]);
        assert!(remote_urls(&dir.path().join("nope")).is_empty());
    }
}
