//! The tokens in the operating system's keyring (`login --keyring`), through the `keyring`
//! crate: the macOS Keychain, the Windows Credential Manager, or on Linux the kernel's keyring
//! (keyutils: the user's persistent keyring, which outlives a session for a few days but not a
//! reboot). The session file then keeps everything but the tokens; one entry per session file.

use std::path::Path;

use crate::Failure;

/// The keyring's service name for every entry.
const SERVICE: &str = "fhirstorm";

/// The entry of the session file at `path`, named by its path with the folder resolved (`..`
/// and links), so that another spelling of the same path finds it.
fn entry(path: &Path) -> Result<keyring::Entry, keyring::Error> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let account = match (std::fs::canonicalize(folder), path.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    };
    keyring::Entry::new(SERVICE, &account.to_string_lossy())
}

/// Keeps `token` (the token response as JSON) for the session file at `path`; the keyring's
/// error when there is none to keep it in.
pub fn store(path: &Path, token: &str) -> Result<(), String> {
    entry(path).and_then(|e| e.set_password(token)).map_err(|e| e.to_string())
}

/// The token kept for the session file at `path`.
pub fn load(path: &Path) -> Result<String, Failure> {
    entry(path).and_then(|e| e.get_password()).map_err(|e| {
        Failure::new(format!(
            "{}: the token kept in the system keyring cannot be read ({e}); sign in again with `fhirstorm login`",
            path.display()
        ))
    })
}

/// Forgets the token kept for the session file at `path`, if any.
pub fn remove(path: &Path) {
    if let Ok(e) = entry(path) {
        let _ = e.delete_credential();
    }
}
