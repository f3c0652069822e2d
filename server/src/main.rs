use clap::{Parser, Subcommand};
use server::config::Config;
use tracing_subscriber::EnvFilter;

/// Patchbay: connect phone systems to CRMs and helpdesks through integration templates.
#[derive(Parser)]
#[command(name = "patchbay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal (configuration from PATCHBAY_* variables; see README.md).
    Serve,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_env("PATCHBAY_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let result = match cli.command {
        Command::Serve => match Config::from_env() {
            Ok(config) => server::run(config).await,
            Err(error) => Err(error.into()),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("patchbay: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
