//! The `tributary` binary: parses arguments, sets up logging and the
//! runtime, runs the command and maps its outcome to an exit code
//! (0 ok, 1 runtime failure, 2 usage or configuration error).

use clap::Parser;
use tributary::cli::{self, Cli};

/// Threads for blocking work (SQLite reads and writes, ingest). Every
/// source task reads its poll state at start, so without a bound a daemon
/// with 10,000 sources would start 512 threads (tokio's default), each
/// with its own stack and SQLite connection, and keep that memory.
/// Ingest is bounded by the cores and writes by the single writer, so a
/// few threads more than the cores keep the work flowing.
const BLOCKING_THREADS: usize = 16;

fn main() {
    let cli = Cli::parse();
    cli::init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if cli::is_usage_error(&e) { 2 } else { 1 }
        }
    };
    // Blocking work still running after the daemon's grace period is
    // abandoned: SQLite rolls back whatever it had not committed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
