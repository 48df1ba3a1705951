#!/usr/bin/env python3
"""Compare the practices mlops-maturity detects with hand labels.

Usage: scripts/eval-labels.py LABELS_DIR REPOS_DIR [--bin target/release/mlops-maturity] [--details]

LABELS_DIR holds one TOML file per repository (`repo = "<folder name>"` and a
`[practices."<id>"]` table with `present = true|false`, `evidence`, `why`), written
by a person following the conventions of the practice catalog ("Where the line
falls"). REPOS_DIR holds the checkouts, one folder per repository. The script scans
each checkout, and prints per-practice precision and recall over all repositories,
plus the disagreements (false positives and false negatives) with the labels'
reasons, so a rule can be fixed where it misses.
"""
import argparse
import collections
import json
import pathlib
import subprocess
import sys
import tomllib


def detected(binary, repo):
    out = subprocess.run(
        [binary, "scan", str(repo), "--format", "json", "--no-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"scan of {repo} failed ({out.returncode}): {out.stderr[-2000:]}")
    report = json.loads(out.stdout)
    found = set()
    for project in report["projects"]:
        for p in project["practices"]:
            if p.get("observed", 0) > 0:
                found.add(p["id"])
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("labels")
    ap.add_argument("repos")
    ap.add_argument("--bin", default="target/release/mlops-maturity")
    ap.add_argument("--details", action="store_true")
    args = ap.parse_args()

    tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
    misses = []
    for label_file in sorted(pathlib.Path(args.labels).glob("*.toml")):
        labels = tomllib.loads(label_file.read_text())
        repo = pathlib.Path(args.repos) / labels["repo"]
        found = detected(args.bin, repo)
        for practice, label in labels["practices"].items():
            present = bool(label.get("present"))
            hit = practice in found
            if present and hit:
                tp[practice] += 1
            elif hit:
                fp[practice] += 1
                misses.append((labels["repo"], practice, "FP", label.get("why", "")))
            elif present:
                fn[practice] += 1
                misses.append((labels["repo"], practice, "FN", label.get("why", "")))

    practices = sorted(set(tp) | set(fp) | set(fn))
    print(f"{'practice':28} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>7}")
    for p in practices:
        prec = tp[p] / (tp[p] + fp[p]) if tp[p] + fp[p] else float("nan")
        rec = tp[p] / (tp[p] + fn[p]) if tp[p] + fn[p] else float("nan")
        print(f"{p:28} {tp[p]:3} {fp[p]:3} {fn[p]:3} {prec:9.2f} {rec:7.2f}")
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    print(f"{'ALL':28} {T:3} {F:3} {N:3} {T / max(T + F, 1):9.2f} {T / max(T + N, 1):7.2f}")
    if args.details:
        print()
        for repo, practice, kind, why in misses:
            print(f"{kind} {repo:40} {practice:26} {why}")


if __name__ == "__main__":
    main()
