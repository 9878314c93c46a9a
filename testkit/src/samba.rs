//! placeholder, written by the samba harness
