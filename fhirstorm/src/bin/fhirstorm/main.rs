//! `fhirstorm`: a SMART-on-FHIR client on the command line, on fhirstorm's client.
//!
//! ```text
//! fhirstorm --server https://fhir.example.org/r4 login standalone --client-id my-app
//! fhirstorm get Patient/123
//! fhirstorm search Observation code=http://loinc.org|8867-4 patient=123 --all -o ndjson
//! fhirstorm create patient.json
//! fhirstorm validate patient.json
//! fhirstorm export --group cohort --type Patient --type Observation --out export/
//! ```
//!
//! Resources are read and written as the typed models do: what a server sends is checked
//! against the version's definitions and written back exactly (nothing dropped, numbers as
//! sent). Built with `cargo install fhirstorm --features cli`.

mod commands;
mod export;
mod keyring_store;
mod login;
mod output;
mod session_file;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fhirstorm::client::ClientVersion;

/// A SMART-on-FHIR client on the command line.
#[derive(Parser, Debug)]
#[command(name = "fhirstorm", version, max_term_width = 100)]
pub struct Cli {
    /// The FHIR server's base URL [default: the one signed in to with `login`]. Plain http is
    /// allowed for 127.0.0.1 and localhost only.
    #[arg(long, global = true, env = "FHIRSTORM_SERVER", value_name = "URL")]
    server: Option<String>,

    /// The FHIR version the server speaks: r4, and dstu2, stu3, r4b, r5 when built with them
    /// [default: the signed-in server's, else the first the server answers to].
    #[arg(long, global = true, env = "FHIRSTORM_FHIR_VERSION", value_name = "VERSION")]
    fhir_version: Option<String>,

    /// Where the sign-in is kept [default: fhirstorm/session.json in the user's configuration
    /// directory]. Written with mode 0600; refused when others can read it.
    #[arg(long, global = true, env = "FHIRSTORM_SESSION_FILE", value_name = "PATH")]
    session_file: Option<PathBuf>,

    /// How resources are written: indented JSON, or one resource per line.
    #[arg(long, short, global = true, value_enum, default_value_t = output::Format::Pretty)]
    output: output::Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sign in, and keep the token (renewed when it expires) for the other commands.
    #[command(subcommand)]
    Login(login::Flow),
    /// Forget the sign-in (and revoke its tokens where the server offers revocation).
    Logout,
    /// Read a resource: `Patient/123`, or a version `Patient/123/_history/2`.
    Get {
        /// The reference.
        reference: String,
    },
    /// Search one resource type; parameters are checked against those the server lists for
    /// it.
    Search(commands::SearchArgs),
    /// Create a resource from a JSON file (`-`: standard input); writes what the server stored.
    Create {
        /// The file.
        file: PathBuf,
    },
    /// Replace a resource (its `id` names it) from a JSON file (`-`: standard input); with
    /// `meta.versionId`, only if no one changed it meanwhile.
    Update {
        /// The file.
        file: PathBuf,
    },
    /// Delete a resource: `Patient/123`.
    Delete {
        /// The reference.
        reference: String,
    },
    /// Check resources (JSON files, or NDJSON with one per line) against the version's
    /// definitions; with --remote, the server's `$validate` too.
    Validate(commands::ValidateArgs),
    /// Bulk export (Bulk Data Access) into NDJSON files, one per resource type.
    Export(export::ExportArgs),
}

/// Why a command failed: the message for standard error, and the exit code (1: it failed, 2:
/// it was asked wrongly; 0 with no message: the reader went away, as `| head` does).
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
    /// The server speaks another FHIR version (another may be tried).
    mismatch: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: 1, mismatch: false }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: 2, mismatch: false }
    }
}

impl From<fhirstorm::client::Error> for Failure {
    fn from(e: fhirstorm::client::Error) -> Failure {
        let mismatch = e.kind() == fhirstorm::client::ErrorKind::VersionMismatch;
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        // The error's text may be a server's (an OperationOutcome's diagnostics): its line
        // breaks and control characters are escaped here, before the tool adds its own lines.
        Failure { mismatch, ..Failure::new(output::clean(&message).into_owned()) }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure { message: String::new(), code: 0, mismatch: false };
        }
        Failure::new(format!("writing the output: {e}"))
    }
}

/// The versions this build speaks, in the order they are tried when none is given.
const VERSIONS: &[(&str, bool)] = &[
    ("r4", true),
    ("r4b", cfg!(feature = "r4b")),
    ("r5", cfg!(feature = "r5")),
    ("stu3", cfg!(feature = "stu3")),
    ("dstu2", cfg!(feature = "dstu2")),
];

fn compiled() -> impl Iterator<Item = &'static str> {
    VERSIONS.iter().filter(|(_, on)| *on).map(|(v, _)| *v)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Given: that version only. Otherwise the signed-in server's, then each this build speaks,
    // until one is the server's (each try stops at the server's capability statement).
    let tries: Vec<String> = match &cli.fhir_version {
        Some(v) => vec![v.to_ascii_lowercase()],
        None => {
            let path = cli.session_file.clone().or_else(|| session_file::default_path().ok());
            let saved = path.and_then(|p| session_file::Saved::load(&p).ok().flatten());
            let first = saved.map(|s| s.fhir_version.to_ascii_lowercase());
            let rest: Vec<String> = compiled().filter(|v| first.as_deref() != Some(*v)).map(String::from).collect();
            first.into_iter().chain(rest).collect()
        }
    };
    let mut first_mismatch = None;
    let mut result = Ok(());
    for version in &tries {
        result = match version.as_str() {
            "r4" => run::<fhirstorm::R4>(&cli).await,
            #[cfg(feature = "r4b")]
            "r4b" => run::<fhirstorm::R4B>(&cli).await,
            #[cfg(feature = "r5")]
            "r5" => run::<fhirstorm::R5>(&cli).await,
            #[cfg(feature = "stu3")]
            "stu3" => run::<fhirstorm::Stu3>(&cli).await,
            #[cfg(feature = "dstu2")]
            "dstu2" => run::<fhirstorm::Dstu2>(&cli).await,
            other => Err(Failure::usage(format!(
                "--fhir-version {other}: this build speaks {}",
                compiled().collect::<Vec<_>>().join(", ")
            ))),
        };
        match &result {
            Err(f) if f.mismatch && cli.fhir_version.is_none() => {
                first_mismatch.get_or_insert_with(|| f.message.clone());
            }
            _ => break,
        }
    }
    if let (Err(f), Some(first)) = (&mut result, first_mismatch) {
        if f.mismatch {
            f.message = format!("{first}; this build speaks {}", compiled().collect::<Vec<_>>().join(", "));
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                // The tool's own line breaks kept; a server's text in it was cleaned whole.
                let lines: Vec<_> = f.message.split('\n').map(output::clean).collect();
                eprintln!("error: {}", lines.join("\n"));
            }
            ExitCode::from(f.code)
        }
    }
}

async fn run<V: ClientVersion>(cli: &Cli) -> Result<(), Failure> {
    let session_path = match &cli.session_file {
        Some(p) => p.clone(),
        None => session_file::default_path()?,
    };
    let mut out = output::Output::new(cli.output);
    let connect = || login::service::<V>(cli, &session_path);
    match &cli.command {
        Command::Login(flow) => login::login::<V>(cli, flow, &session_path).await,
        Command::Logout => login::logout::<V>(&session_path).await,
        Command::Validate(args) if !args.remote => commands::validate::<V>(None, args, &mut out).await,
        Command::Get { reference } => commands::get(&connect().await?, reference, &mut out).await,
        Command::Search(args) => commands::search(&connect().await?, args, &mut out).await,
        Command::Create { file } => commands::create(&connect().await?, file, false, &mut out).await,
        Command::Update { file } => commands::create(&connect().await?, file, true, &mut out).await,
        Command::Delete { reference } => commands::delete(&connect().await?, reference).await,
        Command::Validate(args) => commands::validate(Some(&connect().await?), args, &mut out).await,
        Command::Export(args) => export::export(&connect().await?, args).await,
    }
}

/// Arguments every login shares.
#[derive(Args, Debug)]
pub struct LoginCommon {
    /// The client id registered at the authorization server.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The scopes to ask for [default: per flow, see above].
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// The authorization server's `.well-known/smart-configuration` URL [default: discovered
    /// from the FHIR server].
    #[arg(long, value_name = "URL")]
    smart_config: Option<String>,
    /// Keep the tokens in the system keyring (macOS Keychain, Windows Credential Manager,
    /// Linux kernel keyring) instead of the session file; where there is none, the file.
    #[arg(long)]
    keyring: bool,
}
