### ESR Access: API problem titles and details, and rule-violation messages (English).
###
### Ids:
###   problem-<code>-title            the title of problem <code>
###   problem-<code>                  its usual detail
###   problem-<code>--<variant>       another detail of the same code (another call site or match arm)
###   problem-<code>--<variant>-title only where that variant's title differs from problem-<code>-title
###   violation-<code>[--<variant>]   the message of a `Coded` value or of an API-made violation
###
### The English is exactly what the code sends today (values become variables): format with
### `FluentBundle::set_use_isolating(false)`, or every placeable gets U+2068/U+2069 around it and
### text comparisons fail. crates/api/locales/MAPPING.md says where each id is used and where
### each variable's value comes from.


## HTTP status fallbacks (ProblemSpec::for_status and the routing fallback)

# problem/mod.rs: ProblemSpec::for_status, 400
problem-bad-request-title = Bad Request
problem-bad-request = The request could not be understood.
# problem/mod.rs: RequestError::Payload; routes/admin/people_import.rs: ImportError::Read
problem-bad-request--unreadable-body = The request body could not be read: { $reason }.

# problem/mod.rs: ProblemSpec::for_status, 401
problem-unauthorized-title = Unauthorized
problem-unauthorized = Authentication is required.

# problem/mod.rs: ProblemSpec::for_status, 403
problem-forbidden-title = Forbidden
problem-forbidden = You are not allowed to do this.

# problem/mod.rs: ProblemSpec::for_status, 404
problem-not-found-title = Not Found
problem-not-found = There is nothing at this address.
# problem/mod.rs: no_route_problem (an address that does not exist)
problem-not-found--no-route = There is nothing at this address. The API is described at /api-docs/openapi.json.

# problem/mod.rs: ProblemSpec::for_status, 405
problem-method-not-allowed-title = Method Not Allowed
problem-method-not-allowed = This address does not accept that method; the Allow header lists those it does.
# openapi.rs: no_route (the path exists with other methods)
problem-method-not-allowed--use-allowed = { $method } is not allowed here; use { $allowed }.

# problem/mod.rs: ProblemSpec::for_status, 413
problem-payload-too-large-title = Payload Too Large
problem-payload-too-large = The request body is too large.
# problem/mod.rs: RequestError::TooLarge
problem-payload-too-large--limit = The request body is larger than the limit of { $limit } bytes.
# routes/admin/people_import.rs: ImportHttpError::TooLarge, partly_imported = true
problem-payload-too-large--import-partly-imported = The body is larger than the limit of { $limit } bytes. Lines before the limit may have been stored; the import is idempotent, so split the file and import each part.
# routes/admin/people_import.rs: ImportHttpError::TooLarge, partly_imported = false
problem-payload-too-large--import-nothing-imported = The body is larger than the limit of { $limit } bytes; nothing was imported. Split the file and import each part.

# problem/mod.rs: ProblemSpec::for_status, 415
problem-unsupported-media-type-title = Unsupported Media Type
problem-unsupported-media-type = The request body has a content type this address does not accept.
# problem/mod.rs: RequestError::UnsupportedMediaType
problem-unsupported-media-type--json = Send the request body as application/json.
# routes/admin/people_import.rs: ImportHttpError::UnsupportedMediaType
problem-unsupported-media-type--csv = Send the people file as text/csv (UTF-8).

# problem/mod.rs: ProblemSpec::for_status, 429
problem-too-many-requests-title = Too Many Requests
problem-too-many-requests = Too many requests; try again later.
# problem/common.rs: Limited (every rate limit but the recovery forms')
problem-too-many-requests--attempts = Too many attempts. Please wait before trying again.
# routes/recovery.rs: RecoveryError::RateLimited
problem-too-many-requests--recovery = Too many requests. Please wait before trying again.

# problem/mod.rs: ProblemSpec::for_status, 503
problem-service-unavailable-title = Service Unavailable
problem-service-unavailable = The service is busy or a dependency is unavailable; try again shortly.

# problem/mod.rs: ProblemSpec::for_status, other 5xx (title: the status's canonical reason)
problem-internal-error-title = { $status_code ->
    [500] Internal Server Error
    [501] Not Implemented
    [502] Bad Gateway
    [504] Gateway Timeout
    [505] HTTP Version Not Supported
    [506] Variant Also Negotiates
    [507] Insufficient Storage
    [508] Loop Detected
    [510] Not Extended
    [511] Network Authentication Required
   *[other] Error
}
problem-internal-error = Something went wrong on our side. Please try again later; quote the request id if you contact support.

# problem/mod.rs: ProblemSpec::for_status, any other status (title: the status's canonical reason)
problem-http-error-title = { $status_code ->
    [402] Payment Required
    [406] Not Acceptable
    [407] Proxy Authentication Required
    [408] Request Timeout
    [409] Conflict
    [410] Gone
    [411] Length Required
    [412] Precondition Failed
    [414] URI Too Long
    [416] Range Not Satisfiable
    [417] Expectation Failed
    [418] I'm a teapot
    [421] Misdirected Request
    [422] Unprocessable Entity
    [423] Locked
    [424] Failed Dependency
    [426] Upgrade Required
    [428] Precondition Required
    [431] Request Header Fields Too Large
    [451] Unavailable For Legal Reasons
   *[other] Error
}
problem-http-error = The request failed.


## Request parsing (problem/mod.rs: RequestError, json_objects_only)

# problem/mod.rs: RequestError::MalformedJson ($reason: serde_json's error text)
problem-malformed-json-title = Malformed JSON
problem-malformed-json = The request body is not valid JSON: { $reason }.

# problem/mod.rs: RequestError::InvalidBody ($reason: serde_json's error text)
problem-invalid-request-body-title = Invalid request body
problem-invalid-request-body = The request body does not match the expected schema: { $reason }.
# problem/mod.rs: json_objects_only (a JSON array as body)
problem-invalid-request-body--not-an-object = The request body does not match the expected schema: the body must be a JSON object ({ "{" } … { "}" }) with the documented fields.

# problem/mod.rs: RequestError::BodyTimeout
problem-request-timeout-title = Request Timeout
problem-request-timeout = The request body did not arrive within { $seconds } seconds.
# routes/admin/people_import.rs: ImportHttpError::Stalled, partly_imported = true
problem-request-timeout--import-stalled-partly-imported = The body paused for more than { $seconds } seconds. The batches stored before the pause are kept; send the whole file again (the import is idempotent).
# routes/admin/people_import.rs: ImportHttpError::Stalled, partly_imported = false
problem-request-timeout--import-stalled = The body paused for more than { $seconds } seconds.

# problem/mod.rs: RequestError::InvalidPath ($reason: actix's path error text)
problem-invalid-path-parameter-title = Invalid path parameter
problem-invalid-path-parameter = { $reason }

# problem/mod.rs: RequestError::InvalidQuery ($reason: actix's query error text)
problem-invalid-query-parameter-title = Invalid query parameter
problem-invalid-query-parameter = { $reason }
# routes/admin/mod.rs: page_limit; routes/organisations.rs: list_organisations
problem-invalid-query-parameter--limit-range = limit must be between 1 and 100
# routes/admin/mod.rs: bad_cursor; routes/organisations.rs: list_organisations
problem-invalid-query-parameter--bad-cursor = cursor is not one this API returned
# routes/admin/mod.rs: updated_since
problem-invalid-query-parameter--updated-since = updated_since is an RFC 3339 time, e.g. 2026-12-07T09:00:00Z
# routes/admin/accounts.rs: list_accounts
problem-invalid-query-parameter--unknown-organisation-code = unknown organisation code
problem-invalid-query-parameter--unknown-status = unknown status
problem-invalid-query-parameter--unknown-internet-access-status = unknown internet access status
problem-invalid-query-parameter--unknown-person-id = unknown person_id
problem-invalid-query-parameter--unknown-id = unknown id
# routes/admin/people.rs: list_people
problem-invalid-query-parameter--invalid-organisation-code = invalid organisation code
problem-invalid-query-parameter--invalid-employee-number = invalid employee number
problem-invalid-query-parameter--invalid-email = invalid email
# routes/admin/audit_events.rs: time (since / until)
problem-invalid-query-parameter--time = { $parameter } must be an RFC 3339 time, e.g. 2026-11-25T00:00:00Z
# routes/admin/audit_events.rs: AuditQuery::parse
problem-invalid-query-parameter--type-length = type is 1 to 100 characters
problem-invalid-query-parameter--account = account must be an ESR username or an account id
# routes/admin/audit_events.rs: list_outbox
problem-invalid-query-parameter--outbox-status = status is pending, sending, sent or dead
# routes/admin/people_import.rs: ImportQuery::feed_for
problem-invalid-query-parameter--max-leavers-needs-full-feed = max_leavers_percent needs full_feed
problem-invalid-query-parameter--full-feed-not-covered = full_feed must be an organisation this key covers
problem-invalid-query-parameter--max-leavers-range = max_leavers_percent is 1 to 100


## Shared failures (problem/common.rs)

# problem/common.rs: database_unavailable_problem
problem-database-unavailable-title = Service Unavailable
problem-database-unavailable = The service is busy or its database is unavailable; try again shortly.
# routes/admin/people_import.rs: import_interrupted
problem-database-unavailable--import-interrupted = The database became unavailable during the import; batches stored before it stay. Import the file again shortly (it is idempotent).

# problem/common.rs: busy_problem
problem-busy-title = Service Unavailable
problem-busy = The service is busy. Please try again in a moment.

# problem/common.rs: policy_problem
problem-password-policy-title = Password not accepted
problem-password-policy = The new password does not meet the password policy; see violations.

# problem/common.rs: contact_change_hold_problem (the detail comes from each caller)
problem-contact-change-hold-title = Recently changed details
# routes/internet_access.rs: CONTACT_CHANGE_HOLD (SetAtWorkError::ContactChangeHold)
problem-contact-change-hold = Your work email or smartcard details were changed recently. For your security you can set your password once the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.
# routes/me.rs: ChangeError::ContactChangeHold
problem-contact-change-hold--password-change = Your work email or smartcard details were changed recently. For your security, a smartcard sign-in cannot change your password until the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.
# routes/my_sessions.rs: EndSessionError::ContactChangeHold
problem-contact-change-hold--sessions = Your work email or smartcard details were changed recently. For your security, a smartcard sign-in cannot see or end your other sessions until the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.
# routes/factors.rs: FactorError::ContactChangeHold
problem-contact-change-hold--factors = Your work email or smartcard details were changed recently. For your security, sign-in methods can be changed once the waiting time after the change has passed (see Retry-After), or now from a session signed in with a sign-in method you already have. If you did not expect the change, contact your System Administrator.
# routes/admin/accounts.rs: AdminActionError::ContactChangeHold (409, AdminError::Conflict)
problem-contact-change-hold--admin-recovery-email-title = Conflict
problem-contact-change-hold--admin-recovery-email = The work email or smartcard of this person changed recently, so no recovery email is sent until { $until }. The old and the new address have been told of the change.


## Bearer tokens and API keys

# auth.rs: AuthError::Missing
problem-unauthenticated-title = Unauthorized
problem-unauthenticated = Send an access token: Authorization: Bearer <token> (from POST /v1/auth/login).

# auth.rs: invalid_token_problem (AuthError::Invalid / SessionEnded, ChangeError::SessionEnded, SetAtWorkError::SessionEnded)
problem-invalid-token-title = Unauthorized
problem-invalid-token = The access token is invalid or expired, or its session has ended. Refresh it or log in again.
# routes/me.rs: MeError::AccountGone; routes/internet_access.rs: account_gone
problem-invalid-token--account-gone = The account of this session no longer exists.

# auth.rs: AuthError::EnrolmentRequired
problem-mfa-enrolment-required-title = Add a sign-in method
problem-mfa-enrolment-required = Your organisation requires a second sign-in method (an authenticator app or a passkey). Add one under /v1/me/factors, then log in again.

# admin_auth.rs: AdminAuthError::InvalidKey
problem-invalid-api-key-title = Unauthorized
problem-invalid-api-key = Send a live administrator API key: Authorization: Bearer esr_… (created with `esr-api create-api-key`).

# admin_auth.rs: AdminAuthError::ReadOnly
problem-api-key-read-only-title = Forbidden
problem-api-key-read-only = This API key is read-only; changes need a key created with --access write.

# admin_auth.rs: AdminAuthError::ScopeTooNarrow
problem-api-key-scope-title = Forbidden
problem-api-key-scope = This operation needs a key scoped to all organisations (--scope all).


## Password login, refresh, second step and logout (routes/auth.rs)

# routes/auth.rs: LoginError::InvalidCredentials (detail: esr_domain::LoginError::InvalidCredentials.message())
problem-invalid-credentials-title = Login failed
problem-invalid-credentials = The username or password is incorrect, or the account is locked. Use Forgotten | Request Username/Password to get your username and reset your password, or Unlock Account to unlock it

# routes/auth.rs: LoginError::NotApproved (detail: esr_domain::LoginError::InternetAccessNotApproved.message())
problem-internet-access-not-approved-title = Login failed
problem-internet-access-not-approved = Internet access has not been approved for this account. Log into ESR with your smartcard at work and use Manage Internet Access
# routes/internet_access.rs: SetAtWorkError::NotApproved(Pending)
problem-internet-access-not-approved--pending-title = Internet access not approved
problem-internet-access-not-approved--pending = Your request for internet access is waiting for approval by your organisation. You can set your password once it is approved.
# routes/internet_access.rs: SetAtWorkError::NotApproved(any other status)
problem-internet-access-not-approved--not-requested-title = Internet access not approved
problem-internet-access-not-approved--not-requested = Request internet access first; you can set your password once it is approved.
# routes/admin/accounts.rs: AdminActionError::AccessNotApproved (409, AdminError::Conflict)
problem-internet-access-not-approved--admin-recovery-email-title = Conflict
problem-internet-access-not-approved--admin-recovery-email = Internet access is not approved for this account, so it has no password login to recover; approve it first.

# routes/auth.rs: LoginError::Suspended (detail: esr_domain::LoginError::AccountSuspended.message())
problem-account-suspended-title = Login failed
problem-account-suspended = This account has been suspended. Please contact the System Administrator
# routes/smartcard.rs: SmartcardError::AccountUnusable(Suspended)
problem-account-suspended--smartcard-title = Account not usable
problem-account-suspended--smartcard = Your ESR account is suspended. Please contact the System Administrator.

# routes/auth.rs: LoginError::InternetAccessLapsed
problem-internet-access-lapsed-title = Login failed
problem-internet-access-lapsed = Your internet access has lapsed because you have not logged in from home for a long time. Log into ESR using your smartcard on a computer at work and use Manage Internet Access to request internet access again.

# routes/auth.rs: LoginError::PasswordExpired
problem-password-expired-title = Login failed
problem-password-expired = Your password has expired. Use Forgotten | Request Username/Password to get a password reset link by email, or use Reset Password in Manage Internet Access at work with your smartcard.

# routes/auth.rs: LoginError::InvalidRequest (app/sessions.rs: check_login_input)
problem-invalid-request-body--missing-credentials = Enter your username and password.
problem-invalid-request-body--credentials-too-long = The username or password is too long.

# routes/auth.rs: RefreshError::InvalidRefreshToken
problem-invalid-refresh-token-title = Unauthorized
problem-invalid-refresh-token = The refresh token is invalid, expired or already used, or its session has ended. Log in again.

# routes/auth.rs: SecondFactorError::Input (SecondFactorInputError's Display)
problem-invalid-request-body--not-exactly-one-factor = give exactly one of totp_code, recovery_code and passkey
problem-invalid-request-body--totp-shape = an authenticator code is 6 digits
problem-invalid-request-body--recovery-code-shape = a recovery code is 12 letters and digits, as XXXX-XXXX-XXXX

# routes/auth.rs: SecondStepError::InvalidMfaToken
problem-invalid-mfa-token-title = Login failed
problem-invalid-mfa-token = The sign-in has expired or was already completed. Log in again with your username and password.

# routes/auth.rs: SecondStepError::WrongSecondFactor
problem-invalid-second-factor-title = Login failed
problem-invalid-second-factor = The code is not correct, or was used already. Wait for a new code in your authenticator app, or use a recovery code. Repeated wrong codes lock the account.
# routes/factors.rs: FactorError::WrongCode (confirming an authenticator app)
problem-invalid-second-factor--enrolment-code-title = Code not correct
problem-invalid-second-factor--enrolment-code = The code does not match. Check the time on your phone and enter the code your authenticator app shows now.

# routes/auth.rs: LogoutError::Body ($reason: serde_json's error text)
problem-invalid-request-body--logout-body = The body must be empty or { "{" }"refresh_token": "…"{ "}" }: { $reason }
# routes/auth.rs: LogoutError::Body (refresh token too long)
problem-invalid-request-body--logout-token-too-long = The body must be empty or { "{" }"refresh_token": "…"{ "}" }: refresh_token is longer than 128 characters


## Passkey sign-in (routes/passkey_sign_in.rs)

# routes/passkey_sign_in.rs: PasskeySignInError::Unavailable
problem-passkeys-unavailable-title = Passkeys not available
problem-passkeys-unavailable = Passkeys cannot be used with this service's address; sign in with your username and password.
# routes/factors.rs: FactorError::PasskeysUnavailable
problem-passkeys-unavailable--enrolment = Passkeys cannot be used with this service's address; use an authenticator app.

# routes/passkey_sign_in.rs: PasskeySignInError::Refused
problem-passkey-sign-in-failed-title = Login failed
problem-passkey-sign-in-failed = This passkey could not sign you in. Start again, or log in with your username and password.


## Smartcard sign-in (routes/smartcard.rs)

# routes/smartcard.rs: SmartcardError::Disabled
problem-smartcard-login-disabled-title = Smartcard sign-in unavailable
problem-smartcard-login-disabled = Smartcard sign-in is not enabled on this service.
# routes/dev_idp.rs: DevIdpError::Disabled
problem-smartcard-login-disabled--dev-idp-title = Smartcard sign-in disabled
problem-smartcard-login-disabled--dev-idp = Smartcard sign-in is disabled, so the dev identity provider has no client.

# routes/smartcard.rs: SmartcardError::RedirectUriNotAllowed
problem-redirect-uri-not-allowed-title = Redirect URI not allowed
problem-redirect-uri-not-allowed = The redirect_uri is not one this service is configured to use (ESR_OIDC_REDIRECT_URIS).

# routes/smartcard.rs: SmartcardError::InvalidRequest (app/smartcard.rs: check_callback_input)
problem-invalid-request-body--smartcard-missing-parameters = Send code, state and browser_binding.
problem-invalid-request-body--smartcard-parameter-too-long = code, state or browser_binding is too long.
# routes/smartcard.rs: StartProblems example only (never sent)
problem-invalid-request-body--empty-redirect-uri = redirect_uri is empty

# routes/smartcard.rs: SmartcardError::InvalidState
problem-smartcard-state-invalid-title = Smartcard sign-in failed
problem-smartcard-state-invalid = This smartcard sign-in has expired, was already used or was started in another browser. Please sign in with your smartcard again.

# routes/smartcard.rs: SmartcardError::CodeRejected
problem-smartcard-code-rejected-title = Smartcard sign-in failed
problem-smartcard-code-rejected = The NHS identity service did not accept this sign-in. Please sign in with your smartcard again.

# routes/smartcard.rs: SmartcardError::InvalidIdToken
problem-smartcard-token-invalid-title = Smartcard sign-in failed
problem-smartcard-token-invalid = The answer of the NHS identity service could not be verified. Please sign in with your smartcard again.

# routes/smartcard.rs: SmartcardError::AssuranceTooLow
problem-smartcard-assurance-too-low-title = Smartcard required
problem-smartcard-assurance-too-low = This sign-in is not strong enough to manage internet access. Please sign in with your NHS smartcard.

# routes/smartcard.rs: SmartcardError::NoEsrRecord
problem-no-esr-record-title = No ESR record linked to this smartcard
problem-no-esr-record = There is no ESR record linked to this smartcard. Please contact the System Administrator.

# routes/smartcard.rs: SmartcardError::OrganisationChoiceRequired
problem-organisation-choice-required-title = Choose an organisation
problem-organisation-choice-required = Your smartcard is linked to ESR records in more than one organisation. Choose the organisation to sign in to, then sign in again.

# routes/smartcard.rs: SmartcardError::AccountUnusable(Disabled or any other status but Suspended)
problem-account-disabled-title = Account not usable
problem-account-disabled = Your ESR account is disabled. Please contact the System Administrator.

# routes/smartcard.rs: SmartcardError::NoUsername (detail: UsernameError::NoUsableLetters.message())
problem-username-no-usable-letters-title = No username
problem-username-no-usable-letters = A username cannot be created from this person's names: they contain no letters A to Z. Please contact the System Administrator.

# routes/smartcard.rs: SmartcardError::NoUsername (detail: UsernameError::Exhausted.message())
problem-username-exhausted-title = No username
problem-username-exhausted = Every username for this name is already in use. Please contact the System Administrator.

# routes/smartcard.rs: SmartcardError::ProviderUnavailable
problem-identity-provider-unavailable-title = Service Unavailable
problem-identity-provider-unavailable = The NHS identity service (smartcard sign-in) is not answering. Please try again in a few minutes.


## Self-service: profile, password change, sessions, internet access (routes/me.rs, my_sessions.rs, internet_access.rs)

# routes/me.rs: ChangeError::WrongCurrentPassword
problem-current-password-incorrect-title = Current password incorrect
problem-current-password-incorrect = The current password is not correct. Repeated wrong attempts lock the account.

# routes/my_sessions.rs: EndSessionError::NotFound
problem-session-not-found-title = Not found
problem-session-not-found = No active session of yours has this id.

# routes/internet_access.rs: smartcard_required
problem-smartcard-required-title = Smartcard sign-in required
problem-smartcard-required = Manage Internet Access is only available at work: sign in to ESR with your smartcard.


## Sign-in methods (routes/factors.rs)

# routes/factors.rs: FactorError::PolicyOff
problem-mfa-off-title = Not available
problem-mfa-off = Your organisation does not use second sign-in methods.

# routes/factors.rs: FactorError::ProofRequired
problem-enrolment-proof-required-title = More proof needed
problem-enrolment-proof-required = Your password alone cannot change sign-in methods. Sign in at work with your smartcard, sign in with a sign-in method you already have, or ask for an enrolment link (POST /v1/me/factors/enrolment-link) and send its token as enrolment_token.
# routes/factors.rs: FactorError::ExistingFactorRequired
problem-enrolment-proof-required--existing-factor = You have a sign-in method already: to add or change one, sign in with it (or at work with your smartcard). Emailed links only add the first.

# routes/factors.rs: FactorError::InvalidEnrolmentToken
problem-invalid-enrolment-token-title = Link not valid
problem-invalid-enrolment-token = The enrolment link is not valid: it was used, has expired, or belongs to another account. Ask for a new one.

# routes/factors.rs: FactorError::InvalidName (app/factors.rs: factor_name)
problem-invalid-factor-name-title = Invalid name
problem-invalid-factor-name = Use at most 60 characters.
problem-invalid-factor-name--characters = Use letters, digits, spaces and punctuation only.

# routes/factors.rs: FactorError::NotFound
problem-factor-not-found-title = Not found
problem-factor-not-found = No sign-in method of yours has this id.

# routes/factors.rs: FactorError::AlreadyConfirmed
problem-factor-already-confirmed-title = Already confirmed
problem-factor-already-confirmed = This authenticator app is confirmed already.

# routes/factors.rs: FactorError::LastFactorRequired
problem-last-factor-required-title = Cannot remove
problem-last-factor-required = Your organisation requires a second sign-in method: add another before removing this one.

# routes/factors.rs: FactorError::NoFactor
problem-no-factor-title = No sign-in method
problem-no-factor = Add an authenticator app or a passkey first; recovery codes come with it.

# routes/admin/accounts.rs: AdminActionError::TooManyEmails
problem-too-many-emails-title = Too many emails
problem-too-many-emails = Administrators have asked for three recovery emails to this account in the last hour, or for half of what its mailbox may receive in an hour. Try again later.
# routes/factors.rs: FactorError::TooManyLinks
problem-too-many-emails--enrolment-links = Three links were sent to your work email address in the last hour. Use the newest, or try again later.

# routes/factors.rs: FactorError::PasskeyRejected
problem-passkey-rejected-title = Passkey not accepted
problem-passkey-rejected = The passkey could not be checked. Start again from this service's own page, and unlock the passkey with your fingerprint, face or PIN when asked.


## Recovery: Forgotten, Unlock Account, reset links (routes/recovery.rs)

# routes/recovery.rs: RecoveryError::InvalidForm
problem-invalid-form-title = Check your details
problem-invalid-form = Some of the details entered are not valid; see violations.

# routes/recovery.rs: RecoveryError::InvalidLink
problem-invalid-link-title = Link not valid
problem-invalid-link = This link is not valid: it may have expired (links are active for 4 hours), been used already, or been replaced by a newer email. Please use Forgotten | Request Username/Password to get a new one.

# routes/recovery.rs: RecoveryError::UsernameMismatch (detail: TokenError::UsernameMismatch.message())
problem-username-mismatch-title = Username does not match
problem-username-mismatch = The username does not match this link. Enter the ESR username shown in the email (Example: 999JSMITH01)


## Organisations (routes/organisations.rs)

# routes/organisations.rs: OrganisationError::InvalidCode (detail: OrganisationCodeError.message())
problem-invalid-organisation-code-title = Invalid organisation code
problem-invalid-organisation-code = Organisation code must be 3 letters or digits, for example 241

# routes/organisations.rs: OrganisationError::NotFound
problem-organisation-not-found-title = Organisation not found
problem-organisation-not-found = No organisation has this code.
# routes/admin/organisations.rs: not_found (AdminError::NotFound)
problem-organisation-not-found--admin-title = Not Found
problem-organisation-not-found--admin = Organisation not found.


## Administration (routes/admin/*)

# routes/admin/accounts.rs: not_found (AdminError::NotFound)
problem-account-not-found-title = Not Found
problem-account-not-found = Account not found.

# routes/admin/people.rs: not_found (AdminError::NotFound)
problem-person-not-found-title = Not Found
problem-person-not-found = Person not found.

# routes/admin/audit_events.rs: message_not_found (AdminError::NotFound)
problem-outbox-message-not-found-title = Not Found
problem-outbox-message-not-found = Outbox message not found.

# routes/admin/api_keys.rs: key_not_found (AdminError::NotFound)
problem-api-key-not-found-title = Not Found
problem-api-key-not-found = API key not found.

# routes/admin/mod.rs: AdminError::Invalid
problem-invalid-request-body--violations = The request breaks the rules listed in violations; nothing was changed.

# routes/admin/mod.rs: AdminError::PreconditionFailed
problem-precondition-failed-title = Precondition Failed
problem-precondition-failed = The record has changed since it was read (its ETag is not the If-Match sent); nothing was changed. Read it again, then repeat the change.

# routes/admin/mod.rs: From<TransitionError> (detail: TransitionError::Account message + ".")
problem-account-status-conflict-title = Conflict
problem-account-status-conflict = This account cannot be { $action ->
        [lock] locked
        [unlock] unlocked
        [suspend] suspended
        [reactivate] reactivated
        [disable] disabled
       *[enable] enabled
    } because it is { $current_status ->
        [active] active
        [locked] locked
        [suspended] suspended
       *[disabled] disabled
    }.

# routes/admin/mod.rs: From<TransitionError> (detail: TransitionError::InternetAccess message + ".")
problem-internet-access-status-conflict-title = Conflict
problem-internet-access-status-conflict = Internet access cannot be { $action ->
        [approve] approved
        [reject] rejected
        [revoke] revoked
       *[renew] renewed
    } because it is { $current_status ->
        [not_requested] not requested
        [pending] pending
        [approved] approved
        [rejected] rejected
       *[revoked] revoked
    }.
# routes/admin/mod.rs: From<TransitionError> (InternetAccessAction::Request)
problem-internet-access-status-conflict--request = Internet access cannot be requested because it is already { $current_status ->
        [not_requested] not requested
        [pending] pending
        [approved] approved
        [rejected] rejected
       *[revoked] revoked
    }.

# routes/admin/accounts.rs: AdminActionError::AccountNotUsable
problem-account-not-usable-title = Conflict
problem-account-not-usable = The account is suspended or disabled, so no recovery email is sent; reactivate it first.

# routes/admin/people.rs: PersonError::Conflict
problem-person-conflict-title = Conflict
problem-person-conflict = Another person has this employee number in this organisation, or this smartcard subject.

# routes/admin/audit_events.rs: recipient_changed
problem-outbox-recipient-changed-title = Conflict
problem-outbox-recipient-changed = The work email on record has changed since this message was queued, so it is not sent to the old address. The person can ask for a new one (Forgotten), or send the recovery email to the address on record.

# routes/admin/audit_events.rs: message_not_dead
problem-outbox-message-not-dead-title = Conflict
problem-outbox-message-not-dead = Only dead messages are retried; this one is { $current_status }.

# routes/admin/api_keys.rs: create_key_problem, CreateKeyError::NameTaken
problem-api-key-name-taken-title = Conflict
problem-api-key-name-taken = An API key named { $name } exists already; choose another name.

# routes/admin/organisations.rs: organisation_exists
problem-organisation-exists-title = Conflict
problem-organisation-exists = An organisation with this code exists already; update it instead.

# routes/admin/people_import.rs: ImportError::Empty
problem-empty-import-title = Empty file
problem-empty-import = the file is empty: it must start with the header line { $columns }

# routes/admin/people_import.rs: ImportError::Header
problem-invalid-import-header-title = Wrong header line
problem-invalid-import-header = the first line must be the header { $columns }; found { $found }. Nothing was imported.
# app/import/mod.rs: check_header, a first record longer than the record limit (found = "(a record longer than the limit)")
problem-invalid-import-header--record-too-long = the first line must be the header { $columns }; found "(a record longer than the limit)". Nothing was imported.


## Operations, reference pages and dev tools

# routes/operations.rs: NotReady::Database
problem-not-ready-title = Service Unavailable
problem-not-ready = The database is unreachable.
# routes/operations.rs: NotReady::Pending
problem-not-ready--migrations-pending = { $count } database migration(s) are pending; run `esr-api migrate`.

# routes/problems.rs: UnknownProblem
problem-problem-type-not-found-title = Not Found
problem-problem-type-not-found = No problem of this API has this code; /problems lists them all.

# routes/app_association.rs: NoAppConfigured
problem-app-association-not-configured-title = Not Found
problem-app-association-not-configured = No app of this platform is associated with this service.

# routes/dev.rs: MailboxError::NotFileTransport
problem-mailbox-unavailable-title = No dev mailbox
problem-mailbox-unavailable = Emails are not written to files in this configuration (ESR_EMAIL_TRANSPORT is not `file`).

# routes/dev_idp.rs: DevIdpError::InvalidRequest
problem-invalid-request-title = Invalid authorization request
problem-invalid-request = { $parameter } is required
problem-invalid-request--too-many-sign-ins = too many sign-ins in progress
problem-invalid-request--unknown-client-id = unknown client_id
problem-invalid-request--redirect-uri-not-registered = redirect_uri is not registered
problem-invalid-request--response-type = response_type must be code
problem-invalid-request--scope = scope must include openid
problem-invalid-request--code-challenge-method = code_challenge_method must be S256
problem-invalid-request--no-smartcard = employee { $employee_number } has no smartcard linked
problem-invalid-request--ambiguous-employee = employee number { $employee_number } exists in several organisations: use the smartcard subject
problem-invalid-request--grant-type = grant_type must be authorization_code

# routes/dev_idp.rs: DevIdpError::InvalidGrant
problem-invalid-grant-title = Invalid grant
problem-invalid-grant = the code has expired
problem-invalid-grant--unknown-code = the code is unknown or already used
problem-invalid-grant--redirect-uri-mismatch = redirect_uri does not match
problem-invalid-grant--pkce-mismatch = the PKCE code_verifier does not match
# routes/dev_idp.rs: DevIdpError catalogue example only (never sent)
problem-invalid-grant--example = the code is unknown, used or expired

# routes/dev_idp.rs: DevIdpError::InvalidClient
problem-invalid-client-title = Invalid client
problem-invalid-client = the client assertion does not verify
problem-invalid-client--client-id-mismatch = client_id does not match the code
problem-invalid-client--wrong-secret = wrong client secret
problem-invalid-client--assertion-required = a jwt-bearer client assertion is required
problem-invalid-client--assertion-missing = client_assertion is missing
problem-invalid-client--no-client-key = no client key
problem-invalid-client--assertion-malformed = the client assertion is malformed
problem-invalid-client--assertion-key = the client assertion's key or algorithm is not the client's


## Violations: esr_domain `Coded` messages (violations[].message, and some problem details)

# password/policy.rs: Violation (password policy)
violation-password-too-short = Password must be a minimum of { $min_length } characters
violation-password-too-long = Password must be a maximum of { $max_length } characters
violation-password-invalid-characters = Password must not contain line breaks, tabs or other control characters
violation-password-common = Commonly used passwords, like "password1" are not allowed
violation-password-contains-context = Passwords must not contain { $context ->
        [username] your username
        [name] your name
        [email_address] your email address
        [organisation_name] the name of your organisation
        [date_of_birth] your date of birth
       *[personal_detail] your personal details
    }
violation-password-repetitive = Passwords must not be mostly repeated characters or sequences, like "aaaaaaaaaaaa" or "123456789012"
violation-password-confirmation-mismatch = Password and Confirm Password must match
violation-password-reused = { $history_depth ->
        [1] Passwords must not be the same as the previous password
       *[other] Passwords must not be the same as any previous { $history_depth } passwords
    }
violation-password-breached = This password has appeared in a data breach and cannot be used. Please choose a different password

# hashing.rs: HashError
violation-password-hash-invalid-params = Your password could not be saved because of a system problem. Please try again later
violation-password-hash-failed = Your password could not be saved because of a system problem. Please try again later

# username.rs: UsernameError
violation-username-required = Enter your ESR username (Example: 999JSMITH01)
violation-invalid-username = Enter a valid ESR username (Example: 999JSMITH01)
violation-username-no-usable-letters = A username cannot be created from this person's names: they contain no letters A to Z. Please contact the System Administrator.
violation-username-exhausted = Every username for this name is already in use. Please contact the System Administrator.

# email.rs: EmailError
violation-email-required = Enter your work email address (Example: first.last@domain.com)
violation-email-too-long = Email address must be 254 characters or fewer
violation-invalid-email = Enter a valid work email address (Example: first.last@domain.com)

# date_of_birth.rs: DateOfBirthError
violation-invalid-date-of-birth = Enter your date of birth as year-month-day, for example 1984-03-17
violation-date-of-birth-in-future = Date of birth must be in the past
violation-implausible-date-of-birth = Date of birth must give an age between { $min_age } and { $max_age } years

# person.rs: PersonNameError
violation-name-required = Enter a name
violation-name-too-long = Name must be { $max_length } characters or fewer
violation-invalid-name = Name must not contain tabs, line breaks, or invisible or text-direction characters

# person.rs: EmployeeNumberError
violation-employee-number-required = Enter an employee number
violation-employee-number-too-long = Employee number must be { $max_length } characters or fewer
violation-invalid-employee-number = Employee number must contain only letters, digits and hyphens

# person.rs: SmartcardSubjectError
violation-smartcard-subject-required = Enter the smartcard subject (the CIS2 uid)
violation-smartcard-subject-too-long = Smartcard subject must be { $max_length } characters or fewer
violation-invalid-smartcard-subject = Smartcard subject must contain only printable ASCII characters without spaces

# organisation.rs: OrganisationCodeError
violation-invalid-organisation-code = Organisation code must be 3 letters or digits, for example 241

# api_key.rs: ApiKeyNameError
violation-invalid-api-key-name = An API key name is 1 to 64 letters, digits, '.', '_' or '-'

# token.rs: TokenError (reset and unlock links)
violation-token-malformed = This link is not valid. Please check you copied the whole link from the email, or request a new one
violation-token-wrong-purpose = This link is not valid. Please check you copied the whole link from the email, or request a new one
violation-token-used = This link has already been used. Please request a new one
violation-token-invalidated = This link is no longer valid because a newer one was sent or your password was changed. Please use the most recent email, or request a new one
violation-token-burned = This link can no longer be used because the wrong username was entered too many times. Please request a new one
violation-token-expired = This password reset link has expired. Please request a new one
violation-token-expired--unlock = This unlock link has expired. Please request a new one
violation-token-username-mismatch = The username does not match this link. Enter the ESR username shown in the email (Example: 999JSMITH01)

# login.rs: LoginError
violation-invalid-credentials = The username or password is incorrect, or the account is locked. Use Forgotten | Request Username/Password to get your username and reset your password, or Unlock Account to unlock it
violation-internet-access-not-approved = Internet access has not been approved for this account. Log into ESR with your smartcard at work and use Manage Internet Access
violation-account-suspended = This account has been suspended. Please contact the System Administrator

# status.rs: TransitionError::Account
violation-account-status-conflict = This account cannot be { $action ->
        [lock] locked
        [unlock] unlocked
        [suspend] suspended
        [reactivate] reactivated
        [disable] disabled
       *[enable] enabled
    } because it is { $current_status ->
        [active] active
        [locked] locked
        [suspended] suspended
       *[disabled] disabled
    }

# status.rs: TransitionError::InternetAccess (every action but Request)
violation-internet-access-status-conflict = Internet access cannot be { $action ->
        [approve] approved
        [reject] rejected
        [revoke] revoked
       *[renew] renewed
    } because it is { $current_status ->
        [not_requested] not requested
        [pending] pending
        [approved] approved
        [rejected] rejected
       *[revoked] revoked
    }
# status.rs: TransitionError::InternetAccess (InternetAccessAction::Request)
violation-internet-access-status-conflict--request = Internet access cannot be requested because it is already { $current_status ->
        [not_requested] not requested
        [pending] pending
        [approved] approved
        [rejected] rejected
       *[revoked] revoked
    }

# status.rs: UnknownValueError
violation-invalid-account-status = Unknown account status value
violation-invalid-internet-access-status = Unknown internet access status value
violation-invalid-approval-mode = Approval mode must be "automatic" or "manual"
violation-invalid-token-purpose = Unknown token purpose value
violation-invalid-value = Unknown { $what } value
# second_factor.rs: MfaPolicy::parse (UnknownValueError "mfa-policy", code invalid-value)
violation-invalid-value--mfa-policy = Unknown mfa policy value


## Violations made in crates/api (violation_of, and Violation literals)

# routes/me.rs: ChangeError::WrongCurrentPassword
violation-current-password-incorrect = The current password is not correct

# routes/recovery.rs: RecoveryError::UsernameMismatch (message: TokenError::UsernameMismatch.message())
violation-username-mismatch = The username does not match this link. Enter the ESR username shown in the email (Example: 999JSMITH01)

# routes/admin/people.rs: organisation_not_found
violation-organisation-not-found = No organisation has this code.
# routes/admin/api_keys.rs: create_key_problem, CreateKeyError::UnknownOrganisation
violation-organisation-not-found--api-key-scope = No organisation has the code { $organisation_code }.

# routes/admin/people.rs: check_subject
violation-invalid-smartcard-subject--admin-person = A smartcard subject is 1 to 64 letters, digits, '.', '_' or '-'.

# routes/admin/people.rs: check_language
violation-invalid-language = The language is en (English) or cy (Welsh).

# routes/admin/api_keys.rs: parse_new_key (ApiKeyScopeError's Display)
violation-invalid-api-key-scope = the scope is `all` or an organisation code (3 letters or digits)

# routes/admin/api_keys.rs: parse_new_key (ApiKeyAccessError's Display)
violation-invalid-api-key-access = the access is `read` or `write`

# routes/admin/organisations.rs: check_name
violation-invalid-organisation-name = The name is 1 to 200 characters, without control, invisible or text-direction characters.

# routes/admin/organisations.rs: check_days
violation-invalid-days = A number of days from 1 to 3650, or null for none.
