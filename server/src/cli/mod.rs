//! The command line: `patchbay serve`, `patchbay template validate`, `patchbay eval`,
//! `patchbay run`, `patchbay secrets rotate`, `patchbay integration test`, `patchbay backup`,
//! `patchbay restore` and `patchbay admin`. Each subcommand's work lives in its own module; this one parses
//! the arguments and reports.

pub mod admin;
pub mod backup;
pub mod eval;
pub mod integration;
pub mod log;
pub mod run;
pub mod secrets;
pub mod template;

use crate::config::Config;
use clap::{Parser, Subcommand};
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
    /// Try the template language: a GJSON path on a JSON file, or a template string.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Run a template's scenario against its CRM and show each request and answer, secrets
    /// masked; `--dry-run` only renders the requests. Fields come from `--set NAME=VALUE`
    /// or PATCHBAY_FIELD_<NAME>; variables (Phone, CallerNumber, AccessToken, …) from
    /// `--var NAME=VALUE`.
    Run {
        #[arg(value_name = "TEMPLATE.xml")]
        template: std::path::PathBuf,
        #[arg(value_name = "SCENARIO")]
        scenario: String,
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        dry_run: bool,
        /// Print the trace as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stored secrets (passwords, client secrets, tokens of integrations).
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Copy the SQLite database to FILE while the server runs (a consistent snapshot).
    /// PostgreSQL: use pg_dump (README "Backup and restore"). The backup's secrets need the
    /// encryption key: keep a copy of it apart from the backups.
    Backup {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Copy a backup into the database the configuration names, which must not exist yet
    /// (a new data directory), after checking the backup and that the configured
    /// encryption key can read its secrets.
    Restore {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Accounts, from the server's machine: list them, or make a one-time link to choose
    /// a new password when an administrator's is lost.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Connected integrations (configuration from PATCHBAY_* variables, as `serve`).
    Integration {
        #[command(subcommand)]
        command: IntegrationCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Every account with its role and whether it may sign in.
    List,
    /// Print a one-time link (valid for an hour) to choose a new password for EMAIL's
    /// account; using it ends the account's sessions.
    ResetPassword {
        #[arg(value_name = "EMAIL")]
        email: String,
    },
}

#[derive(Subcommand)]
enum IntegrationCommand {
    /// Run an integration's saved test cases against its CRM; exit status 1 when one fails,
    /// 2 when they cannot run.
    Test {
        /// PROVIDER/KEY, e.g. crm/8f3c… (the template's key).
        #[arg(value_name = "PROVIDER/KEY")]
        integration: String,
        /// Test the template's newest revision instead of the one the integration runs.
        #[arg(long)]
        newest: bool,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-encrypt every stored secret under a new key (SECURITY.md "Key rotation"). With
    /// the key file in the data directory a new key is made; with PATCHBAY_ENCRYPTION_KEY,
    /// set the new key there and the old one in PATCHBAY_PREVIOUS_ENCRYPTION_KEYS first.
    /// Safe to run again after an interruption.
    Rotate,
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Print what PATH reads from FILE (its text; `--raw` for its JSON). Exit status 1 when
    /// nothing is there. `--jsonl` reads `{"json","path"}` lines on stdin instead and prints
    /// `{"exists","raw","str"}` lines, the Go reference's format.
    Path {
        #[arg(long)]
        jsonl: bool,
        #[arg(long)]
        raw: bool,
        #[arg(value_name = "FILE", required_unless_present = "jsonl")]
        file: Option<std::path::PathBuf>,
        #[arg(value_name = "PATH", required_unless_present = "jsonl")]
        path: Option<String>,
    },
    /// Render TEMPLATE over key=value variables and print it. `--jsonl` reads
    /// `{"template","vars"}` lines on stdin and prints `{"ok","out","err"}` lines.
    Template {
        #[arg(long)]
        jsonl: bool,
        #[arg(value_name = "TEMPLATE", required_unless_present = "jsonl")]
        template: Option<String>,
        #[arg(value_name = "KEY=VALUE")]
        vars: Vec<String>,
    },
}

fn fail(message: impl std::fmt::Display) -> std::process::ExitCode {
    eprintln!("patchbay: {message}");
    std::process::ExitCode::FAILURE
}

fn eval(command: &EvalCommand) -> std::process::ExitCode {
    use crate::cli::eval;
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let done = |r: Result<usize, eval::EvalError>| match r {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => fail(e),
    };
    match command {
        EvalCommand::Path { jsonl: true, .. } => done(eval::paths_jsonl(stdin, &mut stdout)),
        EvalCommand::Template { jsonl: true, .. } => {
            done(eval::templates_jsonl(stdin, &mut stdout))
        }
        EvalCommand::Path {
            file, path, raw, ..
        } => {
            let (Some(file), Some(path)) = (file, path) else {
                return fail("eval path needs FILE and PATH");
            };
            let json = match std::fs::read_to_string(file) {
                Ok(json) => json,
                Err(e) => return fail(format!("cannot read {}: {e}", file.display())),
            };
            let value = app::lang::gjson::get(&json, path);
            if !value.exists() {
                return fail(format!("nothing at {path:?}"));
            }
            let text = if *raw {
                value.raw().to_owned()
            } else {
                value.string().into_owned()
            };
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        EvalCommand::Template { template, vars, .. } => {
            let Some(template) = template else {
                return fail("eval template needs TEMPLATE");
            };
            let data = match eval::parse_vars(vars) {
                Ok(data) => data,
                Err(e) => return fail(e),
            };
            let rendered = app::lang::parse_template(template)
                .map_err(|e| e.to_string())
                .and_then(|t| t.execute(&data).map_err(|e| e.to_string()));
            match rendered {
                Ok(out) => {
                    print!("{out}");
                    let _ = std::io::Write::flush(&mut stdout);
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Check template files: prints `file:line:column: severity: message` for each finding
    /// and exits with status 1 when any file has an error.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
    /// Convert a 3CX CRM template (root `<Crm>`): writes the template in the vendor's format
    /// to standard output and the conversion report to standard error, one line per 3CX
    /// element, `file:line: outcome: <Element>: message`.
    #[command(name = "from-3cx")]
    From3cx {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

fn validate_templates(files: &[std::path::PathBuf]) -> std::process::ExitCode {
    let mut stdout = std::io::stdout().lock();
    match crate::cli::template::validate_files(files, &mut stdout) {
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

/// Runs the command line `patchbay …` gave.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Template { command } = &cli.command {
        return match command {
            TemplateCommand::Validate { files } => validate_templates(files),
            TemplateCommand::From3cx { file } => crate::cli::template::from_3cx(file),
        };
    }
    if let Command::Eval { command } = &cli.command {
        return eval(command);
    }
    if let Command::Run {
        template,
        scenario,
        vars,
        sets,
        dry_run,
        json,
    } = &cli.command
    {
        let options = run::RunOptions {
            template: template.clone(),
            scenario: scenario.clone(),
            vars: vars.clone(),
            sets: sets.clone(),
            dry_run: *dry_run,
        };
        return match run::run(&options, &|name| std::env::var(name).ok()).await {
            Ok(report) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).unwrap_or_default()
                    );
                } else {
                    print!("{}", run::as_text(&report));
                }
                if report.error.is_some() {
                    std::process::ExitCode::FAILURE
                } else {
                    std::process::ExitCode::SUCCESS
                }
            }
            Err(error) => fail(error),
        };
    }
    let (log_filter, log_format) = crate::config::log_settings();
    let filter = log_filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    match log::Format::parse(log_format.as_deref()) {
        Ok(log::Format::Text) => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            tracing_subscriber::fmt()
                .with_ansi(ansi)
                .with_writer(move || log::OneLine::new(std::io::stdout(), ansi))
                .with_env_filter(filter)
                .init();
        }
        // JSON escapes every control character itself: a record stays one line.
        Ok(log::Format::Json) => tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stdout)
            .with_env_filter(filter)
            .init(),
        Err(message) => return fail(message),
    }
    let result = match cli.command {
        Command::Serve => match Config::from_env() {
            Ok(config) => crate::run(config).await,
            Err(error) => Err(error.into()),
        },
        Command::Secrets {
            command: SecretsCommand::Rotate,
        } => {
            return match Config::from_env() {
                Ok(config) => match secrets::rotate_secrets(&config).await {
                    Ok(summary) => {
                        println!("{summary}");
                        std::process::ExitCode::SUCCESS
                    }
                    Err(error) => fail(error),
                },
                Err(error) => fail(error),
            };
        }
        Command::Admin {
            command: AdminCommand::List,
        } => return report(admin::list().await),
        Command::Admin {
            command: AdminCommand::ResetPassword { email },
        } => return report(admin::reset_password(&email).await),
        Command::Backup { file } => {
            return report(backup::back_up(&file).await);
        }
        Command::Restore { file } => {
            return report(backup::restore(&file).await);
        }
        Command::Integration {
            command:
                IntegrationCommand::Test {
                    integration,
                    newest,
                    json,
                },
        } => {
            return match integration::test(&integration, newest).await {
                Ok(run) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&run).unwrap_or_default());
                    } else {
                        print!("{}", run.report());
                    }
                    if run.passed() {
                        std::process::ExitCode::SUCCESS
                    } else {
                        std::process::ExitCode::FAILURE
                    }
                }
                // 2: the cases could not run at all, told apart from a case that failed.
                Err(error) => {
                    eprintln!("patchbay: {error}");
                    std::process::ExitCode::from(2)
                }
            };
        }
        Command::Template { .. } | Command::Eval { .. } | Command::Run { .. } => Ok(()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("patchbay: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints a command's report, or its error, and answers the exit status.
fn report(outcome: Result<String, impl std::fmt::Display>) -> std::process::ExitCode {
    match outcome {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => fail(error),
    }
}
