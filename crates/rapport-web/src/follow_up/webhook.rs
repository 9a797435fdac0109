//! Posting an event to a webhook, signed so that the receiver can tell it came from Rapport
//! and was not replayed.
//!
//! Headers: `X-Rapport-Event` (the type), `X-Rapport-Delivery` (the same on every attempt of
//! one delivery: a receiver that sees it twice already has it) and
//! `X-Rapport-Signature: t=UNIX_SECONDS,v1=HEX`, where HEX is HMAC-SHA256 with the webhook's
//! secret over `t`, a dot, and the body. Receivers recompute it and reject old `t`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::token::hex;

/// The signature header's value for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

/// Checks a webhook URL before it is saved: http or https, with a host.
pub fn check_url(url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| anyhow::anyhow!("the webhook URL '{url}' is not valid: {e} (expected https://HOST/PATH)"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        anyhow::bail!(
            "the webhook URL '{url}' must start with https:// (or http:// on a private network) and name a host"
        );
    }
    Ok(parsed.to_string())
}

/// Whether a delivery failed for good (the receiver refused it) or may work later.
pub enum PostError {
    /// Try again later: no answer, a timeout, a 5xx, a 429.
    Transient(String, Option<u16>),
    /// Do not try again: a 4xx other than 408 and 429, or an unusable URL.
    Permanent(String, Option<u16>),
}

/// Posts `body` (event `event`, delivery `delivery`) to `url`, signed with `secret`. Returns
/// the HTTP status of a 2xx answer.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: &str,
    now: time::OffsetDateTime,
) -> Result<u16, PostError> {
    let url = reqwest::Url::parse(url).map_err(|e| PostError::Permanent(format!("the URL is not valid: {e}"), None))?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Rapport-Event", event)
        .header("X-Rapport-Delivery", delivery)
        .header("X-Rapport-Signature", signature(secret, now.unix_timestamp(), body))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| PostError::Transient(format!("no answer: {e}"), None))?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let text: String = response.text().await.unwrap_or_default().chars().take(200).collect();
    let why = format!("the receiver answered {status}: {text}");
    let code = Some(status.as_u16());
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(PostError::Transient(why, code))
    } else {
        Err(PostError::Permanent(why, code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_time_dot_body() {
        // Computed independently: Python's hmac.new(b"whsec_test", b'1700000000.{"id":"alert:1"}', sha256).
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"id":"alert:1"}"#),
            "t=1700000000,v1=cc6cd9466615fba39403328ebccbc1baf9b41295b43d41459ac3ac3cc48e6069"
        );
    }
}
