//! The sign-in kept between commands: which server, how to renew the token, and the token
//! itself, in one JSON file only its owner can read (mode 0600, in a directory of mode 0700),
//! replaced atomically (written beside it, then renamed) so that a crash never leaves half a
//! token.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fhirstorm::auth::TokenResponse;
use fhirstorm::json::{self, Members, Value};

use crate::Failure;

/// How the token was obtained, and so how it is renewed.
#[derive(Debug, Clone, PartialEq)]
pub enum Flow {
    /// A user signed in (SMART standalone launch); renewed with its refresh token.
    Standalone,
    /// Backend Services: renewed with a new `client_credentials` grant signed with this key.
    Backend { key: PathBuf, alg: String, kid: String },
}

/// What `login` saves.
#[derive(Debug, Clone)]
pub struct Saved {
    pub server: String,
    pub fhir_version: String,
    pub client_id: String,
    /// The authorization server's `.well-known/smart-configuration`, when given at login;
    /// otherwise discovered from the FHIR server.
    pub smart_configuration: Option<String>,
    pub scope: String,
    pub flow: Flow,
    pub token: TokenResponse,
    /// The tokens are kept in the system keyring (`login --keyring`), the rest in the file.
    pub in_keyring: bool,
}

/// The session file: `--session-file`, `$FHIRSTORM_SESSION_FILE`, or `session.json` in the
/// user's configuration directory (`$XDG_CONFIG_HOME/fhirstorm`, `~/.config/fhirstorm`, or
/// `%APPDATA%\fhirstorm`).
pub fn default_path() -> Result<PathBuf, Failure> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .ok_or_else(|| Failure::usage("no home directory: give --session-file PATH"))?;
    Ok(dir.join("fhirstorm").join("session.json"))
}

fn text(v: &Value, key: &str, path: &Path) -> Result<String, Failure> {
    v.get(key)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| Failure::new(format!("{}: no {key:?}; sign in again with `fhirstorm login`", path.display())))
}

fn string(s: &str) -> Value {
    Value::String(s.to_string())
}

impl Saved {
    /// Reads the session file; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<Saved>, Failure> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Failure::new(format!("reading {}: {e}", path.display()))),
        };
        refuse_if_shared(path)?;
        let v: Value = json::from_slice(&bytes)
            .map_err(|e| Failure::new(format!("{} is not a fhirstorm session file: {e}", path.display())))?;
        let flow = match v.get("key") {
            None => Flow::Standalone,
            Some(k) => Flow::Backend {
                key: PathBuf::from(text(k, "path", path)?),
                alg: text(k, "alg", path)?,
                kid: text(k, "kid", path)?,
            },
        };
        let in_keyring = v.get("tokenIn").and_then(Value::as_str) == Some("keyring");
        let token = match v.get("token") {
            _ if in_keyring => crate::keyring_store::load(path)?.into_bytes(),
            Some(token) => json::to_vec(token),
            None => return Err(Failure::new(format!("{}: no token", path.display()))),
        };
        let token = TokenResponse::from_slice(&token)
            .map_err(|e| Failure::new(format!("{}: the token: {e}", path.display())))?;
        Ok(Some(Saved {
            server: text(&v, "server", path)?,
            fhir_version: text(&v, "fhirVersion", path)?,
            client_id: text(&v, "clientId", path)?,
            smart_configuration: v.get("smartConfiguration").and_then(Value::as_str).map(String::from),
            scope: text(&v, "scope", path)?,
            flow,
            token,
            in_keyring,
        }))
    }

    /// Writes the session file, readable by its owner only; whether its tokens went to the
    /// system keyring.
    pub fn save(&self, path: &Path) -> Result<bool, Failure> {
        let mut m = Members::new();
        m.push("server", string(&self.server));
        m.push("fhirVersion", string(&self.fhir_version));
        m.push("clientId", string(&self.client_id));
        if let Some(c) = &self.smart_configuration {
            m.push("smartConfiguration", string(c));
        }
        m.push("scope", string(&self.scope));
        if let Flow::Backend { key, alg, kid } = &self.flow {
            let mut k = Members::new();
            k.push("path", string(&key.to_string_lossy()));
            k.push("alg", string(alg));
            k.push("kid", string(kid));
            m.push("key", Value::Object(k));
        }
        let token = self.token.to_vec();
        let kept = self.in_keyring
            && match crate::keyring_store::store(path, &String::from_utf8_lossy(&token)) {
                Ok(()) => true,
                Err(e) => {
                    let e = crate::output::clean(&e).into_owned();
                    eprintln!("note: the system keyring cannot keep the token ({e}); it is kept in the file");
                    false
                }
            };
        if kept {
            m.push("tokenIn", string("keyring"));
        } else {
            // Tokens an earlier `--keyring` sign-in kept there are not left behind.
            crate::keyring_store::remove(path);
            let token: Value =
                json::from_slice(&token).map_err(|e| Failure::new(format!("the token does not write as JSON: {e}")))?;
            m.push("token", token);
        }
        write_private(path, &json::to_vec_pretty(&Value::Object(m)))?;
        Ok(kept)
    }
}

/// Writes `bytes` to `path` through a file beside it that only the owner can read, renamed
/// over `path`. The file beside it is removed on every path out ([`Temporary`]), and those a
/// killed process left behind are removed first.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| Failure::new(format!("{what} {}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| fail("creating the directory of", e))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    remove_left_behind(dir, &name);
    let tmp = Temporary(dir.join(format!(".{name}.{}.tmp", std::process::id())));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp.0).and_then(|mut f| {
        f.write_all(bytes)?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    written.and_then(|()| std::fs::rename(&tmp.0, path)).map_err(|e| fail("writing", e))?;
    std::mem::forget(tmp);
    Ok(())
}

/// A file removed when dropped: on an error, and on a panic's unwinding.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes `.NAME.PID.tmp` files in `dir` that are this user's, a minute old or more, and
/// whose process is gone (an hour old or more whatever their process: one in another process
/// namespace cannot be seen): a write cut by a kill or a power loss, each may hold a token.
fn remove_left_behind(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(".tmp")) else { continue };
        // Another session file's (`.NAME.other.PID.tmp`) is not this one's.
        let Some(pid) = pid.bytes().all(|b| b.is_ascii_digit()).then(|| pid.parse::<u32>().ok()).flatten() else {
            continue;
        };
        // `DirEntry::metadata` does not follow a link; removing one removes the link only.
        let Ok(metadata) = entry.metadata() else { continue };
        let age = metadata.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
        let gone = pid != std::process::id() && !process_exists(pid);
        let stale = age >= Duration::from_secs(3600) || (gone && age >= Duration::from_secs(60));
        if metadata.is_file() && owned_by_us(&metadata) && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id runs (signal 0 checks without sending anything).
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    false
}

/// Whether the file belongs to the user running this process.
fn owned_by_us(metadata: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        metadata.uid() == unsafe { libc::geteuid() }
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        true
    }
}

/// Refuses a session file that another user owns, or that others can read or write (as ssh
/// refuses such a key): its token would be theirs too, or theirs to plant.
fn refuse_if_shared(path: &Path) -> Result<(), Failure> {
    let metadata = std::fs::metadata(path).map_err(|e| Failure::new(format!("reading {}: {e}", path.display())))?;
    if !owned_by_us(&metadata) {
        return Err(Failure::new(format!(
            "{} belongs to another user; its token is not used. Remove it, or sign in again with another --session-file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Failure::new(format!(
                "{} is readable by others (mode {:o}); its token is not used. `chmod 600` it, or sign in again",
                path.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

/// Removes the session file, and the tokens it kept in the system keyring; whether there was
/// one.
pub fn remove(path: &Path) -> Result<bool, Failure> {
    crate::keyring_store::remove(path);
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::new(format!("removing {}: {e}", path.display()))),
    }
}
