//! GOV.UK Notify: `POST /v2/notifications/email`, authenticated with a short-lived HS256 JWT
//! (`iss` = service id, `iat` = now) signed with the API key's secret.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use super::error::SendError;
use super::notify_fields::{LANGUAGES, NotifyMessage, template_names};
use crate::config::{NotifyKey, NotifyTemplateIds};

/// Sends through Notify: each email's own template (by kind and language), filled with its
/// fields.
#[derive(Debug, Clone)]
pub struct NotifyTransport {
    client: reqwest::Client,
    endpoint: Url,
    key: NotifyKey,
    templates: NotifyTemplateIds,
}

#[derive(Serialize)]
struct EmailRequest<'a> {
    email_address: &'a str,
    template_id: &'a str,
    personalisation: BTreeMap<&'a str, &'a str>,
    reference: &'a str,
}

/// The templates of `ids` missing for some language (`unlock.cy`); none may be, or some
/// emails could never be sent.
fn missing_templates(ids: &NotifyTemplateIds) -> Vec<String> {
    template_names()
        .into_iter()
        .flat_map(|name| LANGUAGES.map(|language| (name, language)))
        .filter(|(name, language)| ids.get(*name).and_then(|l| l.get(*language)).is_none())
        .map(|(name, language)| format!("{name}.{language}"))
        .collect()
}

impl NotifyTransport {
    /// Builds the client (rustls, timeouts).
    pub fn new(
        base_url: &Url,
        api_key: &str,
        templates: &NotifyTemplateIds,
        timeout: Duration,
    ) -> Result<Self, String> {
        let key = NotifyKey::parse(api_key).ok_or("not a Notify API key")?;
        let missing = missing_templates(templates);
        if !missing.is_empty() {
            return Err(format!(
                "ESR_NOTIFY_TEMPLATES_FILE names no template id for {} (`esr-api notify-templates` prints the templates to create)",
                missing.join(", ")
            ));
        }
        // The bearer token and every reset link go in the request.
        if !crate::outbound::carries_credentials_safely(base_url) {
            return Err(format!(
                "ESR_NOTIFY_BASE_URL must use https (plain http only to this machine), not {base_url}"
            ));
        }
        let endpoint = base_url
            .join("v2/notifications/email")
            .map_err(|e| format!("Notify base URL: {e}"))?;
        let client = crate::outbound::client_builder(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            endpoint,
            key,
            templates: templates.clone(),
        })
    }

    /// Sends one message to `to`; `reference` is the outbox id (visible in Notify's dashboard).
    pub async fn send(
        &self,
        to: &str,
        notify: &NotifyMessage,
        reference: &str,
    ) -> Result<(), SendError> {
        let template_id = self
            .templates
            .get(notify.template)
            .and_then(|by_language| by_language.get(notify.language))
            .ok_or_else(|| {
                SendError::Permanent(format!(
                    "no Notify template {}.{}",
                    notify.template, notify.language
                ))
            })?;
        let bearer = self
            .key
            .bearer(chrono::Utc::now())
            .map_err(|e| SendError::Permanent(format!("cannot sign the Notify token: {e}")))?;
        let res = self
            .client
            .post(self.endpoint.clone())
            .bearer_auth(bearer)
            .json(&EmailRequest {
                email_address: to,
                template_id,
                personalisation: notify
                    .personalisation
                    .iter()
                    .map(|(name, value)| (*name, value.as_str()))
                    .collect(),
                reference,
            })
            .send()
            .await
            .map_err(|e| SendError::Temporary(format!("Notify unreachable: {e}")))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        // Notify explains failures in JSON; its messages may quote what was sent, so only the
        // names of its errors are kept.
        let body = res.text().await.unwrap_or_default();
        let detail = match notify_error_names(&body) {
            names if names.is_empty() => format!("Notify answered {status}"),
            names => format!("Notify answered {status}: {names}"),
        };
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Temporary(detail))
        } else {
            Err(SendError::Permanent(detail))
        }
    }
}

/// The `error` names of a Notify error answer (`BadRequestError, RateLimitError`), never its
/// messages.
fn notify_error_names(body: &str) -> String {
    let Ok(answer) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    let names = answer["errors"].as_array().into_iter().flatten();
    names
        .filter_map(|e| e["error"].as_str())
        .filter(|name| name.bytes().all(|b| b.is_ascii_alphanumeric()))
        .take(5)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_of_notify_errors_are_kept() {
        let body = r#"{"errors":[{"error":"BadRequestError","message":"Can't send to jane.smith@example.org"}],"status_code":400}"#;
        assert_eq!(notify_error_names(body), "BadRequestError");
        assert_eq!(notify_error_names("<html>bad gateway</html>"), "");
    }

    const KEY: &str =
        "esr_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    /// An id for every template in every language.
    fn all_templates() -> NotifyTemplateIds {
        template_names()
            .into_iter()
            .map(|name| {
                let ids = LANGUAGES.map(|l| (l.to_owned(), uuid::Uuid::new_v4().to_string()));
                (name.to_owned(), ids.into_iter().collect())
            })
            .collect()
    }

    #[test]
    fn every_template_must_have_an_id_in_every_language() {
        let url = Url::parse("https://api.notifications.service.gov.uk/").unwrap();
        let timeout = std::time::Duration::from_secs(1);
        let mut ids = all_templates();
        assert!(NotifyTransport::new(&url, KEY, &ids, timeout).is_ok());
        ids.get_mut("unlock").unwrap().remove("cy");
        ids.remove("enrolment_link");
        let refused = NotifyTransport::new(&url, KEY, &ids, timeout).unwrap_err();
        assert!(
            refused.contains("enrolment_link.en, enrolment_link.cy, unlock.cy"),
            "{refused}"
        );
    }

    #[test]
    fn the_token_and_links_never_travel_over_plain_http_across_a_network() {
        let timeout = std::time::Duration::from_secs(1);
        let remote = Url::parse("http://api.notifications.service.gov.uk/").unwrap();
        let refused = NotifyTransport::new(&remote, KEY, &all_templates(), timeout).unwrap_err();
        assert!(
            refused.contains("ESR_NOTIFY_BASE_URL must use https"),
            "{refused}"
        );
        for fine in [
            "https://api.notifications.service.gov.uk/",
            "http://127.0.0.1:9/",
        ] {
            let url = Url::parse(fine).unwrap();
            assert!(
                NotifyTransport::new(&url, KEY, &all_templates(), timeout).is_ok(),
                "{fine}"
            );
        }
    }
}
