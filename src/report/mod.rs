//! Reports: terminal, JSON, Markdown, SARIF.
