//! The harness of the binary's tests; test files share code only through it, never by
//! importing one another. `process` runs the binary as a child process; `fixtures` has the
//! store's credentials, Current Customer tokens and Management API bodies.

pub mod fixtures;
pub mod process;
