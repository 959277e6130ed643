//! Accounts: usernames stay unique, and a person gets one account, when many ask at once.

use std::collections::BTreeSet;
use std::sync::Barrier;

use chrono::{NaiveDate, Utc};
use esr_domain::{ApprovalMode, InternetAccessStatus, OrganisationCode};
use esr_persistence::accounts;
use esr_persistence::organisations::{self, NewOrganisation};
use esr_persistence::people::{self, NewPerson, Person};
use esr_persistence::{DbPool, RepoError};

use crate::both_backends;
use crate::helpers::TestDb;

both_backends!(
    same_names_at_once_get_distinct_usernames,
    one_person_asking_at_once_gets_one_account,
);

/// Concurrent writers; at most the default pool size (10).
const THREADS: usize = 8;

/// A migrated database with organisation 999 and `n` people called Alex Taylor.
fn alex_taylors(db: &TestDb, n: usize) -> (DbPool, Vec<Person>) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let org = OrganisationCode::parse("999").unwrap();
    organisations::upsert(
        &mut conn,
        &NewOrganisation {
            code: &org,
            name: "Demo NHS Trust",
            internet_access_approval: ApprovalMode::Automatic,
        },
        Utc::now(),
    )
    .unwrap();
    let people = (0..n)
        .map(|i| {
            people::insert(
                &mut conn,
                &NewPerson {
                    organisation_code: &org,
                    employee_number: &format!("E{i}"),
                    first_name: "Alex",
                    last_name: "Taylor",
                    date_of_birth: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                    work_email: &format!("alex.taylor{i}@demo.example.org"),
                    smartcard_subject: None,
                    language: "en",
                },
                Utc::now(),
            )
            .unwrap()
        })
        .collect();
    (pool, people)
}

/// Each thread, released together, creates (or finds) the account of `people[i]` in its own
/// write transaction; returns (account id, username) per thread.
fn race(pool: &DbPool, people: &[&Person]) -> Vec<(String, String)> {
    let start = Barrier::new(people.len());
    std::thread::scope(|s| {
        let workers: Vec<_> = people
            .iter()
            .map(|person| {
                let start = &start;
                s.spawn(move || {
                    let mut conn = pool.get().expect("one connection per thread");
                    start.wait();
                    let account = conn
                        .write_transaction(|c| {
                            accounts::find_or_create_for_person(
                                c,
                                person,
                                InternetAccessStatus::NotRequested,
                                Utc::now(),
                            )
                        })
                        .map_err(|e: RepoError| format!("{e}: {e:?}"))
                        .expect("no error under contention")
                        .expect("a username");
                    (
                        account.id.into_string(),
                        account.username.as_str().to_owned(),
                    )
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker thread"))
            .collect()
    })
}

fn same_names_at_once_get_distinct_usernames(db: &TestDb) {
    let (pool, people) = alex_taylors(db, THREADS);
    let everyone: Vec<&Person> = people.iter().collect();
    let usernames: BTreeSet<String> = race(&pool, &everyone).into_iter().map(|(_, u)| u).collect();
    let expected: BTreeSet<String> = (1..=THREADS).map(|n| format!("999ATAYLOR{n:02}")).collect();
    assert_eq!(usernames, expected);
}

fn one_person_asking_at_once_gets_one_account(db: &TestDb) {
    let (pool, people) = alex_taylors(db, 1);
    let same: Vec<&Person> = std::iter::repeat_n(&people[0], THREADS).collect();
    let results = race(&pool, &same);
    let ids: BTreeSet<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert_eq!(results[0].1, "999ATAYLOR01");
    let held = accounts::for_person(&mut pool.get().unwrap(), &people[0].id).unwrap();
    assert_eq!(held.len(), 1);
}
