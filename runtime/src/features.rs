//! Kernel features a step needs, named for the user when the kernel lacks them.

/// A hint for a kernel refusal, from its message.
pub fn hint(message: &str) -> Option<String> {
    let _ = message;
    None
}
