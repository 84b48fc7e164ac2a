//! A rendered page's representations: the body as rendered, its gzip and
//! brotli forms (each compressed once, on first demand, off the async
//! threads), the strong ETag of each, and the choice among them for a
//! request's `Accept-Encoding`.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};

use super::HttpError;

/// A rendered page, its compressed forms and validators.
#[derive(Debug)]
pub(super) struct Rendered {
    pub(super) version: u64,
    pub(super) body: Bytes,
    pub(super) gzip: OnceLock<Bytes>,
    pub(super) brotli: OnceLock<Bytes>,
    pub(super) etag: String,
    pub(super) last_modified: DateTime<Utc>,
}

/// Content codings we serve, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Rendered {
    fn encoded(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Identity => self.body.clone(),
            Coding::Gzip => self
                .gzip
                .get_or_init(|| {
                    use std::io::Write;
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    // Compressing into a Vec cannot fail.
                    let _ = e.write_all(&self.body);
                    Bytes::from(e.finish().unwrap_or_default())
                })
                .clone(),
            Coding::Brotli => self
                .brotli
                .get_or_init(|| {
                    let mut out = Vec::new();
                    let params = brotli::enc::BrotliEncoderParams {
                        quality: 6,
                        ..Default::default()
                    };
                    let _ = brotli::BrotliCompress(&mut &self.body[..], &mut out, &params);
                    Bytes::from(out)
                })
                .clone(),
        }
    }

    fn encoded_if_ready(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => Some(self.body.clone()),
            Coding::Gzip => self.gzip.get().cloned(),
            Coding::Brotli => self.brotli.get().cloned(),
        }
    }

    /// A strong ETag per representation: each coding is its own.
    pub(super) fn etag(&self, coding: Coding) -> String {
        let bare = self.etag.trim_matches('"');
        match coding {
            Coding::Identity => self.etag.clone(),
            Coding::Gzip => format!("\"{bare}-gz\""),
            Coding::Brotli => format!("\"{bare}-br\""),
        }
    }
}

/// The body in `coding`, compressing it (once per page) off the async
/// threads so that a brotli pass never stalls other connections.
pub(super) async fn encoded(rendered: &Arc<Rendered>, coding: Coding) -> Result<Bytes, HttpError> {
    if let Some(b) = rendered.encoded_if_ready(coding) {
        return Ok(b);
    }
    let r = rendered.clone();
    tokio::task::spawn_blocking(move || r.encoded(coding))
        .await
        .map_err(|_| HttpError::Task)
}

/// The coding to use for an `Accept-Encoding` header.
pub(super) fn negotiate(headers: &HeaderMap) -> Coding {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Coding::Identity;
    };
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case(name) && q > 0.0
        })
    };
    if accepts("br") {
        Coding::Brotli
    } else if accepts("gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// A strong ETag: a fixed-key hash of the exact body, stable across restarts.
pub(super) fn etag_of(body: &str) -> String {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut h = SipHasher13::new_with_keys(0x6574_6167, 0x7472_6962);
    h.write(body.as_bytes());
    format!("\"{:032x}\"", h.finish128().as_u128())
}
