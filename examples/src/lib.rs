//! Runnable examples of Realm. The example configurations live in `examples/configs/`; the example
//! programs (a server that authenticates clients by a named realm, and its client) are added with
//! the login pipeline.
