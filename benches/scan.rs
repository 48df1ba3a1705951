//! Scan benchmark: `cargo bench --bench scan` (or `scripts/bench.sh`).
//!
//! 1. Generates (once, deterministically) a large repository of 50,000 files into
//!    `target/bench-repo-50k`: nested Python packages with some ML calls, YAML
//!    configs, 300 GitHub workflows, Dockerfiles, data files no detector reads, and
//!    a .gitignore'd build folder. Then times `connect::scan_local` (walk + read +
//!    pipeline parse) over warm runs.
//! 2. Times a real checkout: `$BENCH_REAL_REPO` if set, else this repository.
//!
//! Target: the 50k-file scan under 2 s with a warm cache on a 2-core machine.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mlops_maturity::assess::{self, Table};
use mlops_maturity::config::Config;
use mlops_maturity::connect::{self, ConnectOptions};
use mlops_maturity::detect::{self, RuleSet};
use mlops_maturity::pipeline::{self, JobGraph};
use mlops_maturity::report::{self, Lang, ProjectReport, Report};

/// Bump when the generated tree changes, so a stale tree is regenerated.
const GENERATOR_VERSION: &str = "bench-repo-50k v1";
const RUNS: usize = 5;

const WORKFLOWS: usize = 300;
const DOCKERFILES: usize = 20;
const YAML_CONFIGS: usize = 2_000;
const PYTHON_FILES: usize = 20_000;
/// Everything else up to 50,000 visible files is data no detector reads.
const TOTAL_VISIBLE: usize = 50_000;
/// Files under the .gitignore'd folder (not counted in the 50,000).
const IGNORED_FILES: usize = 2_000;

/// A small deterministic generator (xorshift64*), so every machine gets the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create bench dir");
    }
    fs::write(&path, text).expect("write bench file");
}

fn workflow(i: usize, rng: &mut Rng) -> String {
    let mut y = String::new();
    let _ = writeln!(y, "name: pipeline-{i}");
    y.push_str("on:\n  push:\n    branches: [main]\n  pull_request:\n");
    if i % 7 == 0 {
        y.push_str("  schedule:\n    - cron: '0 3 * * 1'\n");
    }
    if i % 5 == 0 {
        y.push_str("  workflow_dispatch:\n");
    }
    y.push_str("permissions:\n  contents: read\njobs:\n");
    let jobs = 2 + rng.below(4);
    for j in 0..jobs {
        let _ = writeln!(y, "  job{j}:");
        y.push_str("    runs-on: ubuntu-latest\n");
        if j > 0 {
            let _ = writeln!(y, "    needs: [job{}]", j - 1);
        }
        if j == jobs - 1 && i % 3 == 0 {
            y.push_str("    environment: production\n");
        }
        y.push_str("    steps:\n      - uses: actions/checkout@v4\n");
        y.push_str("      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.11'\n");
        y.push_str("      - run: pip install -r requirements.txt\n");
        let steps = 2 + rng.below(5);
        for s in 0..steps {
            let cmd = match (j + s + i) % 6 {
                0 => "pytest -q tests/",
                1 => "python train.py --config configs/train.yaml",
                2 => "python evaluate.py --threshold 0.9",
                3 => "dvc repro",
                4 => "docker build -t model:${{ github.sha }} .",
                _ => "mlflow models serve -m runs:/abc/model",
            };
            let _ = writeln!(y, "      - name: step {s}\n        run: {cmd}");
        }
    }
    y
}

fn python(i: usize, rng: &mut Rng) -> String {
    let mut py = String::from(
        "\"\"\"Generated module for the scan benchmark.\"\"\"\nimport os\nimport json\n",
    );
    let ml = rng.below(10);
    if ml == 0 {
        py.push_str("import mlflow\n");
    } else if ml == 1 {
        py.push_str("import torch\nfrom sklearn.metrics import accuracy_score\n");
    }
    let functions = 3 + rng.below(8);
    for f in 0..functions {
        let _ = writeln!(
            py,
            "\n\ndef function_{i}_{f}(values, scale={f}):\n    \"\"\"Scale and sum.\"\"\"\n    total = 0\n    for v in values:\n        total += v * scale\n    return total"
        );
    }
    if ml == 0 {
        py.push_str("\n\nmlflow.log_metric(\"accuracy\", 0.93)\nmlflow.register_model(\"runs:/x/model\", \"churn\")\n");
    }
    py
}

fn yaml_config(i: usize, rng: &mut Rng) -> String {
    let mut y = format!(
        "# config {i}\nmodel:\n  name: model-{i}\n  layers: {}\n",
        2 + rng.below(30)
    );
    y.push_str("training:\n  epochs: 10\n  batch_size: 64\n  learning_rate: 0.001\n");
    let extra = rng.below(20);
    for k in 0..extra {
        let _ = writeln!(y, "  option_{k}: value_{}", rng.below(1000));
    }
    y
}

fn data(rng: &mut Rng) -> String {
    let rows = 5 + rng.below(60);
    let mut d = String::from("id,feature_a,feature_b,label\n");
    for r in 0..rows {
        let _ = writeln!(
            d,
            "{r},{},{},{}",
            rng.below(1000),
            rng.below(1000),
            rng.below(2)
        );
    }
    d
}

fn generate(root: &Path) {
    let stamp = root.with_extension("stamp");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == GENERATOR_VERSION) {
        return;
    }
    eprintln!("generating {} (once)…", root.display());
    let _ = fs::remove_dir_all(root);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut count = 0;

    write(root, ".gitignore", "build/\n*.pyc\n");
    write(root, "requirements.txt", "torch\nmlflow\nscikit-learn\n");
    count += 2;
    for i in 0..WORKFLOWS {
        write(
            root,
            &format!(".github/workflows/wf-{i:03}.yml"),
            &workflow(i, &mut rng),
        );
    }
    count += WORKFLOWS;
    for i in 0..DOCKERFILES {
        write(
            root,
            &format!("services/svc-{i:02}/Dockerfile"),
            "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/serve.py\"]\n",
        );
    }
    count += DOCKERFILES;
    for i in 0..YAML_CONFIGS {
        let rel = format!(
            "configs/group-{:02}/exp-{:03}/config-{i}.yaml",
            i % 40,
            i % 97
        );
        write(root, &rel, &yaml_config(i, &mut rng));
    }
    count += YAML_CONFIGS;
    for i in 0..PYTHON_FILES {
        // Nested packages: src/pkg_NN/sub_NN/mod_NNNNN.py, 4 levels deep.
        let rel = format!(
            "src/pkg_{:02}/sub_{:02}/leaf_{:02}/mod_{i:05}.py",
            i % 50,
            (i / 50) % 20,
            (i / 1000) % 20
        );
        write(root, &rel, &python(i, &mut rng));
    }
    count += PYTHON_FILES;
    let exts = ["csv", "parquet", "png", "npy", "pt", "md"];
    let mut i = 0;
    while count < TOTAL_VISIBLE {
        let ext = exts[i % exts.len()];
        let rel = format!("data/shard-{:03}/part-{i:05}.{ext}", i % 250);
        write(root, &rel, &data(&mut rng));
        count += 1;
        i += 1;
    }
    for i in 0..IGNORED_FILES {
        write(root, &format!("build/lib/gen_{i:04}.py"), "x = 1\n");
    }
    fs::write(&stamp, GENERATOR_VERSION).expect("write stamp");
}

struct Timing {
    runs: Vec<Duration>,
    /// CPU time (user + system, all threads) of each run: steadier than wall time
    /// on a shared machine, and what tells a costly stage from a waiting one.
    cpu: Vec<Duration>,
}

/// CPU time of this process so far (utime + stime from /proc/self/stat; zero where
/// /proc is not available).
fn cpu_time() -> Duration {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may contain spaces) start after ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after ')'.
    let total = ticks(11) + ticks(12);
    // Linux reports in USER_HZ, which is 100 on every mainstream configuration.
    Duration::from_millis(total * 10)
}

impl Timing {
    fn report(&mut self, label: &str) {
        self.runs.sort();
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let min = self.runs.first().map(ms).unwrap_or(0.0);
        let max = self.runs.last().map(ms).unwrap_or(0.0);
        let median = self.runs.get(self.runs.len() / 2).map(ms).unwrap_or(0.0);
        self.cpu.sort();
        let cpu = self.cpu.get(self.cpu.len() / 2).map(ms).unwrap_or(0.0);
        println!(
            "  {label:<28} min {min:8.1} ms   median {median:8.1} ms   max {max:8.1} ms   cpu {cpu:8.1} ms   ({} runs)",
            self.runs.len()
        );
    }
}

fn time<F: FnMut()>(mut f: F) -> Timing {
    f(); // warm the page cache and the allocator
    let mut runs = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), cpu_time());
        f();
        runs.push(start.elapsed());
        cpu.push(cpu_time().saturating_sub(cpu_start));
    }
    Timing { runs, cpu }
}

fn bench(label: &str, root: &Path) {
    let options = ConnectOptions::default();
    let snapshot = match connect::scan_local(root, &options) {
        Ok(s) => s,
        Err(e) => {
            println!("{label}: cannot scan: {e}");
            return;
        }
    };
    println!("\n{label}: {}", root.display());
    println!(
        "  files seen {}, read {} ({:.1} MiB), skipped {}, pipelines {}, diagnostics {}",
        snapshot.stats.files_seen,
        snapshot.stats.files_read,
        snapshot.stats.bytes_read as f64 / (1024.0 * 1024.0),
        snapshot.stats.files_skipped,
        snapshot.pipelines.len(),
        snapshot.diagnostics.len(),
    );
    let no_git = ConnectOptions {
        git_metadata: false,
        ..ConnectOptions::default()
    };
    time(|| {
        let _ = connect::local::collect(root, &no_git);
    })
    .report("walk + read (no git)");
    time(|| {
        let _ = connect::scan_local(root, &options);
    })
    .report("scan_local (+git, +parse)");

    // The stages after the walk, each on the same snapshot, so detection can be
    // compared with the walk and parse it sits on.
    time(|| {
        let mut diags = Vec::new();
        let _ = pipeline::parse_all(&snapshot.files, &mut diags);
    })
    .report("pipeline parse only");
    let rules = RuleSet::builtin().expect("built-in rules");
    let table = Table::builtin().expect("interpretation table");
    let config = Config::default();
    let graph = JobGraph::build(&snapshot.pipelines);
    time(|| {
        let _ = JobGraph::build(&snapshot.pipelines);
    })
    .report("job graph");
    time(|| {
        let _ = detect::detect(&snapshot, &graph, &rules);
    })
    .report("detect (rules + coded)");
    let detection = detect::detect(&snapshot, &graph, &rules);
    println!(
        "  practices found {}, evidence {}",
        detection.findings.len(),
        detection
            .findings
            .iter()
            .map(|f| f.evidence.len())
            .sum::<usize>()
    );
    time(|| {
        let assessment = assess::assess(&detection, &table, &config);
        let project = ProjectReport::new(
            None,
            String::new(),
            assessment,
            &detection,
            report::anchor_file(&snapshot),
        );
        let report = Report::new(
            snapshot.source.clone(),
            &table.version,
            None,
            vec![project],
            snapshot.diagnostics.clone(),
        );
        let _ = report::json::render(&report);
        let _ = report::markdown::render(&report, Lang::En);
    })
    .report("assess + render");
    time(|| {
        let snap = connect::scan_local(root, &options).expect("scan");
        let graph = JobGraph::build(&snap.pipelines);
        let detection = detect::detect(&snap, &graph, &rules);
        let assessment = assess::assess(&detection, &table, &config);
        let project = ProjectReport::new(
            None,
            String::new(),
            assessment,
            &detection,
            report::anchor_file(&snap),
        );
        let report = Report::new(
            snap.source.clone(),
            &table.version,
            None,
            vec![project],
            snap.diagnostics.clone(),
        );
        let _ = report::json::render(&report);
    })
    .report("full scan (end to end)");
}

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let generated = target.join("bench-repo-50k");
    let start = Instant::now();
    generate(&generated);
    eprintln!("(tree ready in {:.1} s)", start.elapsed().as_secs_f64());
    println!(
        "scan benchmark ({} threads available)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    bench(
        "generated repository (50,000 files, 300 workflows)",
        &generated,
    );

    let real = std::env::var_os("BENCH_REAL_REPO")
        .map(PathBuf::from)
        .unwrap_or(manifest);
    bench("real checkout", &real);
}
