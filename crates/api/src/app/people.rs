//! People (staff records, one per employment) through the admin API: created and changed,
//! a change of work email or smartcard applying its consequences. The CSV import of whole
//! staff lists is [`crate::app::import`].

use chrono::{DateTime, Utc};
use esr_domain::{DateOfBirth, EmployeeNumber, OrganisationCode, PersonId, PersonName, WorkEmail};
use esr_persistence::audit::EventType;
use esr_persistence::people::{self, NewPerson, Person, PersonChanges};
use esr_persistence::{DbConnection, RepoError, organisations};
use serde_json::json;

use super::administration::AdminKey;
use super::versions;
use super::{Caller, Failure, audit, consequences};
use crate::audit::DigestKey;
use crate::state::AppState;

/// A person to create, every field already valid.
#[derive(Debug, Clone)]
pub struct NewPersonRecord {
    /// Employing organisation.
    pub organisation: OrganisationCode,
    /// Employee number, unique within the organisation.
    pub employee_number: EmployeeNumber,
    /// First name.
    pub first_name: PersonName,
    /// Surname.
    pub last_name: PersonName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// Work email.
    pub work_email: WorkEmail,
    /// NHS smartcard identity, when linked.
    pub smartcard_subject: Option<String>,
    /// `en` or `cy`.
    pub language: String,
}

/// Changes to a person; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonUpdate {
    /// New first name.
    pub first_name: Option<PersonName>,
    /// New surname.
    pub last_name: Option<PersonName>,
    /// New work email.
    pub work_email: Option<WorkEmail>,
    /// New date of birth.
    pub date_of_birth: Option<DateOfBirth>,
    /// New smartcard subject (`Some(None)` unlinks the card).
    pub smartcard_subject: Option<Option<String>>,
    /// New language.
    pub language: Option<String>,
}

impl PersonUpdate {
    /// The names of the fields this update sets.
    fn fields(&self) -> Vec<&'static str> {
        [
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("work_email", self.work_email.is_some()),
            ("date_of_birth", self.date_of_birth.is_some()),
            ("smartcard_subject", self.smartcard_subject.is_some()),
            ("language", self.language.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect()
    }
}

/// Why a person was not created or changed.
#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    /// No such person, or one of an organisation the key does not cover.
    #[error("person not found")]
    NotFound,
    /// The organisation does not exist (or the key does not cover it).
    #[error("organisation not found")]
    OrganisationNotFound,
    /// The employee number (in the organisation) or the smartcard subject is another's.
    #[error("employee number or smartcard subject taken")]
    Conflict,
    /// An `If-Match` that is not the person's current version.
    #[error(transparent)]
    Stale(#[from] super::versions::Stale),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// The person with `id` if the key may see them.
pub fn visible_person(
    conn: &mut DbConnection,
    key: &AdminKey,
    id: &PersonId,
) -> Result<Option<Person>, RepoError> {
    Ok(people::find(conn, id)?.filter(|p| key.can_see(&p.organisation_code)))
}

/// A unique-constraint refusal is the conflict it means; anything else stays an error.
fn unique_conflict<T>(result: Result<T, RepoError>) -> Result<Result<T, PersonError>, RepoError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) if e.is_unique_violation() => Ok(Err(PersonError::Conflict)),
        Err(e) => Err(e),
    }
}

/// Creates a person, audited.
pub async fn create(
    app: &AppState,
    caller: &Caller,
    key: &AdminKey,
    record: NewPersonRecord,
    now: DateTime<Utc>,
) -> Result<Person, PersonError> {
    if !key.can_see(&record.organisation) {
        return Err(PersonError::OrganisationNotFound);
    }
    let caller = caller.clone();
    let key = key.clone();
    app.db(move |c| {
        c.write_transaction(|c| {
            if organisations::find(c, &record.organisation)?.is_none() {
                return Ok(Err(PersonError::OrganisationNotFound));
            }
            // A savepoint, so a refused insert leaves the transaction usable on PostgreSQL.
            let inserted = unique_conflict(c.write_transaction(|c| {
                people::insert(
                    c,
                    &NewPerson {
                        organisation_code: &record.organisation,
                        employee_number: record.employee_number.as_str(),
                        first_name: record.first_name.as_str(),
                        last_name: record.last_name.as_str(),
                        date_of_birth: record.date_of_birth.date(),
                        work_email: record.work_email.as_str(),
                        smartcard_subject: record.smartcard_subject.as_deref(),
                        language: &record.language,
                    },
                    now,
                )
            }))?;
            let person = match inserted {
                Ok(person) => person,
                Err(e) => return Ok(Err(e)),
            };
            consequences::smartcard_linked(c, &person, now)?;
            audit::record(
                c,
                &caller,
                EventType::AdminPersonCreated,
                None,
                &key.actor(),
                &json!({"person_id": person.id, "organisation": person.organisation_code.as_str()}),
                now,
            )?;
            Ok(Ok(person))
        })
    })
    .await
    .map_err(Failure::from)?
}

/// Changes a person, audited; a new work email or smartcard applies its consequences (links
/// cancelled, notices sent, workplace sessions of the old card ended) in the same transaction.
pub async fn update(
    app: &AppState,
    caller: &Caller,
    key: &AdminKey,
    id: PersonId,
    update: PersonUpdate,
    if_match: Option<String>,
    now: DateTime<Utc>,
) -> Result<Person, PersonError> {
    let caller = caller.clone();
    let key = key.clone();
    let digests = app.config.audit_digest_key.clone();
    let hold = super::contact_change_hold(&app.config);
    let person = app
        .db(move |c| {
            c.write_transaction(|c| {
                let keys = Keys {
                    key: &key,
                    digests: &digests,
                };
                // A person the key cannot see is not found, whatever `If-Match` says: a
                // version refusal would tell that the id exists in another organisation.
                if let Some(expected) = &if_match
                    && let Some(current) = people::find_for_update(c, &id)?
                    && key.can_see(&current.organisation_code)
                    && !versions::if_match_allows(expected, &versions::tag(current.updated_at))
                {
                    return Ok(Err(PersonError::Stale(versions::Stale)));
                }
                update_in_transaction(c, &caller, &keys, &id, &update, hold, now)
            })
        })
        .await
        .map_err(Failure::from)??;
    Ok(person)
}

/// The administrator's key and the key of the audit's digests.
struct Keys<'a> {
    key: &'a AdminKey,
    digests: &'a DigestKey,
}

fn update_in_transaction(
    conn: &mut DbConnection,
    caller: &Caller,
    keys: &Keys<'_>,
    id: &PersonId,
    update: &PersonUpdate,
    hold: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Result<Person, PersonError>, RepoError> {
    let Keys { key, digests } = *keys;
    let Some(before) = visible_person(conn, key, id)? else {
        return Ok(Err(PersonError::NotFound));
    };
    let changes = PersonChanges {
        first_name: update.first_name.as_ref().map(PersonName::as_str),
        last_name: update.last_name.as_ref().map(PersonName::as_str),
        work_email: update.work_email.as_ref().map(WorkEmail::as_str),
        date_of_birth: update.date_of_birth.as_ref().map(DateOfBirth::date),
        smartcard_subject: update.smartcard_subject.as_ref().map(Option::as_deref),
        language: update.language.as_deref(),
    };
    let after =
        match unique_conflict(conn.write_transaction(|c| people::update(c, id, &changes, now)))? {
            Ok(Some(after)) => after,
            Ok(None) => return Ok(Err(PersonError::NotFound)),
            Err(e) => return Ok(Err(e)),
        };
    let email_changed = after.work_email != before.work_email;
    let after = if email_changed || after.smartcard_subject != before.smartcard_subject {
        let old_email = email_changed.then_some(before.work_email.as_str());
        people::remember_previous_email(conn, id, old_email, now + hold, now)?;
        people::find(conn, id)?.ok_or_else(|| RepoError::Corrupt("person vanished".into()))?
    } else {
        after
    };
    let actor = key.actor();
    audit::record(
        conn,
        caller,
        EventType::AdminPersonUpdated,
        None,
        &actor,
        &json!({"person_id": after.id, "fields": update.fields()}),
        now,
    )?;
    if after.work_email != before.work_email {
        consequences::work_email_changed(
            conn,
            caller,
            &actor,
            digests,
            &after,
            &before.work_email,
            now,
        )?;
    }
    if after.smartcard_subject != before.smartcard_subject {
        let change = consequences::CardChange {
            person: &after,
            old_subject: before.smartcard_subject.as_deref(),
            old_email: (after.work_email != before.work_email)
                .then_some(before.work_email.as_str()),
        };
        consequences::smartcard_changed(conn, caller, &actor, digests, &change, now)?;
    }
    Ok(Ok(after))
}
