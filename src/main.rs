use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use mlops_maturity::connect::{self, ConnectOptions};
use mlops_maturity::pipeline::JobGraph;

/// Infer CAICT Model/MLOps (model delivery) maturity levels from the evidence in a repository.
#[derive(Debug, Parser)]
#[command(name = "mlops-maturity", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan a repository and report what it shows.
    Scan {
        /// Local checkout to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the evidence snapshot and the job graph.
    Evidence {
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Include file contents in the JSON snapshot (large).
        #[arg(long)]
        include_content: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan { path, format } | Command::Evidence { path, format, .. } => {
            let snapshot = connect::scan_local(&path, &ConnectOptions::default())?;
            for d in &snapshot.diagnostics {
                eprintln!("{d}");
            }
            let graph = JobGraph::build(&snapshot.pipelines);
            match format {
                Format::Json => {
                    let mut snap = snapshot.clone();
                    snap.files.strip_contents();
                    let out = serde_json::json!({
                        "snapshot": snap,
                        "graph": { "edges": graph.edges(&snapshot.pipelines) },
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                }
                Format::Text => {
                    println!(
                        "{}: {} files, {} pipelines",
                        snapshot.source.target,
                        snapshot.files.len(),
                        snapshot.pipelines.len()
                    );
                    for p in &snapshot.pipelines {
                        println!("  {} ({}): {} jobs", p.file, p.system.label(), p.jobs.len());
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
