//! Reading the compact JWS shape (`header.payload.signature`) before any signature check:
//! shared by access-token verification and ID-token verification.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;

use super::rejection::TokenRejection;

/// The three parts of a compact JWS; anything else (JWE, JSON serialisation) is malformed.
pub(crate) fn split_compact(token: &str) -> Result<(&str, &str, &str), TokenRejection> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok((header, payload, signature)),
        _ => Err(TokenRejection::Malformed),
    }
}

/// The header members we decide on, read leniently so that an unknown `alg` (such as
/// `none`) is reported as the wrong algorithm rather than as a parse error.
#[derive(Deserialize)]
pub(crate) struct RawHeader {
    pub(crate) alg: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) kid: Option<String>,
    pub(crate) crit: Option<serde_json::Value>,
}

pub(crate) fn parse_header(encoded: &str) -> Result<RawHeader, TokenRejection> {
    let json = Base64UrlUnpadded::decode_vec(encoded).map_err(|_| TokenRejection::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| TokenRejection::Malformed)
}
