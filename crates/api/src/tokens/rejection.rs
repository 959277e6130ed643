//! Why a presented token was refused, shared by the compact-JWS reading and the token service.

/// Why a presented access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Not a compact JWS with base64url JSON parts, or claims of the wrong type.
    #[error("the token is malformed")]
    Malformed,
    /// The header's `alg` is not `EdDSA`.
    #[error("the token's algorithm is not accepted")]
    WrongAlgorithm,
    /// The header's `typ` is not `at+jwt`.
    #[error("the token is not an access token")]
    WrongType,
    /// The header's `kid` is missing or names no current verification key.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `iss` is not ours.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` is not ours.
    #[error("the token's audience is not accepted")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A required claim is missing or empty.
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(&'static str),
}

impl TokenRejection {
    /// A stable snake_case reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::WrongType => "wrong_type",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::MissingClaim(_) => "missing_claim",
        }
    }
}
