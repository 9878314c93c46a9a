//! Password policy for new passwords set with `realm users add` / `realm users passwd`.
//!
//! The rules are those of Hazelcast Management Center's *Local* security provider, the documents'
//! preset. [`PasswordPolicy::default`] enforces every one of them except the dictionary, which is
//! only checked when a dictionary file is given ([`PasswordPolicy::with_dictionary`]):
//!
//! | rule | [`Violation`] | decision where the documents leave room |
//! |---|---|---|
//! | at least 8 characters | [`Violation::TooShort`] | counted in Unicode characters, not bytes; the minimum is configurable ([`PasswordPolicy::with_min_length`]) |
//! | does not include the user name | [`Violation::ContainsUserName`] | case-insensitive; an empty user name is never "contained" |
//! | at least one special character | [`Violation::NoSpecialCharacter`] | special = not a letter, not a digit, not white space |
//! | at least one letter | [`Violation::NoLetter`] | any Unicode letter |
//! | at least one digit | [`Violation::NoDigit`] | any Unicode digit |
//! | no letter twice in a row | [`Violation::RepeatedLetter`] | **case-insensitive**: `aA` is the same letter twice; only letters (`11` and `!!` pass, as the documents speak of letters) |
//! | no 3-letter sequence | [`Violation::LetterSequence`] | ascending or descending (`abc`, `fed`), **case-insensitive** (`aBc`), ASCII letters a–z, no wrap-around (`yza` passes) |
//! | no 3-digit sequence | [`Violation::DigitSequence`] | ascending or descending (`123`, `987`), digits 0–9, no wrap-around (`901` passes) |
//! | not a dictionary word | [`Violation::InDictionary`] | the documents say *match*: the **whole** password equals a word, compared **case-insensitively**; a password that merely contains a word passes |
//!
//! [`PasswordPolicy::check`] reports **every** violated rule at once, so a user fixes a password in
//! one go. No [`Violation`] carries or prints any part of the password (not even which letter
//! repeats or which sequence was found): the messages say which rule failed, never where.
//!
//! Checking works on the password's text; copies made for case-insensitive comparison are held in
//! [`Secret`] so they are zeroized when dropped.

use realm_core::Secret;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The documents' minimum length.
pub const DEFAULT_MIN_LENGTH: usize = 8;

/// How many consecutive letters or digits make a forbidden sequence (`abc`, `123`).
const SEQUENCE_LENGTH: usize = 3;

/// One broken rule. `Display` is a complete sentence that names the rule, never the password.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// The password contains the user name (case-insensitive).
    ContainsUserName,
    /// No character that is neither a letter, a digit nor white space.
    NoSpecialCharacter,
    /// No letter.
    NoLetter,
    /// No digit.
    NoDigit,
    /// The same letter twice in a row (case-insensitive: `aa`, `aA`).
    RepeatedLetter,
    /// Three or more consecutive letters, ascending or descending (`abc`, `fed`; case-insensitive).
    LetterSequence,
    /// Three or more consecutive digits, ascending or descending (`123`, `987`).
    DigitSequence,
    /// The password equals (case-insensitively) a word of the dictionary.
    InDictionary,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooShort { min } => write!(f, "it must be at least {min} characters long"),
            Violation::ContainsUserName => {
                f.write_str("it must not contain the user name (in any letter case)")
            }
            Violation::NoSpecialCharacter => f.write_str(
                "it must contain at least one special character (not a letter, digit or space)",
            ),
            Violation::NoLetter => f.write_str("it must contain at least one letter"),
            Violation::NoDigit => f.write_str("it must contain at least one digit"),
            Violation::RepeatedLetter => f.write_str(
                "it must not contain the same letter twice in a row (like \"aa\" or \"aA\")",
            ),
            Violation::LetterSequence => f.write_str(
                "it must not contain 3 or more consecutive letters, ascending or descending (like \"abc\" or \"fed\")",
            ),
            Violation::DigitSequence => f.write_str(
                "it must not contain 3 or more consecutive digits, ascending or descending (like \"123\" or \"987\")",
            ),
            Violation::InDictionary => {
                f.write_str("it must not be a word of the dictionary (in any letter case)")
            }
        }
    }
}

/// A list of forbidden passwords: one word per line, compared case-insensitively with the whole
/// password. Surrounding white space (and a `\r` line ending) is ignored and blank lines are
/// skipped; every other line is a word (there is no comment syntax, since `#…` is a plausible
/// password). Bytes that are not UTF-8 (common in leaked-password lists) are read lossily: such a
/// word can never equal a UTF-8 password anyway.
#[derive(Clone, Default)]
pub struct Dictionary {
    /// Lower-cased words.
    words: HashSet<String>,
}

impl fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The words are weak passwords, not secrets, but a dump of thousands of them helps no one.
        f.debug_struct("Dictionary")
            .field("words", &self.words.len())
            .finish()
    }
}

/// A dictionary file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot read the dictionary: {source}", path.display())]
pub struct DictionaryError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Dictionary {
    /// Reads a dictionary file (one word per line).
    pub fn from_file(path: &Path) -> Result<Dictionary, DictionaryError> {
        let bytes = std::fs::read(path).map_err(|source| DictionaryError {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Dictionary::from_text(&String::from_utf8_lossy(&bytes)))
    }

    /// A dictionary from text (one word per line).
    pub fn from_text(text: &str) -> Dictionary {
        Dictionary::from_words(text.lines())
    }

    /// A dictionary of the given words.
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Dictionary {
        let words = words
            .into_iter()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        Dictionary { words }
    }

    /// How many distinct words (after lower-casing).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True when `lowercase_password` (already lower-cased) is one of the words.
    fn contains_lowercase(&self, lowercase_password: &str) -> bool {
        self.words.contains(lowercase_password)
    }
}

/// The rules a new password must follow. See the [module documentation](self) for each rule and
/// its exact meaning.
#[derive(Clone, Debug)]
pub struct PasswordPolicy {
    min_length: usize,
    dictionary: Option<Dictionary>,
}

impl Default for PasswordPolicy {
    /// The documents' rules, minimum length 8, no dictionary.
    fn default() -> Self {
        PasswordPolicy {
            min_length: DEFAULT_MIN_LENGTH,
            dictionary: None,
        }
    }
}

impl PasswordPolicy {
    /// Sets the minimum length, in characters.
    pub fn with_min_length(mut self, min_length: usize) -> Self {
        self.min_length = min_length;
        self
    }

    /// Also refuses passwords that equal a word of `dictionary` (case-insensitively).
    pub fn with_dictionary(mut self, dictionary: Dictionary) -> Self {
        self.dictionary = Some(dictionary);
        self
    }

    /// The minimum length, in characters.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Checks a new password for `user`. `Err` lists every violated rule, in the order of the
    /// module documentation's table. A password that is not UTF-8 text is checked on its lossy
    /// UTF-8 reading (invalid bytes count as special characters).
    pub fn check(&self, user: &str, password: &Secret) -> Result<(), Vec<Violation>> {
        // Copies of the password text live in `Secret`s, zeroized on drop.
        let text = Secret::from(String::from_utf8_lossy(password.expose()).into_owned());
        let text = text.expose_str().unwrap_or_default();
        let lower = Secret::from(text.to_lowercase());
        let lower = lower.expose_str().unwrap_or_default();

        let mut violations = Vec::new();
        if text.chars().count() < self.min_length {
            violations.push(Violation::TooShort {
                min: self.min_length,
            });
        }
        let user = user.to_lowercase();
        if !user.is_empty() && lower.contains(&user) {
            violations.push(Violation::ContainsUserName);
        }
        if !text.chars().any(is_special) {
            violations.push(Violation::NoSpecialCharacter);
        }
        if !text.chars().any(char::is_alphabetic) {
            violations.push(Violation::NoLetter);
        }
        if !text.chars().any(char::is_numeric) {
            violations.push(Violation::NoDigit);
        }
        if has_repeated_letter(text) {
            violations.push(Violation::RepeatedLetter);
        }
        if has_sequence(lower, |c| c.is_ascii_lowercase()) {
            violations.push(Violation::LetterSequence);
        }
        if has_sequence(text, |c| c.is_ascii_digit()) {
            violations.push(Violation::DigitSequence);
        }
        if let Some(dictionary) = &self.dictionary
            && dictionary.contains_lowercase(lower)
        {
            violations.push(Violation::InDictionary);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

/// Special: neither a letter, a digit nor white space.
fn is_special(c: char) -> bool {
    !c.is_alphabetic() && !c.is_numeric() && !c.is_whitespace()
}

/// The same letter twice in a row, ignoring case.
fn has_repeated_letter(text: &str) -> bool {
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = previous
            && c.is_alphabetic()
            && p.is_alphabetic()
            && p.to_lowercase().eq(c.to_lowercase())
        {
            return true;
        }
        previous = Some(c);
    }
    false
}

/// [`SEQUENCE_LENGTH`] characters of the class `member`, each one code point above (or each one
/// below) the one before.
fn has_sequence(text: &str, member: impl Fn(char) -> bool) -> bool {
    let mut rising = 1usize;
    let mut falling = 1usize;
    let mut previous: Option<char> = None;
    for c in text.chars() {
        match previous {
            Some(p) if member(p) && member(c) => {
                let (p, c) = (u32::from(p), u32::from(c));
                rising = if c == p + 1 { rising + 1 } else { 1 };
                falling = if c + 1 == p { falling + 1 } else { 1 };
            }
            _ => {
                rising = 1;
                falling = 1;
            }
        }
        if rising >= SEQUENCE_LENGTH || falling >= SEQUENCE_LENGTH {
            return true;
        }
        previous = Some(c);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A password that follows every rule, for user `alice`.
    const GOOD: &str = "Tr0ub4dor&3x";

    fn check(policy: &PasswordPolicy, user: &str, pw: &str) -> Vec<Violation> {
        policy
            .check(user, &Secret::from(pw))
            .err()
            .unwrap_or_default()
    }

    fn violations(pw: &str) -> Vec<Violation> {
        check(&PasswordPolicy::default(), "alice", pw)
    }

    #[test]
    fn a_password_following_every_rule_passes() {
        assert_eq!(violations(GOOD), vec![]);
        let dict = Dictionary::from_words(["password", "letmein"]);
        let policy = PasswordPolicy::default().with_dictionary(dict);
        assert_eq!(check(&policy, "alice", GOOD), vec![]);
    }

    #[test]
    fn length_at_least_8_characters() {
        assert_eq!(violations("Xy7$kQ2m"), vec![]);
        assert_eq!(violations("Xy7$kQ2"), vec![Violation::TooShort { min: 8 }]);
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // 8 characters, 12 bytes.
        assert_eq!(violations("Xy7$éøü2"), vec![]);
        assert_eq!(violations("y7$éøü2"), vec![Violation::TooShort { min: 8 }]);
    }

    #[test]
    fn length_minimum_is_configurable() {
        let policy = PasswordPolicy::default().with_min_length(12);
        assert_eq!(policy.min_length(), 12);
        assert_eq!(check(&policy, "alice", "Xy7$kQ2m+Wp5"), vec![]);
        assert_eq!(
            check(&policy, "alice", "Xy7$kQ2m+Wp"),
            vec![Violation::TooShort { min: 12 }]
        );
    }

    #[test]
    fn user_name_is_not_contained_case_insensitively() {
        assert_eq!(check(&PasswordPolicy::default(), "bob", GOOD), vec![]);
        assert_eq!(
            check(&PasswordPolicy::default(), "bob", "x7$BoB-q2"),
            vec![Violation::ContainsUserName]
        );
        assert_eq!(
            check(&PasswordPolicy::default(), "Server1", "x7$server1-q"),
            vec![Violation::ContainsUserName]
        );
    }

    #[test]
    fn an_empty_user_name_is_never_contained() {
        assert_eq!(check(&PasswordPolicy::default(), "", GOOD), vec![]);
    }

    #[test]
    fn at_least_one_special_character() {
        assert_eq!(violations("Xy7#kQ2m"), vec![]);
        assert_eq!(violations("Xy7tkQ2m"), vec![Violation::NoSpecialCharacter]);
        // A space is not special.
        assert_eq!(violations("Xy7 kQ2m"), vec![Violation::NoSpecialCharacter]);
    }

    #[test]
    fn at_least_one_letter() {
        assert_eq!(violations("7$2+9-4=x"), vec![]);
        assert_eq!(violations("7$2+9-4=0"), vec![Violation::NoLetter]);
    }

    #[test]
    fn at_least_one_digit() {
        assert_eq!(violations("Xy$kQ-m5"), vec![]);
        assert_eq!(violations("Xy$kQ-mP"), vec![Violation::NoDigit]);
    }

    #[test]
    fn no_letter_twice_in_a_row_case_insensitively() {
        assert_eq!(violations("Xa7$aQ2m"), vec![]);
        assert_eq!(violations("Xaa7$Q2m"), vec![Violation::RepeatedLetter]);
        assert_eq!(violations("XaA7$Q2m"), vec![Violation::RepeatedLetter]);
        // Digits and special characters may repeat: the documents speak of letters only.
        assert_eq!(violations("Xa77$$Qm"), vec![]);
    }

    #[test]
    fn no_three_consecutive_letters_either_way_case_insensitively() {
        assert_eq!(violations("Xab7$Q2m"), vec![]);
        assert_eq!(violations("Xabc7$Q2"), vec![Violation::LetterSequence]);
        assert_eq!(violations("X7$fed2q"), vec![Violation::LetterSequence]);
        assert_eq!(violations("X7$aBc2q"), vec![Violation::LetterSequence]);
        assert_eq!(violations("X7$yZa2q"), vec![], "no wrap-around from z to a");
    }

    #[test]
    fn no_three_consecutive_digits_either_way() {
        assert_eq!(violations("Xy12$Q4m"), vec![]);
        assert_eq!(violations("Xy123$Qm"), vec![Violation::DigitSequence]);
        assert_eq!(violations("Xy$987Qm"), vec![Violation::DigitSequence]);
        assert_eq!(violations("Xy$901Qm"), vec![], "no wrap-around");
    }

    #[test]
    fn dictionary_words_are_refused_when_the_whole_password_matches_case_insensitively() {
        let dict = Dictionary::from_text("# not a comment\n  Tr0ub4dor&3x \r\n\nother\n");
        assert_eq!(dict.len(), 3);
        let policy = PasswordPolicy::default().with_dictionary(dict);
        assert_eq!(
            check(&policy, "alice", "tR0UB4DOR&3X"),
            vec![Violation::InDictionary]
        );
        // Merely containing a word is allowed: the documents say "match".
        assert_eq!(check(&policy, "alice", "Tr0ub4dor&3x+"), vec![]);
        assert_eq!(check(&policy, "alice", "Xy7$kQ2m"), vec![]);
    }

    #[test]
    fn without_a_dictionary_dictionary_words_pass() {
        assert_eq!(violations(GOOD), vec![]);
    }

    #[test]
    fn a_dictionary_is_read_from_a_file_and_a_missing_file_names_it() {
        let dir = std::env::temp_dir().join(format!("realm-policy-dict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("words.txt");
        std::fs::write(&file, b"Secret1!\nlatin1-\xe9t\xe9\n").unwrap();
        let dict = Dictionary::from_file(&file).unwrap();
        assert_eq!(dict.len(), 2);
        let policy = PasswordPolicy::default().with_dictionary(dict);
        assert!(check(&policy, "alice", "SECRET1!").contains(&Violation::InDictionary));
        let missing = Dictionary::from_file(&dir.join("nope.txt")).unwrap_err();
        assert!(missing.to_string().contains("nope.txt"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let dict = Dictionary::from_words(["aabc123"]);
        let policy = PasswordPolicy::default().with_dictionary(dict);
        assert_eq!(
            check(&policy, "abc", "AABC123"),
            vec![
                Violation::TooShort { min: 8 },
                Violation::ContainsUserName,
                Violation::NoSpecialCharacter,
                Violation::RepeatedLetter,
                Violation::LetterSequence,
                Violation::DigitSequence,
                Violation::InDictionary,
            ]
        );
        assert_eq!(
            violations(""),
            vec![
                Violation::TooShort { min: 8 },
                Violation::NoSpecialCharacter,
                Violation::NoLetter,
                Violation::NoDigit,
            ]
        );
    }

    #[test]
    fn messages_never_contain_the_password() {
        let pw = "aabc123";
        let all = check(
            &PasswordPolicy::default().with_dictionary(Dictionary::from_words([pw])),
            "abc",
            pw,
        );
        assert_eq!(all.len(), 7);
        for v in &all {
            let msg = format!("{v} {v:?}");
            assert!(!msg.contains(pw), "{msg}");
            assert!(!msg.to_lowercase().contains("aabc"), "{msg}");
        }
    }

    #[test]
    fn debug_of_a_dictionary_shows_only_its_size() {
        let d = Dictionary::from_words(["hunter2"]);
        assert_eq!(format!("{d:?}"), "Dictionary { words: 1 }");
    }
}
