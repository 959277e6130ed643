//! Email templates: plain text and HTML, English and Welsh, in the words of the ESR user
//! guide. Rendered at send time from the outbox payload; links are built from the
//! configured web base URL, never from a request.
//!
//! The Welsh wording is a working draft for review by NHS Wales' translation service.

use esr_persistence::outbox::EmailKind;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// Destination address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The links in the message (for the dev mailbox).
    pub links: Vec<Link>,
}

/// A link in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// What it does: `login`, `reset`, `unlock`.
    pub purpose: &'static str,
    /// The URL.
    pub url: String,
}

/// Why a queued message cannot be rendered (a bug or a corrupted row: the message is dead).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Unknown template name.
    #[error("unknown email kind {0:?}")]
    UnknownKind(String),
    /// The payload does not fit the template.
    #[error("payload does not fit the {kind} template: {source}")]
    Payload {
        /// Template.
        kind: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Where links point.
#[derive(Debug, Clone)]
pub struct LinkBase {
    /// The self-service pages, e.g. `https://my.esr.example.org`.
    pub web_base_url: Url,
    /// How long reset and unlock links work, in hours (for the wording).
    pub link_ttl_hours: u64,
}

impl LinkBase {
    fn page(&self, page: &str) -> String {
        format!(
            "{}/{page}",
            self.web_base_url.as_str().trim_end_matches('/')
        )
    }

    /// The login page.
    pub fn login(&self) -> String {
        format!("{}/", self.web_base_url.as_str().trim_end_matches('/'))
    }

    /// Reset page with the token in the fragment (never sent to a server by browsers).
    pub fn reset(&self, token: &str) -> String {
        format!("{}#token={token}", self.page("reset-password"))
    }

    /// The page that enrols a first sign-in method, with the token in the fragment.
    pub fn enrol(&self, token: &str) -> String {
        format!("{}#token={token}", self.page("add-sign-in-method"))
    }

    /// Unlock page with the token in the fragment.
    pub fn unlock(&self, token: &str) -> String {
        format!("{}#token={token}", self.page("unlock-account"))
    }
}

/// One account in a recovery email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryAccount {
    /// Organisation code.
    pub organisation_code: String,
    /// Organisation name.
    pub organisation_name: String,
    /// Username.
    pub username: String,
    /// Plain reset token (the outbox row is scrubbed once sent).
    pub token: String,
}

/// Payload of a recovery email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryPayload {
    /// Every matching account.
    pub accounts: Vec<RecoveryAccount>,
}

/// Payload of an unlock email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnlockPayload {
    /// The account.
    pub account: RecoveryAccount,
    /// Whether it was locked: then `token` unlocks it; otherwise `token` resets the password.
    pub locked: bool,
}

/// Payload of an enrolment-link email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolmentPayload {
    /// The account, its plain enrolment token in `token`.
    pub account: RecoveryAccount,
    /// Minutes the link works.
    pub minutes: u64,
}

/// Payload of the notice that a holder's smartcard was linked to a record at another
/// organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkedElsewherePayload {
    /// The recipient's own record's organisation code.
    pub organisation_code: String,
    /// Its name.
    pub organisation_name: String,
    /// The organisation that linked the card.
    pub other_organisation_code: String,
    /// Its name.
    pub other_organisation_name: String,
    /// When it happened (RFC 3339).
    pub at: String,
}

/// Payload of a notice about an account, or about the staff record of a person who has no
/// account yet (a change of their work email or smartcard).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticePayload {
    /// Username; absent when the notice is about a person with no account.
    #[serde(default)]
    pub username: Option<String>,
    /// Organisation code.
    pub organisation_code: String,
    /// Organisation name.
    pub organisation_name: String,
    /// When it happened (RFC 3339).
    pub at: String,
}

impl NoticePayload {
    /// The account as every notice names it: username (organisation code and name).
    pub(super) fn account(&self) -> String {
        format!(
            "{} ({} {})",
            self.username.as_deref().unwrap_or_default(),
            self.organisation_code,
            self.organisation_name
        )
    }

    /// What changed hands, as the contact-change notices name it (after "your" or its Welsh
    /// forms): "ESR account JSMITH01 (…)", or "ESR record (…)" for a person with no account.
    pub(super) fn record(&self, lang: Lang) -> String {
        let organisation = format!("({} {})", self.organisation_code, self.organisation_name);
        match (&self.username, lang) {
            (Some(username), Lang::En) => format!("ESR account {username} {organisation}"),
            (Some(username), Lang::Cy) => format!("cyfrif ESR {username} {organisation}"),
            (None, Lang::En) => format!("ESR record {organisation}"),
            (None, Lang::Cy) => format!("cofnod ESR {organisation}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En,
    Cy,
}

impl Lang {
    /// A queued message's language: Welsh for `cy`, otherwise English.
    pub(super) fn of(language: &str) -> Self {
        if language == "cy" { Self::Cy } else { Self::En }
    }

    /// The BCP 47 tag for `<html lang>`, so screen readers pronounce the email correctly.
    pub(super) fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Cy => "cy",
        }
    }
}

/// Renders a queued message.
pub fn render(
    kind: &str,
    language: &str,
    to: &str,
    payload: &str,
    links: &LinkBase,
) -> Result<Rendered, RenderError> {
    let lang = Lang::of(language);
    let known = known_kind(kind)?;
    let mut doc = match known {
        EmailKind::Recovery => recovery(lang, &parsed(kind, payload)?, links),
        EmailKind::Unlock => unlock(lang, &parsed(kind, payload)?, links),
        EmailKind::PasswordChanged => password_changed(lang, &parsed(kind, payload)?, links),
        EmailKind::AccountLocked => account_locked(lang, &parsed(kind, payload)?, links),
        EmailKind::WorkEmailChanged => work_email_changed(lang, &parsed(kind, payload)?, links),
        EmailKind::SmartcardChanged => smartcard_changed(lang, &parsed(kind, payload)?, links),
        EmailKind::FactorAdded
        | EmailKind::FactorRemoved
        | EmailKind::FactorsReset
        | EmailKind::RecoveryCodeUsed
        | EmailKind::RecoveryCodesReplaced => {
            factor_notice(known, lang, &parsed(kind, payload)?, links)
        }
        EmailKind::SmartcardLinkedElsewhere => {
            smartcard_linked_elsewhere(lang, &parsed(kind, payload)?, links)
        }
        EmailKind::EnrolmentLink => enrolment_link(lang, &parsed(kind, payload)?, links),
    };
    doc.to = to.to_owned();
    Ok(doc)
}

/// A queued message's kind.
pub(super) fn known_kind(kind: &str) -> Result<EmailKind, RenderError> {
    EmailKind::parse(kind).ok_or_else(|| RenderError::UnknownKind(kind.to_owned()))
}

/// A queued message's payload, read as its kind's.
pub(super) fn parsed<T: DeserializeOwned>(kind: &str, payload: &str) -> Result<T, RenderError> {
    serde_json::from_str(payload).map_err(|source| RenderError::Payload {
        kind: kind.to_owned(),
        source,
    })
}

/// A document built paragraph by paragraph into both text and HTML.
struct Doc {
    lang: Lang,
    subject: String,
    text: String,
    html: String,
    links: Vec<Link>,
}

impl Doc {
    fn new(lang: Lang, subject: impl Into<String>) -> Self {
        Self {
            lang,
            subject: subject.into(),
            text: String::new(),
            html: String::new(),
            links: Vec::new(),
        }
    }

    fn para(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push_str("\n\n");
        self.html.push_str(&format!("<p>{}</p>\n", esc(line)));
    }

    /// Several lines kept together (e.g. "Organisation: …" / "Username: …").
    fn lines(&mut self, lines: &[String]) {
        self.text.push_str(&lines.join("\n"));
        self.text.push_str("\n\n");
        let html: Vec<String> = lines.iter().map(|l| esc(l)).collect();
        self.html
            .push_str(&format!("<p>{}</p>\n", html.join("<br>\n")));
    }

    fn link(&mut self, lead: &str, purpose: &'static str, url: &str) {
        self.text.push_str(&format!("{lead}\n{url}\n\n"));
        self.html.push_str(&format!(
            "<p>{}<br>\n<a href=\"{}\">{}</a></p>\n",
            esc(lead),
            esc(url),
            esc(url)
        ));
        self.links.push(Link {
            purpose,
            url: url.to_owned(),
        });
    }

    fn finish(self) -> Rendered {
        Rendered {
            to: String::new(),
            html: format!(
                "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5\">\n{}</body></html>\n",
                self.lang.tag(),
                esc(&self.subject),
                self.html
            ),
            text: self.text.trim_end().to_owned() + "\n",
            subject: self.subject,
            links: self.links,
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn account_lines(lang: Lang, a: &RecoveryAccount) -> Vec<String> {
    match lang {
        Lang::En => vec![
            format!(
                "Organisation: {} {}",
                a.organisation_code, a.organisation_name
            ),
            format!("Username: {}", a.username),
        ],
        Lang::Cy => vec![
            format!("Sefydliad: {} {}", a.organisation_code, a.organisation_name),
            format!("Enw defnyddiwr: {}", a.username),
        ],
    }
}

pub(super) fn hours(lang: Lang, n: u64) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 hour".into(),
        (Lang::En, n) => format!("{n} hours"),
        (Lang::Cy, n) => format!("{n} awr"),
    }
}

fn recovery(lang: Lang, p: &RecoveryPayload, links: &LinkBase) -> Rendered {
    let many = p.accounts.len() > 1;
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Your ESR username and password reset",
            Lang::Cy => "Eich enw defnyddiwr ESR ac ailosod eich cyfrinair",
        },
    );
    doc.para(match (lang, many) {
        (Lang::En, false) => "The following user account is associated with your email address:",
        (Lang::En, true) => "The following user accounts are associated with your email address:",
        (Lang::Cy, false) => {
            "Mae'r cyfrif defnyddiwr canlynol yn gysylltiedig â'ch cyfeiriad e-bost:"
        }
        (Lang::Cy, true) => {
            "Mae'r cyfrifon defnyddiwr canlynol yn gysylltiedig â'ch cyfeiriad e-bost:"
        }
    });
    for a in &p.accounts {
        recovery_account(&mut doc, a, links);
    }
    let ttl = hours(lang, links.link_ttl_hours);
    match lang {
        Lang::En => {
            doc.lines(&[
                "This email can be ignored if you did not submit the user name lookup request."
                    .into(),
                format!("The password reset link is only active for {ttl}."),
            ]);
        }
        Lang::Cy => {
            doc.lines(&[
                "Gallwch anwybyddu'r e-bost hwn os na wnaethoch gyflwyno'r cais i chwilio am enw defnyddiwr.".into(),
                format!("Mae'r ddolen ailosod cyfrinair yn weithredol am {ttl} yn unig."),
            ]);
        }
    }
    doc.finish()
}

/// One account of a recovery email: its organisation and username, the login link and its
/// reset link.
fn recovery_account(doc: &mut Doc, a: &RecoveryAccount, links: &LinkBase) {
    doc.lines(&account_lines(doc.lang, a));
    let (login, reset) = match doc.lang {
        Lang::En => ("You can now login:", "or reset your password:"),
        Lang::Cy => ("Gallwch fewngofnodi nawr:", "neu ailosod eich cyfrinair:"),
    };
    doc.link(login, "login", &links.login());
    doc.link(reset, "reset", &links.reset(&a.token));
}

/// The accounts of a recovery email as its text shows them (Notify gets them as one field).
pub(super) fn recovery_accounts_text(
    lang: Lang,
    accounts: &[RecoveryAccount],
    links: &LinkBase,
) -> String {
    let mut doc = Doc::new(lang, "");
    for a in accounts {
        recovery_account(&mut doc, a, links);
    }
    doc.text.trim_end().to_owned()
}

fn unlock(lang: Lang, p: &UnlockPayload, links: &LinkBase) -> Rendered {
    let ttl = hours(lang, links.link_ttl_hours);
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Unlock your ESR account",
            Lang::Cy => "Datgloi eich cyfrif ESR",
        },
    );
    if p.locked {
        doc.para(match lang {
            Lang::En => "You asked to unlock the following user account:",
            Lang::Cy => "Gofynnoch i ddatgloi'r cyfrif defnyddiwr canlynol:",
        });
        doc.lines(&account_lines(lang, &p.account));
        let lead = match lang {
            Lang::En => "Unlock your account (your password stays the same):",
            Lang::Cy => "Datgloi eich cyfrif (mae eich cyfrinair yn aros yr un fath):",
        };
        doc.link(lead, "unlock", &links.unlock(&p.account.token));
        match lang {
            Lang::En => doc.lines(&[
                "This email can be ignored if you did not submit the unlock request.".into(),
                format!("The unlock link is only active for {ttl}."),
            ]),
            Lang::Cy => doc.lines(&[
                "Gallwch anwybyddu'r e-bost hwn os na wnaethoch gyflwyno'r cais i ddatgloi.".into(),
                format!("Mae'r ddolen datgloi yn weithredol am {ttl} yn unig."),
            ]),
        }
    } else {
        doc.para(match lang {
            Lang::En => "You asked to unlock the following user account, but it is not locked:",
            Lang::Cy => {
                "Gofynnoch i ddatgloi'r cyfrif defnyddiwr canlynol, ond nid yw wedi'i gloi:"
            }
        });
        doc.lines(&account_lines(lang, &p.account));
        let (login, reset) = match lang {
            Lang::En => (
                "You can login:",
                "or, if you have forgotten your password, reset it:",
            ),
            Lang::Cy => (
                "Gallwch fewngofnodi:",
                "neu, os ydych wedi anghofio eich cyfrinair, ei ailosod:",
            ),
        };
        doc.link(login, "login", &links.login());
        doc.link(reset, "reset", &links.reset(&p.account.token));
        match lang {
            Lang::En => doc.lines(&[
                "This email can be ignored if you did not submit the unlock request.".into(),
                format!("The password reset link is only active for {ttl}."),
            ]),
            Lang::Cy => doc.lines(&[
                "Gallwch anwybyddu'r e-bost hwn os na wnaethoch gyflwyno'r cais i ddatgloi.".into(),
                format!("Mae'r ddolen ailosod cyfrinair yn weithredol am {ttl} yn unig."),
            ]),
        }
    }
    doc.finish()
}

pub(super) fn when(lang: Lang, at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_owned(),
        |t| match lang {
            Lang::En => t.format("%-d %B %Y at %H:%M UTC").to_string(),
            Lang::Cy => t.format("%d/%m/%Y am %H:%M UTC").to_string(),
        },
    )
}

fn password_changed(lang: Lang, p: &NoticePayload, links: &LinkBase) -> Rendered {
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Your ESR password was changed",
            Lang::Cy => "Mae eich cyfrinair ESR wedi newid",
        },
    );
    let account = p.account();
    match lang {
        Lang::En => {
            doc.para(&format!(
                "The password for your ESR account {account} was changed on {}.",
                when(lang, &p.at)
            ));
            doc.para("If you made this change, you do not need to do anything.");
            doc.link(
                "If you did not change your password, reset it now using Forgotten | Request Username/Password on the ESR login page, and contact the System Administrator:",
                "login",
                &links.login(),
            );
        }
        Lang::Cy => {
            doc.para(&format!(
                "Newidiwyd y cyfrinair ar gyfer eich cyfrif ESR {account} ar {}.",
                when(lang, &p.at)
            ));
            doc.para("Os gwnaethoch chi'r newid hwn, nid oes angen i chi wneud dim.");
            doc.link(
                "Os na wnaethoch chi newid eich cyfrinair, ailosodwch ef nawr gan ddefnyddio Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair ar dudalen fewngofnodi ESR, a chysylltwch â Gweinyddwr y System:",
                "login",
                &links.login(),
            );
        }
    }
    doc.finish()
}

fn account_locked(lang: Lang, p: &NoticePayload, links: &LinkBase) -> Rendered {
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Your ESR account has been locked",
            Lang::Cy => "Mae eich cyfrif ESR wedi'i gloi",
        },
    );
    let account = p.account();
    match lang {
        Lang::En => {
            doc.para(&format!(
                "Your ESR account {account} was locked on {} after too many unsuccessful login attempts.",
                when(lang, &p.at)
            ));
            doc.link(
                "To unlock it, use Unlock Account on the ESR login page. If you have forgotten your password, use Forgotten | Request Username/Password instead: resetting your password also unlocks your account.",
                "login",
                &links.login(),
            );
            doc.para("If you did not try to log in, someone else may have tried: please contact the System Administrator.");
        }
        Lang::Cy => {
            doc.para(&format!(
                "Cafodd eich cyfrif ESR {account} ei gloi ar {} ar ôl gormod o ymdrechion aflwyddiannus i fewngofnodi.",
                when(lang, &p.at)
            ));
            doc.link(
                "I'w ddatgloi, defnyddiwch Datgloi Cyfrif ar dudalen fewngofnodi ESR. Os ydych wedi anghofio eich cyfrinair, defnyddiwch Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair yn lle hynny: mae ailosod eich cyfrinair hefyd yn datgloi eich cyfrif.",
                "login",
                &links.login(),
            );
            doc.para("Os na wnaethoch chi geisio mewngofnodi, efallai bod rhywun arall wedi ceisio: cysylltwch â Gweinyddwr y System.");
        }
    }
    doc.finish()
}

fn work_email_changed(lang: Lang, p: &NoticePayload, links: &LinkBase) -> Rendered {
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "The work email on your ESR record was changed",
            Lang::Cy => "Mae'r cyfeiriad e-bost gwaith ar eich cofnod ESR wedi newid",
        },
    );
    let record = p.record(lang);
    match lang {
        Lang::En => {
            doc.para(&format!(
                "The work email address of your {record} was changed on {}. This message goes to the old and the new address.",
                when(lang, &p.at)
            ));
            doc.para(
                "Any username or password reset email sent before the change no longer works.",
            );
            doc.link(
                "If you did not expect this change, contact the System Administrator straight away, and do not use any link sent to an address that is not yours:",
                "login",
                &links.login(),
            );
        }
        Lang::Cy => {
            doc.para(&format!(
                "Newidiwyd cyfeiriad e-bost gwaith eich {record} ar {}. Mae'r neges hon yn mynd i'r hen gyfeiriad a'r cyfeiriad newydd.",
                when(lang, &p.at)
            ));
            doc.para("Nid yw unrhyw e-bost enw defnyddiwr neu ailosod cyfrinair a anfonwyd cyn y newid yn gweithio mwyach.");
            doc.link(
                "Os nad oeddech yn disgwyl y newid hwn, cysylltwch â Gweinyddwr y System ar unwaith, a pheidiwch â defnyddio unrhyw ddolen a anfonwyd i gyfeiriad nad yw'n eiddo i chi:",
                "login",
                &links.login(),
            );
        }
    }
    doc.finish()
}

fn smartcard_changed(lang: Lang, p: &NoticePayload, links: &LinkBase) -> Rendered {
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "The smartcard linked to your ESR record was changed",
            Lang::Cy => "Mae'r cerdyn clyfar sy'n gysylltiedig â'ch cofnod ESR wedi newid",
        },
    );
    let record = p.record(lang);
    let had_sessions = p.username.is_some();
    match lang {
        Lang::En => {
            doc.para(&format!(
                "The NHS smartcard linked to your {record} was changed on {}.",
                when(lang, &p.at)
            ));
            if had_sessions {
                doc.para("Sign-ins at work with the previous smartcard have been ended.");
            }
            doc.link(
                "If you did not expect this change, contact the System Administrator straight away:",
                "login",
                &links.login(),
            );
        }
        Lang::Cy => {
            doc.para(&format!(
                "Newidiwyd y cerdyn clyfar GIG sy'n gysylltiedig â'ch {record} ar {}.",
                when(lang, &p.at)
            ));
            if had_sessions {
                doc.para(
                    "Mae mewngofnodi yn y gwaith gyda'r cerdyn clyfar blaenorol wedi dod i ben.",
                );
            }
            doc.link(
                "Os nad oeddech yn disgwyl y newid hwn, cysylltwch â Gweinyddwr y System ar unwaith:",
                "login",
                &links.login(),
            );
        }
    }
    doc.finish()
}

fn smartcard_linked_elsewhere(
    lang: Lang,
    p: &LinkedElsewherePayload,
    links: &LinkBase,
) -> Rendered {
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Your smartcard was linked to an ESR record at another organisation",
            Lang::Cy => "Cysylltwyd eich cerdyn clyfar â chofnod ESR mewn sefydliad arall",
        },
    );
    let own = format!("{} {}", p.organisation_code, p.organisation_name);
    let other = format!(
        "{} {}",
        p.other_organisation_code, p.other_organisation_name
    );
    match lang {
        Lang::En => {
            doc.para(&format!(
                "The NHS smartcard linked to your ESR record at {own} was also linked to an ESR record at {other} on {}.",
                when(lang, &p.at)
            ));
            doc.para("If you work there too, you need do nothing: when you sign in with your smartcard you will be asked which organisation to sign in to.");
            doc.link(
                "If you do not work there, contact the System Administrator straight away, and when you sign in with your smartcard choose your own organisation:",
                "login",
                &links.login(),
            );
        }
        Lang::Cy => {
            doc.para(&format!(
                "Cysylltwyd y cerdyn clyfar GIG sy'n gysylltiedig â'ch cofnod ESR yn {own} hefyd â chofnod ESR yn {other} ar {}.",
                when(lang, &p.at)
            ));
            doc.para("Os ydych yn gweithio yno hefyd, nid oes angen i chi wneud dim: pan fyddwch yn mewngofnodi gyda'ch cerdyn clyfar gofynnir i chi pa sefydliad i fewngofnodi iddo.");
            doc.link(
                "Os nad ydych yn gweithio yno, cysylltwch â Gweinyddwr y System ar unwaith, a phan fyddwch yn mewngofnodi gyda'ch cerdyn clyfar dewiswch eich sefydliad eich hun:",
                "login",
                &links.login(),
            );
        }
    }
    doc.finish()
}

/// "A sign-in method was added / removed / reset", "a recovery code was used", "new recovery
/// codes were made": the notices of second-factor changes.
fn factor_notice(kind: EmailKind, lang: Lang, p: &NoticePayload, links: &LinkBase) -> Rendered {
    let (subject, what) = match (kind, lang) {
        (EmailKind::FactorAdded, Lang::En) => (
            "A sign-in method was added to your ESR account",
            "A sign-in method (an authenticator app or a passkey) was added to your ESR account",
        ),
        (EmailKind::FactorAdded, Lang::Cy) => (
            "Ychwanegwyd dull mewngofnodi at eich cyfrif ESR",
            "Ychwanegwyd dull mewngofnodi (ap dilysu neu allwedd mynediad) at eich cyfrif ESR",
        ),
        (EmailKind::FactorRemoved, Lang::En) => (
            "A sign-in method was removed from your ESR account",
            "A sign-in method was removed from your ESR account",
        ),
        (EmailKind::FactorRemoved, Lang::Cy) => (
            "Tynnwyd dull mewngofnodi o'ch cyfrif ESR",
            "Tynnwyd dull mewngofnodi o'ch cyfrif ESR",
        ),
        (EmailKind::RecoveryCodeUsed, Lang::En) => (
            "A recovery code was used to log in to your ESR account",
            "One of your recovery codes was used to log in to your ESR account",
        ),
        (EmailKind::RecoveryCodeUsed, Lang::Cy) => (
            "Defnyddiwyd cod adfer i fewngofnodi i'ch cyfrif ESR",
            "Defnyddiwyd un o'ch codau adfer i fewngofnodi i'ch cyfrif ESR",
        ),
        (EmailKind::RecoveryCodesReplaced, Lang::En) => (
            "New recovery codes were made for your ESR account",
            "New recovery codes were made for your ESR account",
        ),
        (EmailKind::RecoveryCodesReplaced, Lang::Cy) => (
            "Crëwyd codau adfer newydd ar gyfer eich cyfrif ESR",
            "Crëwyd codau adfer newydd ar gyfer eich cyfrif ESR",
        ),
        (_, Lang::En) => (
            "The sign-in methods of your ESR account were reset",
            "A System Administrator removed every sign-in method and recovery code from your ESR account",
        ),
        (_, Lang::Cy) => (
            "Ailosodwyd dulliau mewngofnodi eich cyfrif ESR",
            "Tynnodd Gweinyddwr y System bob dull mewngofnodi a chod adfer o'ch cyfrif ESR",
        ),
    };
    let mut doc = Doc::new(lang, subject);
    let account = p.account();
    let on = match lang {
        Lang::En => "on",
        Lang::Cy => "ar",
    };
    doc.para(&format!("{what} {account} {on} {}.", when(lang, &p.at)));
    match (kind, lang) {
        (EmailKind::RecoveryCodesReplaced, Lang::En) => {
            doc.para("The old recovery codes no longer work.");
        }
        (EmailKind::RecoveryCodesReplaced, Lang::Cy) => {
            doc.para("Nid yw'r hen godau adfer yn gweithio mwyach.");
        }
        _ => {}
    }
    match lang {
        Lang::En => {
            doc.para("If you made this change, you do not need to do anything.");
            doc.link(
                "If you did not expect this change, contact the System Administrator straight away:",
                "login",
                &links.login(),
            );
        }
        Lang::Cy => {
            doc.para("Os gwnaethoch chi'r newid hwn, nid oes angen i chi wneud dim.");
            doc.link(
                "Os nad oeddech yn disgwyl y newid hwn, cysylltwch â Gweinyddwr y System ar unwaith:",
                "login",
                &links.login(),
            );
        }
    }
    doc.finish()
}

fn enrolment_link(lang: Lang, p: &EnrolmentPayload, links: &LinkBase) -> Rendered {
    let a = &p.account;
    let mut doc = Doc::new(
        lang,
        match lang {
            Lang::En => "Add a sign-in method to your ESR account",
            Lang::Cy => "Ychwanegu dull mewngofnodi at eich cyfrif ESR",
        },
    );
    match lang {
        Lang::En => {
            doc.para(&format!(
                "You asked to add a sign-in method (an authenticator app or a passkey) to your ESR account {} ({} {}).",
                a.username, a.organisation_code, a.organisation_name
            ));
            doc.link(
                "Open this link on the device where you are signed in:",
                "enrol",
                &links.enrol(&a.token),
            );
            doc.para(&format!(
                "The link works once, for {} minutes. If you did not ask for it, someone may know your password: reset it using Forgotten | Request Username/Password on the ESR login page, and contact the System Administrator.",
                p.minutes
            ));
        }
        Lang::Cy => {
            doc.para(&format!(
                "Gofynnoch i ychwanegu dull mewngofnodi (ap dilysu neu allwedd mynediad) at eich cyfrif ESR {} ({} {}).",
                a.username, a.organisation_code, a.organisation_name
            ));
            doc.link(
                "Agorwch y ddolen hon ar y ddyfais lle rydych wedi mewngofnodi:",
                "enrol",
                &links.enrol(&a.token),
            );
            doc.para(&format!(
                "Mae'r ddolen yn gweithio unwaith, am {} munud. Os na wnaethoch ofyn amdani, efallai bod rhywun yn gwybod eich cyfrinair: ailosodwch ef gan ddefnyddio Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair ar dudalen fewngofnodi ESR, a chysylltwch â Gweinyddwr y System.",
                p.minutes
            ));
        }
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> LinkBase {
        LinkBase {
            web_base_url: Url::parse("https://my.esr.example/self-service/").expect("url"),
            link_ttl_hours: 4,
        }
    }

    fn account(code: &str, user: &str) -> RecoveryAccount {
        RecoveryAccount {
            organisation_code: code.into(),
            organisation_name: "Bolton Hospitals NHS Trust".into(),
            username: user.into(),
            token: format!("tok-{user}"),
        }
    }

    #[test]
    fn recovery_email_has_the_guides_wording_and_fragment_links() {
        let payload = serde_json::to_string(&RecoveryPayload {
            accounts: vec![account("241", "241JSMITH01")],
        })
        .expect("json");
        let m = render("recovery", "en", "jane@example.net", &payload, &links()).expect("renders");
        for line in [
            "The following user account is associated with your email address:",
            "Organisation: 241 Bolton Hospitals NHS Trust\nUsername: 241JSMITH01",
            "You can now login:\nhttps://my.esr.example/self-service/\n",
            "or reset your password:\nhttps://my.esr.example/self-service/reset-password#token=tok-241JSMITH01",
            "This email can be ignored if you did not submit the user name lookup request.",
            "The password reset link is only active for 4 hours.",
        ] {
            assert!(m.text.contains(line), "{line:?} in\n{}", m.text);
        }
        assert!(m.html.contains(
            "<a href=\"https://my.esr.example/self-service/reset-password#token=tok-241JSMITH01\">"
        ));
        assert_eq!(m.links.iter().filter(|l| l.purpose == "reset").count(), 1);
    }

    #[test]
    fn several_accounts_share_one_email() {
        let payload = serde_json::to_string(&RecoveryPayload {
            accounts: vec![account("241", "241JSMITH01"), account("999", "999JSMITH01")],
        })
        .expect("json");
        let m = render("recovery", "en", "jane@example.net", &payload, &links()).expect("renders");
        assert!(
            m.text
                .contains("The following user accounts are associated")
        );
        assert!(m.text.contains("241JSMITH01") && m.text.contains("999JSMITH01"));
        assert_eq!(m.links.iter().filter(|l| l.purpose == "reset").count(), 2);
        assert!(m.html.contains("<html lang=\"en\">"), "{}", m.html);
    }

    #[test]
    fn welsh_and_html_escaping() {
        let mut a = account("241", "241JSMITH01");
        a.organisation_name = "Bwrdd <Iechyd> & \"Prifysgol\"".into();
        let payload = serde_json::to_string(&RecoveryPayload { accounts: vec![a] }).expect("json");
        let m = render("recovery", "cy", "x@example.net", &payload, &links()).expect("renders");
        assert!(m.text.contains("Enw defnyddiwr: 241JSMITH01"));
        assert!(m.text.contains("am 4 awr yn unig"));
        assert!(
            m.html
                .contains("Bwrdd &lt;Iechyd&gt; &amp; &quot;Prifysgol&quot;")
        );
        assert!(!m.html.contains("<Iechyd>"));
        assert!(m.html.contains("<html lang=\"cy\">"), "{}", m.html);
    }

    #[test]
    fn notices_and_unlock() {
        let notice = r#"{"username":"999JSMITH01","organisation_code":"999","organisation_name":"Demo NHS Trust","at":"2026-11-25T10:30:00Z"}"#;
        let m = render("password_changed", "en", "a@b.c", notice, &links()).expect("renders");
        assert_eq!(m.subject, "Your ESR password was changed");
        assert!(m.text.contains("25 November 2026 at 10:30 UTC"));
        let m = render("account_locked", "en", "a@b.c", notice, &links()).expect("renders");
        assert!(m.text.contains("Unlock Account"));
        let unlock = serde_json::to_string(&UnlockPayload {
            account: account("999", "999JSMITH01"),
            locked: true,
        })
        .expect("json");
        let m = render("unlock", "en", "a@b.c", &unlock, &links()).expect("renders");
        assert!(m.text.contains("unlock-account#token=tok-999JSMITH01"));
        for kind in [
            "factor_added",
            "factor_removed",
            "factors_reset",
            "recovery_code_used",
            "recovery_codes_replaced",
        ] {
            for lang in ["en", "cy"] {
                let m = render(kind, lang, "a@b.c", notice, &links()).expect("renders");
                assert!(m.text.contains("999JSMITH01"), "{kind} {lang}: {}", m.text);
            }
        }
        let enrol = serde_json::to_string(&EnrolmentPayload {
            account: account("999", "999JSMITH01"),
            minutes: 30,
        })
        .expect("json");
        let m = render("enrolment_link", "cy", "a@b.c", &enrol, &links()).expect("renders");
        assert!(
            m.text.contains("add-sign-in-method#token=tok-999JSMITH01"),
            "{}",
            m.text
        );
        assert!(m.text.contains("30 munud"));
        assert!(render("nope", "en", "a", "{}", &links()).is_err());
        assert!(render("recovery", "en", "a", "{}", &links()).is_err());
    }

    #[test]
    fn contact_change_notices_name_the_record_when_there_is_no_account() {
        let of_account = r#"{"username":"999JSMITH01","organisation_code":"999","organisation_name":"Demo NHS Trust","at":"2026-11-25T10:30:00Z"}"#;
        let of_person = r#"{"organisation_code":"999","organisation_name":"Demo NHS Trust","at":"2026-11-25T10:30:00Z"}"#;
        for kind in ["work_email_changed", "smartcard_changed"] {
            let m = render(kind, "en", "a@b.c", of_account, &links()).expect("renders");
            assert!(
                m.text
                    .contains("your ESR account 999JSMITH01 (999 Demo NHS Trust)")
            );
            let m = render(kind, "en", "a@b.c", of_person, &links()).expect("renders");
            assert!(
                m.text.contains("your ESR record (999 Demo NHS Trust)"),
                "{}",
                m.text
            );
            assert!(!m.text.contains("Sign-ins at work"), "{}", m.text);
            let m = render(kind, "cy", "a@b.c", of_person, &links()).expect("renders");
            assert!(
                m.text.contains("cofnod ESR (999 Demo NHS Trust)"),
                "{}",
                m.text
            );
        }
    }

    #[test]
    fn a_card_linked_elsewhere_names_both_organisations() {
        let payload = r#"{"organisation_code":"999","organisation_name":"Demo NHS Trust","other_organisation_code":"998","other_organisation_name":"Other Trust","at":"2026-11-25T10:30:00Z"}"#;
        for lang in ["en", "cy"] {
            let m = render(
                "smartcard_linked_elsewhere",
                lang,
                "a@b.c",
                payload,
                &links(),
            )
            .expect("renders");
            assert!(m.text.contains("999 Demo NHS Trust"), "{}", m.text);
            assert!(m.text.contains("998 Other Trust"), "{}", m.text);
        }
    }
}
