//! Reading secrets from the user, and hashing new passwords: one place for every command.

use realm_core::Secret;
use std::io::BufRead;

/// One line from stdin, without its line ending. The buffer is sized up front so growing it leaves
/// no unzeroized copy behind; the whole capacity is zeroized when the secret is dropped.
pub fn read_line() -> std::io::Result<Secret> {
    let mut buf = Vec::with_capacity(4096);
    let read = std::io::stdin().lock().read_until(b'\n', &mut buf);
    let end = buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len());
    buf.truncate(end);
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    let secret = Secret::from_bytes(buf);
    read.map(|_| secret)
}

/// Asks on the terminal without echo. `hint` says what to use without a terminal.
pub fn prompt(text: &str, hint: &str) -> Result<Secret, String> {
    rpassword::prompt_password(text)
        .map(Secret::from)
        .map_err(|e| format!("cannot prompt for a password ({e}): without a terminal, {hint}"))
}

/// Asks twice; both answers must match.
pub fn prompt_twice(first: &str, second: &str, hint: &str) -> Result<Secret, String> {
    let a = prompt(first, hint)?;
    let b = prompt(second, hint)?;
    if !a.ct_eq(b.expose()) {
        return Err("the two passwords do not match; nothing was changed".into());
    }
    Ok(a)
}

/// An argon2id PHC string for a new password, with a fresh random salt.
pub fn hash_new_password(password: &Secret) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for the salt: {e}"))?;
    realm_core::password::hash_argon2id(password, &salt).map_err(|e| format!("hashing failed: {e}"))
}
