//! What GOV.UK Notify gets in place of an email's text: the name of a template kept in Notify
//! and the fields that fill it. Notify then holds only the variable parts of each email
//! (username, organisation, time, links), never a whole message to store or show.
//!
//! Each Notify template is this service's own text of that email with its fields replaced by
//! `((placeholders))`. `esr-api notify-templates` prints them, made from the same renderer as
//! the SMTP emails, so the words in Notify cannot drift from them.

use esr_persistence::outbox::EmailKind;
use serde::Serialize;
use url::Url;

use super::templates::{
    EnrolmentPayload, Lang, LinkBase, LinkedElsewherePayload, NoticePayload, RecoveryAccount,
    RecoveryPayload, RenderError, UnlockPayload, hours, known_kind, parsed, recovery_accounts_text,
    render, when,
};

/// The languages every Notify template exists in.
pub const LANGUAGES: [&str; 2] = ["en", "cy"];

/// A message as Notify gets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyMessage {
    /// The template's name, e.g. `password_changed` or `unlock_not_locked`.
    pub template: &'static str,
    /// Its language: `en` or `cy`.
    pub language: &'static str,
    /// The template's fields and their values.
    pub personalisation: Vec<(&'static str, String)>,
}

/// A template to create in Notify: paste `subject` and `body`, then name its id in
/// `ESR_NOTIFY_TEMPLATES_FILE` under `name` and `language`.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyTemplate {
    /// The name `ESR_NOTIFY_TEMPLATES_FILE` knows it by.
    pub name: &'static str,
    /// `en` or `cy`.
    pub language: &'static str,
    /// The subject line.
    pub subject: String,
    /// The body, with `((field))` placeholders.
    pub body: String,
}

/// What Notify gets for a queued message: its template and fields.
pub fn message(
    kind: &str,
    language: &str,
    payload: &str,
    links: &LinkBase,
) -> Result<NotifyMessage, RenderError> {
    let lang = Lang::of(language);
    let known = known_kind(kind)?;
    Ok(match known {
        EmailKind::Recovery => recovery(lang, &parsed(kind, payload)?, links),
        EmailKind::Unlock => unlock(lang, &parsed(kind, payload)?, links),
        EmailKind::PasswordChanged
        | EmailKind::AccountLocked
        | EmailKind::FactorAdded
        | EmailKind::FactorRemoved
        | EmailKind::FactorsReset
        | EmailKind::RecoveryCodeUsed
        | EmailKind::RecoveryCodesReplaced => {
            account_notice(known, lang, &parsed(kind, payload)?, links)
        }
        EmailKind::WorkEmailChanged | EmailKind::SmartcardChanged => {
            record_notice(known, lang, &parsed(kind, payload)?, links)
        }
        EmailKind::SmartcardLinkedElsewhere => {
            linked_elsewhere(lang, &parsed(kind, payload)?, links)
        }
        EmailKind::EnrolmentLink => enrolment_link(lang, &parsed(kind, payload)?, links),
    })
}

fn fields(
    template: &'static str,
    lang: Lang,
    personalisation: Vec<(&'static str, String)>,
) -> NotifyMessage {
    NotifyMessage {
        template,
        language: lang.tag(),
        personalisation,
    }
}

fn organisation(a: &RecoveryAccount) -> String {
    format!("{} {}", a.organisation_code, a.organisation_name)
}

/// "Your username and password reset": one account's fields, or all accounts as one.
fn recovery(lang: Lang, p: &RecoveryPayload, links: &LinkBase) -> NotifyMessage {
    let ttl = ("hours", hours(lang, links.link_ttl_hours));
    match p.accounts.as_slice() {
        [a] => fields(
            "recovery",
            lang,
            vec![
                ("organisation", organisation(a)),
                ("username", a.username.clone()),
                ("login_link", links.login()),
                ("reset_link", links.reset(&a.token)),
                ttl,
            ],
        ),
        accounts => fields(
            "recovery_several",
            lang,
            vec![
                ("accounts", recovery_accounts_text(lang, accounts, links)),
                ttl,
            ],
        ),
    }
}

/// "Unlock your account": an unlock link, or (when it was not locked) login and reset links.
fn unlock(lang: Lang, p: &UnlockPayload, links: &LinkBase) -> NotifyMessage {
    let a = &p.account;
    let mut values = vec![
        ("organisation", organisation(a)),
        ("username", a.username.clone()),
    ];
    let template = if p.locked {
        values.push(("unlock_link", links.unlock(&a.token)));
        "unlock"
    } else {
        values.push(("login_link", links.login()));
        values.push(("reset_link", links.reset(&a.token)));
        "unlock_not_locked"
    };
    values.push(("hours", hours(lang, links.link_ttl_hours)));
    fields(template, lang, values)
}

/// A notice about an account: password changed, account locked, sign-in methods changed.
fn account_notice(
    kind: EmailKind,
    lang: Lang,
    p: &NoticePayload,
    links: &LinkBase,
) -> NotifyMessage {
    fields(
        kind.as_str(),
        lang,
        vec![
            ("account", p.account()),
            ("when", when(lang, &p.at)),
            ("login_link", links.login()),
        ],
    )
}

/// A notice about a staff record's work email or smartcard; the smartcard notice of a
/// person with an account also says their sign-ins at work ended.
fn record_notice(
    kind: EmailKind,
    lang: Lang,
    p: &NoticePayload,
    links: &LinkBase,
) -> NotifyMessage {
    let template = match (kind, &p.username) {
        (EmailKind::SmartcardChanged, None) => "smartcard_changed_no_account",
        _ => kind.as_str(),
    };
    fields(
        template,
        lang,
        vec![
            ("record", p.record(lang)),
            ("when", when(lang, &p.at)),
            ("login_link", links.login()),
        ],
    )
}

/// "Your smartcard was linked to an ESR record at another organisation".
fn linked_elsewhere(lang: Lang, p: &LinkedElsewherePayload, links: &LinkBase) -> NotifyMessage {
    fields(
        EmailKind::SmartcardLinkedElsewhere.as_str(),
        lang,
        vec![
            (
                "organisation",
                format!("{} {}", p.organisation_code, p.organisation_name),
            ),
            (
                "other_organisation",
                format!(
                    "{} {}",
                    p.other_organisation_code, p.other_organisation_name
                ),
            ),
            ("when", when(lang, &p.at)),
            ("login_link", links.login()),
        ],
    )
}

/// "Add a sign-in method": the one-time enrolment link.
fn enrolment_link(lang: Lang, p: &EnrolmentPayload, links: &LinkBase) -> NotifyMessage {
    let a = &p.account;
    fields(
        EmailKind::EnrolmentLink.as_str(),
        lang,
        vec![
            ("account", format!("{} ({})", a.username, organisation(a))),
            ("enrol_link", links.enrol(&a.token)),
            ("minutes", p.minutes.to_string()),
        ],
    )
}

/// One message of each template, with values unlike any word of the emails' text so that
/// replacing them by placeholders touches nothing else.
fn samples() -> Vec<(EmailKind, String)> {
    let account = |username: &str, token: &str| RecoveryAccount {
        organisation_code: "987".into(),
        organisation_name: "Sample Organisation".into(),
        username: username.into(),
        token: token.into(),
    };
    let notice = |username: Option<&str>| NoticePayload {
        username: username.map(str::to_owned),
        organisation_code: "987".into(),
        organisation_name: "Sample Organisation".into(),
        at: "2031-07-19T17:46:00Z".into(),
    };
    let mut samples = vec![
        (
            EmailKind::Recovery,
            json(&RecoveryPayload {
                accounts: vec![account("987SAMPLEUSER", "SampleTokenA")],
            }),
        ),
        (
            EmailKind::Recovery,
            json(&RecoveryPayload {
                accounts: vec![
                    account("987SAMPLEUSER", "SampleTokenA"),
                    account("987OTHERUSER", "SampleTokenB"),
                ],
            }),
        ),
        (
            EmailKind::Unlock,
            json(&UnlockPayload {
                account: account("987SAMPLEUSER", "SampleTokenA"),
                locked: true,
            }),
        ),
        (
            EmailKind::Unlock,
            json(&UnlockPayload {
                account: account("987SAMPLEUSER", "SampleTokenA"),
                locked: false,
            }),
        ),
        (EmailKind::SmartcardChanged, json(&notice(None))),
        (
            EmailKind::SmartcardLinkedElsewhere,
            json(&LinkedElsewherePayload {
                organisation_code: "987".into(),
                organisation_name: "Sample Organisation".into(),
                other_organisation_code: "654".into(),
                other_organisation_name: "Another Sample Body".into(),
                at: "2031-07-19T17:46:00Z".into(),
            }),
        ),
        (
            EmailKind::EnrolmentLink,
            json(&EnrolmentPayload {
                account: account("987SAMPLEUSER", "SampleTokenA"),
                minutes: 83,
            }),
        ),
    ];
    for kind in [
        EmailKind::PasswordChanged,
        EmailKind::AccountLocked,
        EmailKind::WorkEmailChanged,
        EmailKind::SmartcardChanged,
        EmailKind::FactorAdded,
        EmailKind::FactorRemoved,
        EmailKind::FactorsReset,
        EmailKind::RecoveryCodeUsed,
        EmailKind::RecoveryCodesReplaced,
    ] {
        samples.push((kind, json(&notice(Some("987SAMPLEUSER")))));
    }
    samples
}

fn json(payload: &impl Serialize) -> String {
    serde_json::to_string(payload).expect("a payload serialises")
}

/// The links of the samples: a base and lifetime that occur nowhere else in the text.
fn sample_links() -> LinkBase {
    LinkBase {
        web_base_url: Url::parse("https://sample-esr-pages.invalid/").expect("a URL"),
        link_ttl_hours: 37,
    }
}

/// `text` with each field's value replaced by its placeholder, longest value first so that a
/// value inside another is not replaced within it.
fn with_placeholders(text: &str, fields: &[(&'static str, String)]) -> String {
    let mut fields: Vec<_> = fields.iter().collect();
    fields.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
    fields
        .into_iter()
        .fold(text.trim_end().to_owned(), |text, (name, value)| {
            text.replace(value.as_str(), &format!("(({name}))"))
        })
}

/// Every template Notify needs, in both languages.
pub fn templates() -> Vec<NotifyTemplate> {
    let links = sample_links();
    let mut templates: Vec<NotifyTemplate> = Vec::new();
    for (kind, payload) in samples() {
        for language in LANGUAGES {
            let rendered = render(kind.as_str(), language, "", &payload, &links)
                .expect("every sample renders");
            let notify = message(kind.as_str(), language, &payload, &links)
                .expect("every sample has its fields");
            templates.push(NotifyTemplate {
                name: notify.template,
                language: notify.language,
                subject: rendered.subject.clone(),
                body: with_placeholders(&rendered.text, &notify.personalisation),
            });
        }
    }
    templates.sort_by_key(|t| (t.name, t.language));
    templates.dedup_by_key(|t| (t.name, t.language));
    templates
}

/// The name of every template (each wanted in every language of [`LANGUAGES`]).
pub fn template_names() -> Vec<&'static str> {
    let mut names: Vec<_> = templates().into_iter().map(|t| t.name).collect();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notify's placeholder substitution, for the fields this service sends.
    fn fill(template: &str, fields: &[(&'static str, String)]) -> String {
        fields
            .iter()
            .fold(template.to_owned(), |text, (name, value)| {
                text.replace(&format!("(({name}))"), value)
            })
    }

    /// The placeholders of `body` as Notify finds them: from each `((` to the next `))`.
    fn placeholders(body: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = body;
        while let Some((_, after)) = rest.split_once("((") {
            let Some((name, tail)) = after.split_once("))") else {
                break;
            };
            found.push(name.to_owned());
            rest = tail;
        }
        found.sort();
        found.dedup();
        found
    }

    /// Messages unlike the samples, through other links: what Notify makes of a template and
    /// its fields is word for word the email SMTP would send.
    #[test]
    fn each_template_and_its_fields_make_the_emails_own_text() {
        let templates = templates();
        let links = LinkBase {
            web_base_url: Url::parse("https://my.esr.example.org/self-service/").expect("url"),
            link_ttl_hours: 1,
        };
        let mut used = std::collections::BTreeSet::new();
        for (kind, payload) in samples() {
            let payload = payload
                .replace("987SAMPLEUSER", "241JSMITH01")
                .replace("987OTHERUSER", "999JSMITH01")
                .replace("Sample Organisation", "Bolton NHS Trust")
                .replace("SampleToken", "tok")
                .replace("2031-07-19T17:46:00Z", "2026-11-25T09:05:00Z")
                .replace("\"minutes\":83", "\"minutes\":30");
            for language in LANGUAGES {
                let email = render(kind.as_str(), language, "a@example.org", &payload, &links)
                    .expect("renders");
                let notify = message(kind.as_str(), language, &payload, &links).expect("fields");
                let template = templates
                    .iter()
                    .find(|t| t.name == notify.template && t.language == language)
                    .unwrap_or_else(|| panic!("{} {language}", notify.template));
                assert_eq!(template.subject, email.subject);
                assert_eq!(
                    fill(&template.body, &notify.personalisation),
                    email.text.trim_end(),
                    "{} {language}",
                    notify.template
                );
                let mut names: Vec<String> = notify
                    .personalisation
                    .iter()
                    .map(|(name, _)| (*name).to_owned())
                    .collect();
                names.sort();
                assert_eq!(placeholders(&template.body), names, "{}", template.name);
                used.insert((template.name, language));
            }
        }
        assert_eq!(used.len(), templates.len(), "every template is used");
    }

    #[test]
    fn the_text_of_a_template_holds_no_sample_value() {
        for template in templates() {
            for sample in ["SAMPLE", "Sample", "sample", "2031", "37", "83", "654"] {
                assert!(
                    !template.body.contains(sample),
                    "{} {}: {sample} in {}",
                    template.name,
                    template.language,
                    template.body
                );
            }
        }
    }

    #[test]
    fn every_kind_has_templates_in_both_languages() {
        let names = template_names();
        assert_eq!(names.len(), 16, "{names:?}");
        assert_eq!(templates().len(), 32);
    }
}
