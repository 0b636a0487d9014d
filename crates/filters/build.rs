//! Builds the Rust SDK filters in `guest/` for wasm32-wasip1, with a cargo of their own, and
//! lists them, with the AssemblyScript SDK filters prebuilt in `assemblyscript/built/`, for
//! `src/lib.rs` to embed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let guest = manifest.join("guest");
    let assemblyscript = manifest.join("assemblyscript").join("built");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for watched in ["src", "examples", "Cargo.toml", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={}", guest.join(watched).display());
    }
    println!("cargo::rerun-if-changed={}", assemblyscript.display());
    let mut cargo = guest_cargo();
    let target_dir = out.join("guest-target");
    cargo
        .args([
            "build",
            "--release",
            "--locked",
            "--examples",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(guest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and targets (sanitizers under cargo fuzz, say) are not the guest's.
    for (name, _) in env::vars() {
        let outer = [
            "RUSTC",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTUP_TOOLCHAIN",
            "RUSTFLAGS",
            "RUSTDOCFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_TARGET_DIR",
        ]
        .contains(&name.as_str())
            || ["CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_TARGET_"]
                .iter()
                .any(|p| name.starts_with(p));
        if outer {
            cargo.env_remove(name);
        }
    }
    // Current toolchains give `call_indirect` a padded (overlong) table index, which only
    // reference-types allows and engines without it (Winch) refuse: no reference types, and the
    // linker compresses the padding (with LTO, the standard library's code included).
    cargo.env(
        "RUSTFLAGS",
        "-Ctarget-feature=-reference-types -Clink-arg=--compress-relocations",
    );
    let status = cargo
        .status()
        .expect("cannot run cargo to build the SDK filters");
    assert!(
        status.success(),
        "building the SDK filters (crates/filters/guest) for {TARGET} failed: see the errors above"
    );

    let built = target_dir.join(TARGET).join("release").join("examples");
    let mut list = String::from("&[\n");
    for name in filter_names(&guest.join("examples"), "rs") {
        let wasm = out.join(format!("{name}.wasm"));
        std::fs::copy(built.join(format!("{name}.wasm")), &wasm).expect("the filter was built");
        list.push_str(&format!(
            "    ({name:?}, Sdk::Rust, include_bytes!({:?})),\n",
            wasm.display().to_string()
        ));
    }
    for name in filter_names(&assemblyscript, "wasm") {
        let wasm = assemblyscript.join(format!("{name}.wasm"));
        list.push_str(&format!(
            "    ({name:?}, Sdk::AssemblyScript, include_bytes!({:?})),\n",
            wasm.display().to_string()
        ));
    }
    list.push(']');
    std::fs::write(out.join("filters.rs"), list).unwrap();
}

/// One filter per file with extension `extension` in `dir`, in name order.
fn filter_names(dir: &Path, extension: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_stem()?.to_string_lossy().into_owned();
            (path.extension()? == extension).then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// The cargo that builds the filters: the one building this crate when its toolchain has the
/// wasm32-wasip1 standard library, else stable's (a nightly for `cargo fuzz` often lacks it and
/// cannot download it offline). Fails early, in one line, when neither has it.
fn guest_cargo() -> Command {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if has_target(Command::new(rustc)) {
        return Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    }
    let mut stable_rustc = Command::new("rustup");
    stable_rustc.args(["run", "stable", "rustc"]);
    assert!(
        has_target(stable_rustc),
        "the {TARGET} target is not installed: run `rustup target add {TARGET}` (ci/test does)"
    );
    let mut cargo = Command::new("rustup");
    cargo.args(["run", "stable", "cargo"]);
    cargo
}

fn has_target(mut rustc: Command) -> bool {
    rustc
        .args(["--print", "target-libdir", "--target", TARGET])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .is_some_and(|dir| has_std(&dir))
}

/// Whether a target library directory holds a standard library (its file names carry hashes).
fn has_std(dir: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("libstd-") && n.ends_with(".rlib"))
        })
    })
}
