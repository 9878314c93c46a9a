//! placeholder, written by the slapd harness
