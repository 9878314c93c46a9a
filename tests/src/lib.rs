//! Shared support for Realm's integration tests (the tests themselves are in `integration/`).
