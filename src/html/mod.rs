//! HTML: the one place that reads it.
//!
//! * [`tokens`] splits HTML into text and tags;
//! * [`sanitize`] makes an untrusted fragment safe to publish;
//! * [`text`] reads the text a reader sees.

pub mod sanitize;
pub mod text;
pub mod tokens;
