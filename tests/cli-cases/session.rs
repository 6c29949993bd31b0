//! The session file against what another user or a crash leaves: a file owned by someone else,
//! a temporary file a killed process left behind.

use crate::support::Runner;
use crate::{code, ensure, saved, stderr, write_private, Tool};

pub fn cases(t: &mut Runner, tool: &Tool) {
    t.case_blocking("a temporary file a killed login left behind is removed by the next save", || {
        let dir = tool.session().parent().map(|p| p.to_path_buf()).ok_or("no directory")?;
        let name = tool.session().file_name().map(|n| n.to_string_lossy().into_owned()).ok_or("no name")?;
        // A process id above Linux's largest: no such process.
        let stale = dir.join(format!(".{name}.4294967295.tmp"));
        write_private(&stale, "{\"token\":\"half written\"}")?;
        // Two minutes old (a younger one might be a write in progress in another namespace).
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .and_then(|f| f.set_modified(old))
            .map_err(|e| e.to_string())?;
        // Another session file's temporary file, beside it: not this one's to remove.
        let other = dir.join(format!(".{name}.prod.4294967295.tmp"));
        write_private(&other, "{}")?;
        std::fs::File::options()
            .write(true)
            .open(&other)
            .and_then(|f| f.set_modified(old))
            .map_err(|e| e.to_string())?;
        let mut s = saved(tool)?;
        s["token"]["expires_at"] = 0.into();
        write_private(&tool.session(), &s.to_string())?;
        let o = tool.run(&["get", "Patient/sandbox-1"]);
        ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
        ensure!(!stale.exists(), "{} is still there", stale.display());
        ensure!(other.exists(), "another session file's temporary file was removed");
        std::fs::remove_file(&other).map_err(|e| e.to_string())?;
        let left: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".tmp"))
            .collect();
        ensure!(left.is_empty(), "temporary files left: {left:?}");
        Ok(())
    });
    t.case_blocking("a session file another user owns is refused, even with mode 0600", || {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let me = std::fs::metadata(tool.home).map_err(|e| e.to_string())?.uid();
            if me != 0 {
                eprintln!("    (skipped: changing a file's owner needs root)");
                return Ok(());
            }
            let copy = tool.home.join("foreign-session.json");
            std::fs::copy(tool.session(), &copy).map_err(|e| e.to_string())?;
            let status =
                std::process::Command::new("chown").arg("65534").arg(&copy).status().map_err(|e| e.to_string())?;
            ensure!(status.success(), "chown failed");
            let o = tool.run(&["--session-file", &copy.to_string_lossy(), "get", "Patient/sandbox-1"]);
            ensure!(
                code(&o) == 1 && stderr(&o).contains("belongs to another user"),
                "exit {}: {}",
                code(&o),
                stderr(&o)
            );
        }
        Ok(())
    });
}

/// `login --keyring`: the tokens in the system keyring (here the Linux kernel's), the rest in
/// the file; logout forgets both.
pub fn keyring(t: &mut Runner, tool: &Tool, fhir: &str, key: &str) {
    t.case_blocking(
        "login --keyring: the tokens in the system keyring (where there is none, the file); logout forgets them",
        || {
            let o = tool.run(&[
                "--server",
                fhir,
                "login",
                "backend",
                "--client-id",
                "demo-backend",
                "--key",
                key,
                "--keyring",
            ]);
            ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
            let s = saved(tool)?;
            if stderr(&o).contains("the system keyring cannot keep the token") {
                // No keyring to keep it (this machine's kernel refuses the link to the persistent
                // keyring): the file keeps the token, as without --keyring.
                eprintln!("    (no system keyring here: checked that the file keeps the token)");
                ensure!(s["token"]["access_token"].is_string() && s.get("tokenIn").is_none(), "{s}");
                let o = tool.run(&["get", "Patient/sandbox-1", "-o", "ndjson"]);
                ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
                std::fs::remove_file(tool.session()).map_err(|e| e.to_string())?;
                return Ok(());
            }
            ensure!(s.get("token").is_none() && s["tokenIn"] == "keyring", "{s}");
            let o = tool.run(&["get", "Patient/sandbox-1", "-o", "ndjson"]);
            ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
            let text = std::fs::read_to_string(tool.session()).map_err(|e| e.to_string())?;
            let o = tool.run(&["logout"]);
            ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
            // The same file back: its tokens are gone from the keyring.
            write_private(&tool.session(), &text)?;
            let o = tool.run(&["get", "Patient/sandbox-1"]);
            ensure!(
                code(&o) == 1 && stderr(&o).contains("system keyring cannot be read"),
                "exit {}: {}",
                code(&o),
                stderr(&o)
            );
            std::fs::remove_file(tool.session()).map_err(|e| e.to_string())?;
            Ok(())
        },
    );
}
