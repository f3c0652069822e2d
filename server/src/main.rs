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
    /// Work with integration template files.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Check template files: prints `file:line:column: severity: message` for each finding
    /// and exits with status 1 when any file has an error.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
}

fn validate_templates(files: &[std::path::PathBuf]) -> std::process::ExitCode {
    let mut stdout = std::io::stdout().lock();
    match server::template_cli::validate_files(files, &mut stdout) {
        Ok(summary) => {
            eprintln!(
                "{} file(s) checked: {} error(s), {} warning(s)",
                summary.files, summary.errors, summary.warnings
            );
            if summary.errors > 0 {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("patchbay: cannot write the report: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Template {
        command: TemplateCommand::Validate { files },
    } = &cli.command
    {
        return validate_templates(files);
    }
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
        Command::Template { .. } => Ok(()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("patchbay: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
