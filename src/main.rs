//! The `tributary` binary: parses arguments, sets up logging and the
//! runtime, runs the command and maps its outcome to an exit code
//! (0 ok, 1 runtime failure, 2 usage or configuration error).

use clap::Parser;
use tributary::cli::{self, Cli};

fn main() {
    let cli = Cli::parse();
    cli::init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
