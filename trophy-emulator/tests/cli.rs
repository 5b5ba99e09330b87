//! The installed binary: `--help` says what it is, a bad flag is refused with the usage, a
//! non-loopback `--host` warns, `trigger` sends a signed sample webhook.

use std::process::Command;

fn emulator(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args(args)
        .output()
        .expect("the trophy-emulator binary runs")
}

#[test]
fn help_says_what_the_binary_is() {
    let out = emulator(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("emulator of the Trophy gamification API"), "{text}");
    assert!(text.contains("Usage: trophy-emulator [OPTIONS]"), "{text}");
    for flag in [
        "--state <FILE>",
        "--host <HOST>",
        "--rate-limits[=<SPEC>]",
        "serve",
        "trigger",
    ] {
        assert!(text.contains(flag), "{flag} missing from\n{text}");
    }
    let version = emulator(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8(version.stdout).unwrap().trim(),
        concat!("trophy-emulator ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_flag_fails_with_the_usage() {
    let out = emulator(&["--no-such-flag"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: unexpected argument '--no-such-flag'"), "{err}");
    assert!(err.contains("Usage: trophy-emulator [OPTIONS]"), "{err}");
    assert_eq!(out.status.code(), Some(2));
}
