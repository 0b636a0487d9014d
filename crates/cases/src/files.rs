//! Reading modules given by users: `.wasm` or `.wat`, with one-line errors.

use std::path::Path;

use anyhow::{Context, bail};

/// Reads a module from `path`: binary if it starts with the Wasm magic, text otherwise.
pub fn read_module(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if path.extension().is_some_and(|e| e == "wasm") {
        bail!("{} is not a Wasm binary (no \\0asm magic)", path.display());
    }
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{} is neither Wasm nor UTF-8 text", path.display()))?;
    wat::parse_str(text).map_err(|mut e| {
        e.set_path(path);
        anyhow::anyhow!("invalid WAT: {}", one_line(&e.to_string()))
    })
}

/// wat's errors draw the source around the error; keep the message and its location.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let message = lines.next().unwrap_or_default().trim();
    match lines.find_map(|l| l.trim().strip_prefix("--> ")) {
        Some(location) => format!("{message} at {location}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wat_errors_fit_on_one_line() {
        let dir = std::env::temp_dir().join(format!("wasmdiff-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.wat");
        std::fs::write(&bad, "(module\n  (func (result i32) i32.const))\n").unwrap();
        let error = read_module(&bad).unwrap_err().to_string();
        assert!(!error.contains('\n'), "{error}");
        assert!(
            error.starts_with("invalid WAT: ") && error.contains("bad.wat:2:"),
            "{error}"
        );
        let good = dir.join("good.wat");
        std::fs::write(&good, "(module)").unwrap();
        assert!(read_module(&good).unwrap().starts_with(b"\0asm"));
        let error = read_module(&dir.join("missing.wasm")).unwrap_err();
        assert!(
            format!("{error:#}").starts_with("cannot read "),
            "{error:#}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
