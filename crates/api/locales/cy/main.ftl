### ESR Access: teitlau a manylion problemau'r API, a negeseuon torri rheolau (Cymraeg).
###
### Drafft gweithio i'w adolygu gan wasanaeth cyfieithu GIG Cymru, yn yr un termau â'r
### templedi e-bost (crates/api/src/email/templates.rs): cyfrinair, enw defnyddiwr, ailosod,
### datgloi, mewngofnodi, cerdyn clyfar, dull mewngofnodi, ap dilysu, allwedd mynediad,
### codau adfer, Gweinyddwr y System, Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair,
### Datgloi Cyfrif.
###
### Ids: as in ../en/main.ftl (the same set; the same variables). Field names, header names,
### configuration names, commands and API values (`all`, pending, violations, …) stay as
### they are: clients and administrators type them.


## HTTP status fallbacks (ProblemSpec::for_status and the routing fallback)

# problem/mod.rs: ProblemSpec::for_status, 400
problem-bad-request-title = Cais gwallus
problem-bad-request = Nid oedd modd deall y cais.
# problem/mod.rs: RequestError::Payload; routes/admin/people_import.rs: ImportError::Read
problem-bad-request--unreadable-body = Nid oedd modd darllen corff y cais: { $reason }.

# problem/mod.rs: ProblemSpec::for_status, 401
problem-unauthorized-title = Heb awdurdod
problem-unauthorized = Mae angen dilysu.

# problem/mod.rs: ProblemSpec::for_status, 403
problem-forbidden-title = Dim caniatâd
problem-forbidden = Nid oes gennych ganiatâd i wneud hyn.

# problem/mod.rs: ProblemSpec::for_status, 404
problem-not-found-title = Heb ei ganfod
problem-not-found = Nid oes dim byd yn y cyfeiriad hwn.
# problem/mod.rs: no_route_problem (an address that does not exist)
problem-not-found--no-route = Nid oes dim byd yn y cyfeiriad hwn. Disgrifir yr API yn /api-docs/openapi.json.

# problem/mod.rs: ProblemSpec::for_status, 405
problem-method-not-allowed-title = Dull HTTP heb ei ganiatáu
problem-method-not-allowed = Nid yw'r cyfeiriad hwn yn derbyn y dull HTTP hwnnw; mae'r pennyn Allow yn rhestru'r rhai y mae'n eu derbyn.
# openapi.rs: no_route (the path exists with other methods)
problem-method-not-allowed--use-allowed = Ni chaniateir { $method } yma; defnyddiwch { $allowed }.

# problem/mod.rs: ProblemSpec::for_status, 413
problem-payload-too-large-title = Cais rhy fawr
problem-payload-too-large = Mae corff y cais yn rhy fawr.
# problem/mod.rs: RequestError::TooLarge
problem-payload-too-large--limit = Mae corff y cais yn fwy na'r terfyn o { $limit } beit.
# routes/admin/people_import.rs: ImportHttpError::TooLarge, partly_imported = true
problem-payload-too-large--import-partly-imported = Mae'r corff yn fwy na'r terfyn o { $limit } beit. Efallai bod y llinellau cyn y terfyn wedi'u cadw; gellir ailadrodd y mewnforio yn ddiogel, felly rhannwch y ffeil a mewnforiwch bob rhan.
# routes/admin/people_import.rs: ImportHttpError::TooLarge, partly_imported = false
problem-payload-too-large--import-nothing-imported = Mae'r corff yn fwy na'r terfyn o { $limit } beit; ni fewnforiwyd dim. Rhannwch y ffeil a mewnforiwch bob rhan.

# problem/mod.rs: ProblemSpec::for_status, 415
problem-unsupported-media-type-title = Math o gyfrwng heb ei gefnogi
problem-unsupported-media-type = Mae gan gorff y cais fath o gynnwys nad yw'r cyfeiriad hwn yn ei dderbyn.
# problem/mod.rs: RequestError::UnsupportedMediaType
problem-unsupported-media-type--json = Anfonwch gorff y cais fel application/json.
# routes/admin/people_import.rs: ImportHttpError::UnsupportedMediaType
problem-unsupported-media-type--csv = Anfonwch y ffeil pobl fel text/csv (UTF-8).

# problem/mod.rs: ProblemSpec::for_status, 429
problem-too-many-requests-title = Gormod o geisiadau
problem-too-many-requests = Gormod o geisiadau; rhowch gynnig arall arni yn nes ymlaen.
# problem/common.rs: Limited (every rate limit but the recovery forms')
problem-too-many-requests--attempts = Gormod o ymdrechion. Arhoswch cyn rhoi cynnig arall arni.
# routes/recovery.rs: RecoveryError::RateLimited
problem-too-many-requests--recovery = Gormod o geisiadau. Arhoswch cyn rhoi cynnig arall arni.

# problem/mod.rs: ProblemSpec::for_status, 503
problem-service-unavailable-title = Gwasanaeth ddim ar gael
problem-service-unavailable = Mae'r gwasanaeth yn brysur neu nid yw gwasanaeth arall y mae'n dibynnu arno ar gael; rhowch gynnig arall arni cyn bo hir.

# problem/mod.rs: ProblemSpec::for_status, other 5xx (title: the status's canonical reason)
problem-internal-error-title = { $status_code ->
    [500] Gwall mewnol ar y gweinydd
    [501] Heb ei weithredu
    [502] Porth gwallus
    [504] Terfyn amser y porth
    [505] Fersiwn HTTP heb ei chefnogi
    [506] Mae'r amrywiad hefyd yn negodi
    [507] Dim digon o le storio
    [508] Canfuwyd dolen ddiddiwedd
    [510] Heb ei estyn
    [511] Mae angen dilysu'r rhwydwaith
   *[other] Gwall
}
problem-internal-error = Aeth rhywbeth o'i le ar ein hochr ni. Rhowch gynnig arall arni yn nes ymlaen; os byddwch yn cysylltu â'r tîm cymorth, nodwch ddynodydd y cais (request id).

# problem/mod.rs: ProblemSpec::for_status, any other status (title: the status's canonical reason)
problem-http-error-title = { $status_code ->
    [402] Mae angen talu
    [406] Ddim yn dderbyniol
    [407] Mae angen dilysu'r dirprwy
    [408] Terfyn amser y cais
    [409] Gwrthdaro
    [410] Wedi mynd
    [411] Mae angen hyd
    [412] Methodd y rhagamod
    [414] URI rhy hir
    [416] Ni ellir bodloni'r amrediad
    [417] Methodd y disgwyliad
    [418] Tebot ydw i
    [421] Cais wedi'i gyfeirio'n anghywir
    [422] Ni ellir prosesu'r endid
    [423] Wedi'i gloi
    [424] Methodd dibyniaeth
    [426] Mae angen uwchraddio
    [428] Mae angen rhagamod
    [431] Meysydd pennyn y cais yn rhy fawr
    [451] Ddim ar gael am resymau cyfreithiol
   *[other] Gwall
}
problem-http-error = Methodd y cais.


## Request parsing (problem/mod.rs: RequestError, json_objects_only)

# problem/mod.rs: RequestError::MalformedJson ($reason: serde_json's error text)
problem-malformed-json-title = JSON gwallus
problem-malformed-json = Nid yw corff y cais yn JSON dilys: { $reason }.

# problem/mod.rs: RequestError::InvalidBody ($reason: serde_json's error text)
problem-invalid-request-body-title = Corff cais annilys
problem-invalid-request-body = Nid yw corff y cais yn cyfateb i'r sgema disgwyliedig: { $reason }.
# problem/mod.rs: json_objects_only (a JSON array as body)
problem-invalid-request-body--not-an-object = Nid yw corff y cais yn cyfateb i'r sgema disgwyliedig: rhaid i'r corff fod yn wrthrych JSON ({ "{" } … { "}" }) gyda'r meysydd a ddisgrifir yn y ddogfennaeth.

# problem/mod.rs: RequestError::BodyTimeout
problem-request-timeout-title = Terfyn amser y cais
problem-request-timeout = Ni chyrhaeddodd corff y cais o fewn { $seconds } eiliad.
# routes/admin/people_import.rs: ImportHttpError::Stalled, partly_imported = true
problem-request-timeout--import-stalled-partly-imported = Oedodd y corff am fwy na { $seconds } eiliad. Cedwir y sypiau a gadwyd cyn yr oedi; anfonwch y ffeil gyfan eto (gellir ailadrodd y mewnforio yn ddiogel).
# routes/admin/people_import.rs: ImportHttpError::Stalled, partly_imported = false
problem-request-timeout--import-stalled = Oedodd y corff am fwy na { $seconds } eiliad.

# problem/mod.rs: RequestError::InvalidPath ($reason: actix's path error text)
problem-invalid-path-parameter-title = Paramedr llwybr annilys
problem-invalid-path-parameter = Nid yw paramedr yn llwybr y cyfeiriad yn ddilys: { $reason }

# problem/mod.rs: RequestError::InvalidQuery ($reason: actix's query error text)
problem-invalid-query-parameter-title = Paramedr ymholiad annilys
problem-invalid-query-parameter = Nid yw paramedr ymholiad yn ddilys: { $reason }
# routes/admin/mod.rs: page_limit; routes/organisations.rs: list_organisations
problem-invalid-query-parameter--limit-range = Rhaid i limit fod rhwng 1 a 100
# routes/admin/mod.rs: bad_cursor; routes/organisations.rs: list_organisations
problem-invalid-query-parameter--bad-cursor = Nid yw cursor yn un a roddwyd gan yr API hwn
# routes/admin/mod.rs: updated_since
problem-invalid-query-parameter--updated-since = Rhaid i updated_since fod yn amser RFC 3339, e.e. 2026-12-07T09:00:00Z
# routes/admin/accounts.rs: list_accounts
problem-invalid-query-parameter--unknown-organisation-code = Cod sefydliad anhysbys
problem-invalid-query-parameter--unknown-status = Statws anhysbys
problem-invalid-query-parameter--unknown-internet-access-status = Statws mynediad i'r rhyngrwyd anhysbys
problem-invalid-query-parameter--unknown-person-id = person_id anhysbys
problem-invalid-query-parameter--unknown-id = id anhysbys
# routes/admin/people.rs: list_people
problem-invalid-query-parameter--invalid-organisation-code = Cod sefydliad annilys
problem-invalid-query-parameter--invalid-employee-number = Rhif cyflogai annilys
problem-invalid-query-parameter--invalid-email = Cyfeiriad e-bost annilys
# routes/admin/audit_events.rs: time (since / until)
problem-invalid-query-parameter--time = Rhaid i { $parameter } fod yn amser RFC 3339, e.e. 2026-11-25T00:00:00Z
# routes/admin/audit_events.rs: AuditQuery::parse
problem-invalid-query-parameter--type-length = Mae type rhwng 1 a 100 nod
problem-invalid-query-parameter--account = Rhaid i account fod yn enw defnyddiwr ESR neu'n id cyfrif
# routes/admin/audit_events.rs: list_outbox
problem-invalid-query-parameter--outbox-status = Rhaid i status fod yn pending, sending, sent neu dead
# routes/admin/people_import.rs: ImportQuery::feed_for
problem-invalid-query-parameter--max-leavers-needs-full-feed = Mae angen full_feed gyda max_leavers_percent
problem-invalid-query-parameter--full-feed-not-covered = Rhaid i full_feed fod yn sefydliad y mae'r allwedd hon yn ei gwmpasu
problem-invalid-query-parameter--max-leavers-range = Rhaid i max_leavers_percent fod rhwng 1 a 100


## Shared failures (problem/common.rs)

# problem/common.rs: database_unavailable_problem
problem-database-unavailable-title = Gwasanaeth ddim ar gael
problem-database-unavailable = Mae'r gwasanaeth yn brysur neu nid yw ei gronfa ddata ar gael; rhowch gynnig arall arni cyn bo hir.
# routes/admin/people_import.rs: import_interrupted
problem-database-unavailable--import-interrupted = Nid oedd y gronfa ddata ar gael yn ystod y mewnforio; mae'r sypiau a gadwyd cyn hynny yn aros. Mewnforiwch y ffeil eto cyn bo hir (gellir ailadrodd y mewnforio yn ddiogel).

# problem/common.rs: busy_problem
problem-busy-title = Gwasanaeth ddim ar gael
problem-busy = Mae'r gwasanaeth yn brysur. Rhowch gynnig arall arni mewn munud.

# problem/common.rs: policy_problem
problem-password-policy-title = Cyfrinair heb ei dderbyn
problem-password-policy = Nid yw'r cyfrinair newydd yn bodloni'r polisi cyfrineiriau; gweler violations.

# problem/common.rs: contact_change_hold_problem (the detail comes from each caller)
problem-contact-change-hold-title = Manylion wedi newid yn ddiweddar
# routes/internet_access.rs: CONTACT_CHANGE_HOLD (SetAtWorkError::ContactChangeHold)
problem-contact-change-hold = Newidiwyd eich e-bost gwaith neu fanylion eich cerdyn clyfar yn ddiweddar. Er eich diogelwch, gallwch osod eich cyfrinair unwaith y bydd y cyfnod aros ar ôl y newid wedi dod i ben (gweler Retry-After). Os nad oeddech yn disgwyl y newid, cysylltwch â Gweinyddwr y System.
# routes/me.rs: ChangeError::ContactChangeHold
problem-contact-change-hold--password-change = Newidiwyd eich e-bost gwaith neu fanylion eich cerdyn clyfar yn ddiweddar. Er eich diogelwch, ni ellir newid eich cyfrinair o sesiwn a fewngofnodwyd â cherdyn clyfar nes bydd y cyfnod aros ar ôl y newid wedi dod i ben (gweler Retry-After). Os nad oeddech yn disgwyl y newid, cysylltwch â Gweinyddwr y System.
# routes/my_sessions.rs: EndSessionError::ContactChangeHold
problem-contact-change-hold--sessions = Newidiwyd eich e-bost gwaith neu fanylion eich cerdyn clyfar yn ddiweddar. Er eich diogelwch, ni ellir gweld na dod â'ch sesiynau eraill i ben o sesiwn a fewngofnodwyd â cherdyn clyfar nes bydd y cyfnod aros ar ôl y newid wedi dod i ben (gweler Retry-After). Os nad oeddech yn disgwyl y newid, cysylltwch â Gweinyddwr y System.
# routes/factors.rs: FactorError::ContactChangeHold
problem-contact-change-hold--factors = Newidiwyd eich e-bost gwaith neu fanylion eich cerdyn clyfar yn ddiweddar. Er eich diogelwch, gellir newid dulliau mewngofnodi unwaith y bydd y cyfnod aros ar ôl y newid wedi dod i ben (gweler Retry-After), neu nawr o sesiwn a fewngofnodwyd gyda dull mewngofnodi sydd gennych eisoes. Os nad oeddech yn disgwyl y newid, cysylltwch â Gweinyddwr y System.
# routes/admin/accounts.rs: AdminActionError::ContactChangeHold (409, AdminError::Conflict)
problem-contact-change-hold--admin-recovery-email-title = Gwrthdaro
problem-contact-change-hold--admin-recovery-email = Newidiodd e-bost gwaith neu gerdyn clyfar y person hwn yn ddiweddar, felly ni fydd e-bost adfer yn cael ei anfon tan { $until }. Mae'r hen gyfeiriad a'r cyfeiriad newydd wedi cael gwybod am y newid.


## Bearer tokens and API keys

# auth.rs: AuthError::Missing
problem-unauthenticated-title = Heb awdurdod
problem-unauthenticated = Anfonwch docyn mynediad: Authorization: Bearer <token> (o POST /v1/auth/login).

# auth.rs: invalid_token_problem (AuthError::Invalid / SessionEnded, ChangeError::SessionEnded, SetAtWorkError::SessionEnded)
problem-invalid-token-title = Heb awdurdod
problem-invalid-token = Mae'r tocyn mynediad yn annilys neu wedi dod i ben, neu mae ei sesiwn wedi dod i ben. Adnewyddwch ef neu mewngofnodwch eto.
# routes/me.rs: MeError::AccountGone; routes/internet_access.rs: account_gone
problem-invalid-token--account-gone = Nid yw cyfrif y sesiwn hon yn bodoli mwyach.

# auth.rs: AuthError::EnrolmentRequired
problem-mfa-enrolment-required-title = Ychwanegu dull mewngofnodi
problem-mfa-enrolment-required = Mae eich sefydliad yn gofyn am ail ddull mewngofnodi (ap dilysu neu allwedd mynediad). Ychwanegwch un o dan /v1/me/factors, yna mewngofnodwch eto.

# admin_auth.rs: AdminAuthError::InvalidKey
problem-invalid-api-key-title = Heb awdurdod
problem-invalid-api-key = Anfonwch allwedd API ddilys ar gyfer gweinyddwyr: Authorization: Bearer esr_… (wedi'i chreu gydag `esr-api create-api-key`).

# admin_auth.rs: AdminAuthError::ReadOnly
problem-api-key-read-only-title = Dim caniatâd
problem-api-key-read-only = Allwedd darllen yn unig yw'r allwedd API hon; i wneud newidiadau mae angen allwedd a grëwyd gyda --access write.

# admin_auth.rs: AdminAuthError::ScopeTooNarrow
problem-api-key-scope-title = Dim caniatâd
problem-api-key-scope = Ar gyfer y weithred hon mae angen allwedd sy'n cwmpasu pob sefydliad (--scope all).


## Password login, refresh, second step and logout (routes/auth.rs)

# routes/auth.rs: LoginError::InvalidCredentials (detail: esr_domain::LoginError::InvalidCredentials.message())
problem-invalid-credentials-title = Methodd y mewngofnodi
problem-invalid-credentials = Mae'r enw defnyddiwr neu'r cyfrinair yn anghywir, neu mae'r cyfrif wedi'i gloi. Defnyddiwch Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair i gael eich enw defnyddiwr ac ailosod eich cyfrinair, neu Datgloi Cyfrif i'w ddatgloi

# routes/auth.rs: LoginError::NotApproved (detail: esr_domain::LoginError::InternetAccessNotApproved.message())
problem-internet-access-not-approved-title = Methodd y mewngofnodi
problem-internet-access-not-approved = Nid yw mynediad i'r rhyngrwyd wedi'i gymeradwyo ar gyfer y cyfrif hwn. Mewngofnodwch i ESR â'ch cerdyn clyfar yn y gwaith a defnyddiwch Rheoli Mynediad i'r Rhyngrwyd (Manage Internet Access)
# routes/internet_access.rs: SetAtWorkError::NotApproved(Pending)
problem-internet-access-not-approved--pending-title = Mynediad i'r rhyngrwyd heb ei gymeradwyo
problem-internet-access-not-approved--pending = Mae eich cais am fynediad i'r rhyngrwyd yn aros i'ch sefydliad ei gymeradwyo. Gallwch osod eich cyfrinair unwaith y bydd wedi'i gymeradwyo.
# routes/internet_access.rs: SetAtWorkError::NotApproved(any other status)
problem-internet-access-not-approved--not-requested-title = Mynediad i'r rhyngrwyd heb ei gymeradwyo
problem-internet-access-not-approved--not-requested = Gwnewch gais am fynediad i'r rhyngrwyd yn gyntaf; gallwch osod eich cyfrinair unwaith y bydd wedi'i gymeradwyo.
# routes/admin/accounts.rs: AdminActionError::AccessNotApproved (409, AdminError::Conflict)
problem-internet-access-not-approved--admin-recovery-email-title = Gwrthdaro
problem-internet-access-not-approved--admin-recovery-email = Nid yw mynediad i'r rhyngrwyd wedi'i gymeradwyo ar gyfer y cyfrif hwn, felly nid oes ganddo fewngofnodi â chyfrinair i'w adfer; cymeradwywch y mynediad yn gyntaf.

# routes/auth.rs: LoginError::Suspended (detail: esr_domain::LoginError::AccountSuspended.message())
problem-account-suspended-title = Methodd y mewngofnodi
problem-account-suspended = Mae'r cyfrif hwn wedi'i atal. Cysylltwch â Gweinyddwr y System
# routes/smartcard.rs: SmartcardError::AccountUnusable(Suspended)
problem-account-suspended--smartcard-title = Ni ellir defnyddio'r cyfrif
problem-account-suspended--smartcard = Mae eich cyfrif ESR wedi'i atal. Cysylltwch â Gweinyddwr y System.

# routes/auth.rs: LoginError::InternetAccessLapsed
problem-internet-access-lapsed-title = Methodd y mewngofnodi
problem-internet-access-lapsed = Mae eich mynediad i'r rhyngrwyd wedi dod i ben am nad ydych wedi mewngofnodi o gartref ers amser hir. Mewngofnodwch i ESR gan ddefnyddio eich cerdyn clyfar ar gyfrifiadur yn y gwaith a defnyddiwch Rheoli Mynediad i'r Rhyngrwyd (Manage Internet Access) i wneud cais am fynediad i'r rhyngrwyd eto.

# routes/auth.rs: LoginError::PasswordExpired
problem-password-expired-title = Methodd y mewngofnodi
problem-password-expired = Mae eich cyfrinair wedi dod i ben. Defnyddiwch Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair i gael dolen ailosod cyfrinair drwy e-bost, neu defnyddiwch Ailosod Cyfrinair (Reset Password) yn Rheoli Mynediad i'r Rhyngrwyd (Manage Internet Access) yn y gwaith gyda'ch cerdyn clyfar.

# routes/auth.rs: LoginError::InvalidRequest (app/sessions.rs: check_login_input)
problem-invalid-request-body--missing-credentials = Rhowch eich enw defnyddiwr a'ch cyfrinair.
problem-invalid-request-body--credentials-too-long = Mae'r enw defnyddiwr neu'r cyfrinair yn rhy hir.

# routes/auth.rs: RefreshError::InvalidRefreshToken
problem-invalid-refresh-token-title = Heb awdurdod
problem-invalid-refresh-token = Mae'r tocyn adnewyddu yn annilys, wedi dod i ben neu wedi'i ddefnyddio eisoes, neu mae ei sesiwn wedi dod i ben. Mewngofnodwch eto.

# routes/auth.rs: SecondFactorError::Input (SecondFactorInputError's Display)
problem-invalid-request-body--not-exactly-one-factor = Rhowch union un o totp_code, recovery_code a passkey
problem-invalid-request-body--totp-shape = Mae cod ap dilysu yn 6 digid
problem-invalid-request-body--recovery-code-shape = Mae cod adfer yn 12 llythyren a digid, fel XXXX-XXXX-XXXX

# routes/auth.rs: SecondStepError::InvalidMfaToken
problem-invalid-mfa-token-title = Methodd y mewngofnodi
problem-invalid-mfa-token = Mae'r mewngofnodi wedi dod i ben neu wedi'i gwblhau eisoes. Mewngofnodwch eto gyda'ch enw defnyddiwr a'ch cyfrinair.

# routes/auth.rs: SecondStepError::WrongSecondFactor
problem-invalid-second-factor-title = Methodd y mewngofnodi
problem-invalid-second-factor = Nid yw'r cod yn gywir, neu mae wedi'i ddefnyddio eisoes. Arhoswch am god newydd yn eich ap dilysu, neu defnyddiwch god adfer. Bydd codau anghywir dro ar ôl tro yn cloi'r cyfrif.
# routes/factors.rs: FactorError::WrongCode (confirming an authenticator app)
problem-invalid-second-factor--enrolment-code-title = Cod anghywir
problem-invalid-second-factor--enrolment-code = Nid yw'r cod yn cyfateb. Gwiriwch yr amser ar eich ffôn a rhowch y cod y mae eich ap dilysu yn ei ddangos nawr.

# routes/auth.rs: LogoutError::Body ($reason: serde_json's error text)
problem-invalid-request-body--logout-body = Rhaid i'r corff fod yn wag neu'n { "{" }"refresh_token": "…"{ "}" }: { $reason }
# routes/auth.rs: LogoutError::Body (refresh token too long)
problem-invalid-request-body--logout-token-too-long = Rhaid i'r corff fod yn wag neu'n { "{" }"refresh_token": "…"{ "}" }: mae refresh_token yn hwy na 128 nod


## Passkey sign-in (routes/passkey_sign_in.rs)

# routes/passkey_sign_in.rs: PasskeySignInError::Unavailable
problem-passkeys-unavailable-title = Allweddi mynediad ddim ar gael
problem-passkeys-unavailable = Ni ellir defnyddio allweddi mynediad gyda chyfeiriad y gwasanaeth hwn; mewngofnodwch gyda'ch enw defnyddiwr a'ch cyfrinair.
# routes/factors.rs: FactorError::PasskeysUnavailable
problem-passkeys-unavailable--enrolment = Ni ellir defnyddio allweddi mynediad gyda chyfeiriad y gwasanaeth hwn; defnyddiwch ap dilysu.

# routes/passkey_sign_in.rs: PasskeySignInError::Refused
problem-passkey-sign-in-failed-title = Methodd y mewngofnodi
problem-passkey-sign-in-failed = Nid oedd modd i'r allwedd mynediad hon eich mewngofnodi. Dechreuwch eto, neu mewngofnodwch gyda'ch enw defnyddiwr a'ch cyfrinair.


## Smartcard sign-in (routes/smartcard.rs)

# routes/smartcard.rs: SmartcardError::Disabled
problem-smartcard-login-disabled-title = Mewngofnodi â cherdyn clyfar ddim ar gael
problem-smartcard-login-disabled = Nid yw mewngofnodi â cherdyn clyfar wedi'i alluogi ar y gwasanaeth hwn.
# routes/dev_idp.rs: DevIdpError::Disabled
problem-smartcard-login-disabled--dev-idp-title = Mewngofnodi â cherdyn clyfar wedi'i analluogi
problem-smartcard-login-disabled--dev-idp = Mae mewngofnodi â cherdyn clyfar wedi'i analluogi, felly nid oes gan y darparwr hunaniaeth datblygu gleient.

# routes/smartcard.rs: SmartcardError::RedirectUriNotAllowed
problem-redirect-uri-not-allowed-title = URI ailgyfeirio heb ei ganiatáu
problem-redirect-uri-not-allowed = Nid yw'r redirect_uri yn un y mae'r gwasanaeth hwn wedi'i ffurfweddu i'w ddefnyddio (ESR_OIDC_REDIRECT_URIS).

# routes/smartcard.rs: SmartcardError::InvalidRequest (app/smartcard.rs: check_callback_input)
problem-invalid-request-body--smartcard-missing-parameters = Anfonwch code, state a browser_binding.
problem-invalid-request-body--smartcard-parameter-too-long = Mae code, state neu browser_binding yn rhy hir.
# routes/smartcard.rs: StartProblems example only (never sent)
problem-invalid-request-body--empty-redirect-uri = Mae redirect_uri yn wag

# routes/smartcard.rs: SmartcardError::InvalidState
problem-smartcard-state-invalid-title = Methodd y mewngofnodi â cherdyn clyfar
problem-smartcard-state-invalid = Mae'r mewngofnodi hwn â cherdyn clyfar wedi dod i ben, wedi'i ddefnyddio eisoes neu wedi'i ddechrau mewn porwr arall. Mewngofnodwch â'ch cerdyn clyfar eto.

# routes/smartcard.rs: SmartcardError::CodeRejected
problem-smartcard-code-rejected-title = Methodd y mewngofnodi â cherdyn clyfar
problem-smartcard-code-rejected = Ni wnaeth gwasanaeth hunaniaeth y GIG dderbyn y mewngofnodi hwn. Mewngofnodwch â'ch cerdyn clyfar eto.

# routes/smartcard.rs: SmartcardError::InvalidIdToken
problem-smartcard-token-invalid-title = Methodd y mewngofnodi â cherdyn clyfar
problem-smartcard-token-invalid = Nid oedd modd gwirio ateb gwasanaeth hunaniaeth y GIG. Mewngofnodwch â'ch cerdyn clyfar eto.

# routes/smartcard.rs: SmartcardError::AssuranceTooLow
problem-smartcard-assurance-too-low-title = Mae angen cerdyn clyfar
problem-smartcard-assurance-too-low = Nid yw'r mewngofnodi hwn yn ddigon cryf i reoli mynediad i'r rhyngrwyd. Mewngofnodwch â'ch cerdyn clyfar GIG.

# routes/smartcard.rs: SmartcardError::NoEsrRecord
problem-no-esr-record-title = Dim cofnod ESR yn gysylltiedig â'r cerdyn clyfar hwn
problem-no-esr-record = Nid oes cofnod ESR yn gysylltiedig â'r cerdyn clyfar hwn. Cysylltwch â Gweinyddwr y System.

# routes/smartcard.rs: SmartcardError::OrganisationChoiceRequired
problem-organisation-choice-required-title = Dewiswch sefydliad
problem-organisation-choice-required = Mae eich cerdyn clyfar yn gysylltiedig â chofnodion ESR mewn mwy nag un sefydliad. Dewiswch y sefydliad i fewngofnodi iddo, yna mewngofnodwch eto.

# routes/smartcard.rs: SmartcardError::AccountUnusable(Disabled or any other status but Suspended)
problem-account-disabled-title = Ni ellir defnyddio'r cyfrif
problem-account-disabled = Mae eich cyfrif ESR wedi'i analluogi. Cysylltwch â Gweinyddwr y System.

# routes/smartcard.rs: SmartcardError::NoUsername (detail: UsernameError::NoUsableLetters.message())
problem-username-no-usable-letters-title = Dim enw defnyddiwr
problem-username-no-usable-letters = Ni ellir creu enw defnyddiwr o enwau'r person hwn: nid oes unrhyw lythrennau A i Z ynddynt. Cysylltwch â Gweinyddwr y System.

# routes/smartcard.rs: SmartcardError::NoUsername (detail: UsernameError::Exhausted.message())
problem-username-exhausted-title = Dim enw defnyddiwr
problem-username-exhausted = Mae pob enw defnyddiwr ar gyfer yr enw hwn yn cael ei ddefnyddio eisoes. Cysylltwch â Gweinyddwr y System.

# routes/smartcard.rs: SmartcardError::ProviderUnavailable
problem-identity-provider-unavailable-title = Gwasanaeth ddim ar gael
problem-identity-provider-unavailable = Nid yw gwasanaeth hunaniaeth y GIG (mewngofnodi â cherdyn clyfar) yn ateb. Rhowch gynnig arall arni ymhen ychydig funudau.


## Self-service: profile, password change, sessions, internet access (routes/me.rs, my_sessions.rs, internet_access.rs)

# routes/me.rs: ChangeError::WrongCurrentPassword
problem-current-password-incorrect-title = Cyfrinair presennol yn anghywir
problem-current-password-incorrect = Nid yw'r cyfrinair presennol yn gywir. Bydd ymdrechion anghywir dro ar ôl tro yn cloi'r cyfrif.

# routes/my_sessions.rs: EndSessionError::NotFound
problem-session-not-found-title = Heb ei ganfod
problem-session-not-found = Nid oes gan unrhyw un o'ch sesiynau gweithredol yr id hwn.

# routes/internet_access.rs: smartcard_required
problem-smartcard-required-title = Mae angen mewngofnodi â cherdyn clyfar
problem-smartcard-required = Dim ond yn y gwaith y mae Rheoli Mynediad i'r Rhyngrwyd (Manage Internet Access) ar gael: mewngofnodwch i ESR â'ch cerdyn clyfar.


## Sign-in methods (routes/factors.rs)

# routes/factors.rs: FactorError::PolicyOff
problem-mfa-off-title = Ddim ar gael
problem-mfa-off = Nid yw eich sefydliad yn defnyddio ail ddulliau mewngofnodi.

# routes/factors.rs: FactorError::ProofRequired
problem-enrolment-proof-required-title = Mae angen rhagor o brawf
problem-enrolment-proof-required = Ni all eich cyfrinair ar ei ben ei hun newid dulliau mewngofnodi. Mewngofnodwch yn y gwaith â'ch cerdyn clyfar, mewngofnodwch gyda dull mewngofnodi sydd gennych eisoes, neu gofynnwch am ddolen gofrestru (POST /v1/me/factors/enrolment-link) ac anfonwch ei thocyn fel enrolment_token.
# routes/factors.rs: FactorError::ExistingFactorRequired
problem-enrolment-proof-required--existing-factor = Mae gennych ddull mewngofnodi eisoes: i ychwanegu neu newid un, mewngofnodwch ag ef (neu yn y gwaith â'ch cerdyn clyfar). Dim ond y dull cyntaf y gellir ei ychwanegu drwy ddolen mewn e-bost.

# routes/factors.rs: FactorError::InvalidEnrolmentToken
problem-invalid-enrolment-token-title = Dolen annilys
problem-invalid-enrolment-token = Nid yw'r ddolen gofrestru yn ddilys: mae wedi'i defnyddio, wedi dod i ben, neu'n perthyn i gyfrif arall. Gofynnwch am un newydd.

# routes/factors.rs: FactorError::InvalidName (app/factors.rs: factor_name)
problem-invalid-factor-name-title = Enw annilys
problem-invalid-factor-name = Defnyddiwch 60 nod ar y mwyaf.
problem-invalid-factor-name--characters = Defnyddiwch lythrennau, digidau, bylchau ac atalnodau yn unig.

# routes/factors.rs: FactorError::NotFound
problem-factor-not-found-title = Heb ei ganfod
problem-factor-not-found = Nid oes gan unrhyw un o'ch dulliau mewngofnodi yr id hwn.

# routes/factors.rs: FactorError::AlreadyConfirmed
problem-factor-already-confirmed-title = Wedi'i gadarnhau eisoes
problem-factor-already-confirmed = Mae'r ap dilysu hwn wedi'i gadarnhau eisoes.

# routes/factors.rs: FactorError::LastFactorRequired
problem-last-factor-required-title = Ni ellir ei dynnu
problem-last-factor-required = Mae eich sefydliad yn gofyn am ail ddull mewngofnodi: ychwanegwch un arall cyn tynnu'r un hwn.

# routes/factors.rs: FactorError::NoFactor
problem-no-factor-title = Dim dull mewngofnodi
problem-no-factor = Ychwanegwch ap dilysu neu allwedd mynediad yn gyntaf; daw codau adfer gydag ef.

# routes/admin/accounts.rs: AdminActionError::TooManyEmails
problem-too-many-emails-title = Gormod o negeseuon e-bost
problem-too-many-emails = Mae gweinyddwyr wedi gofyn am dri e-bost adfer i'r cyfrif hwn yn ystod yr awr ddiwethaf, neu am hanner yr hyn y caiff ei flwch post ei dderbyn mewn awr. Rhowch gynnig arall arni yn nes ymlaen.
# routes/factors.rs: FactorError::TooManyLinks
problem-too-many-emails--enrolment-links = Anfonwyd tair dolen i'ch cyfeiriad e-bost gwaith yn ystod yr awr ddiwethaf. Defnyddiwch yr un fwyaf diweddar, neu rhowch gynnig arall arni yn nes ymlaen.

# routes/factors.rs: FactorError::PasskeyRejected
problem-passkey-rejected-title = Allwedd mynediad heb ei derbyn
problem-passkey-rejected = Nid oedd modd gwirio'r allwedd mynediad. Dechreuwch eto o dudalen y gwasanaeth hwn ei hun, a datglowch yr allwedd mynediad gyda'ch ôl bys, eich wyneb neu'ch PIN pan ofynnir i chi.


## Recovery: Forgotten, Unlock Account, reset links (routes/recovery.rs)

# routes/recovery.rs: RecoveryError::InvalidForm
problem-invalid-form-title = Gwiriwch eich manylion
problem-invalid-form = Nid yw rhai o'r manylion a roddwyd yn ddilys; gweler violations.

# routes/recovery.rs: RecoveryError::InvalidLink
problem-invalid-link-title = Dolen annilys
problem-invalid-link = Nid yw'r ddolen hon yn ddilys: efallai ei bod wedi dod i ben (mae dolenni'n weithredol am 4 awr), wedi'i defnyddio eisoes, neu wedi'i disodli gan e-bost mwy diweddar. Defnyddiwch Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair i gael un newydd.

# routes/recovery.rs: RecoveryError::UsernameMismatch (detail: TokenError::UsernameMismatch.message())
problem-username-mismatch-title = Nid yw'r enw defnyddiwr yn cyfateb
problem-username-mismatch = Nid yw'r enw defnyddiwr yn cyfateb i'r ddolen hon. Rhowch yr enw defnyddiwr ESR a ddangosir yn yr e-bost (Enghraifft: 999JSMITH01)


## Organisations (routes/organisations.rs)

# routes/organisations.rs: OrganisationError::InvalidCode (detail: OrganisationCodeError.message())
problem-invalid-organisation-code-title = Cod sefydliad annilys
problem-invalid-organisation-code = Rhaid i god y sefydliad fod yn 3 llythyren neu ddigid, er enghraifft 241

# routes/organisations.rs: OrganisationError::NotFound
problem-organisation-not-found-title = Heb ddod o hyd i'r sefydliad
problem-organisation-not-found = Nid oes gan unrhyw sefydliad y cod hwn.
# routes/admin/organisations.rs: not_found (AdminError::NotFound)
problem-organisation-not-found--admin-title = Heb ei ganfod
problem-organisation-not-found--admin = Heb ddod o hyd i'r sefydliad.


## Administration (routes/admin/*)

# routes/admin/accounts.rs: not_found (AdminError::NotFound)
problem-account-not-found-title = Heb ei ganfod
problem-account-not-found = Heb ddod o hyd i'r cyfrif.

# routes/admin/people.rs: not_found (AdminError::NotFound)
problem-person-not-found-title = Heb ei ganfod
problem-person-not-found = Heb ddod o hyd i'r person.

# routes/admin/audit_events.rs: message_not_found (AdminError::NotFound)
problem-outbox-message-not-found-title = Heb ei ganfod
problem-outbox-message-not-found = Heb ddod o hyd i'r neges yn y blwch anfon.

# routes/admin/api_keys.rs: key_not_found (AdminError::NotFound)
problem-api-key-not-found-title = Heb ei ganfod
problem-api-key-not-found = Heb ddod o hyd i'r allwedd API.

# routes/admin/mod.rs: AdminError::Invalid
problem-invalid-request-body--violations = Mae'r cais yn torri'r rheolau a restrir yn violations; ni newidiwyd dim.

# routes/admin/mod.rs: AdminError::PreconditionFailed
problem-precondition-failed-title = Methodd y rhagamod
problem-precondition-failed = Mae'r cofnod wedi newid ers iddo gael ei ddarllen (nid ei ETag yw'r If-Match a anfonwyd); ni newidiwyd dim. Darllenwch ef eto, yna gwnewch y newid eto.

# routes/admin/mod.rs: From<TransitionError> (detail: TransitionError::Account message + ".")
problem-account-status-conflict-title = Gwrthdaro
problem-account-status-conflict = Ni ellir { $action ->
        [lock] cloi'r
        [unlock] datgloi'r
        [suspend] atal y
        [reactivate] ailysgogi'r
        [disable] analluogi'r
       *[enable] galluogi'r
    } cyfrif hwn oherwydd ei fod { $current_status ->
        [active] yn weithredol
        [locked] wedi'i gloi
        [suspended] wedi'i atal
       *[disabled] wedi'i analluogi
    }.

# routes/admin/mod.rs: From<TransitionError> (detail: TransitionError::InternetAccess message + ".")
problem-internet-access-status-conflict-title = Gwrthdaro
problem-internet-access-status-conflict = Ni ellir { $action ->
        [approve] cymeradwyo
        [reject] gwrthod
        [revoke] dirymu
       *[renew] adnewyddu
    } mynediad i'r rhyngrwyd oherwydd { $current_status ->
        [not_requested] na wnaed cais amdano
        [pending] ei fod yn aros am gymeradwyaeth
        [approved] ei fod wedi'i gymeradwyo
        [rejected] ei fod wedi'i wrthod
       *[revoked] ei fod wedi'i ddirymu
    }.
# routes/admin/mod.rs: From<TransitionError> (InternetAccessAction::Request)
problem-internet-access-status-conflict--request = Ni ellir gwneud cais am fynediad i'r rhyngrwyd oherwydd { $current_status ->
        [not_requested] na wnaed cais amdano eto
        [pending] ei fod eisoes yn aros am gymeradwyaeth
        [approved] ei fod eisoes wedi'i gymeradwyo
        [rejected] ei fod eisoes wedi'i wrthod
       *[revoked] ei fod eisoes wedi'i ddirymu
    }.

# routes/admin/accounts.rs: AdminActionError::AccountNotUsable
problem-account-not-usable-title = Gwrthdaro
problem-account-not-usable = Mae'r cyfrif wedi'i atal neu wedi'i analluogi, felly nid anfonir e-bost adfer; ailysgogwch ef yn gyntaf.

# routes/admin/people.rs: PersonError::Conflict
problem-person-conflict-title = Gwrthdaro
problem-person-conflict = Mae gan berson arall y rhif cyflogai hwn yn y sefydliad hwn, neu'r dynodydd cerdyn clyfar (smartcard subject) hwn.

# routes/admin/audit_events.rs: recipient_changed
problem-outbox-recipient-changed-title = Gwrthdaro
problem-outbox-recipient-changed = Mae'r e-bost gwaith ar y cofnod wedi newid ers i'r neges hon gael ei rhoi yn y ciw, felly nid yw'n cael ei hanfon i'r hen gyfeiriad. Gall y person ofyn am un newydd (Wedi Anghofio), neu anfonwch yr e-bost adfer i'r cyfeiriad sydd ar y cofnod.

# routes/admin/audit_events.rs: message_not_dead
problem-outbox-message-not-dead-title = Gwrthdaro
problem-outbox-message-not-dead = Dim ond negeseuon â'r statws dead sy'n cael eu hanfon eto; statws y neges hon yw { $current_status }.

# routes/admin/api_keys.rs: create_key_problem, CreateKeyError::NameTaken
problem-api-key-name-taken-title = Gwrthdaro
problem-api-key-name-taken = Mae allwedd API o'r enw { $name } yn bodoli eisoes; dewiswch enw arall.

# routes/admin/organisations.rs: organisation_exists
problem-organisation-exists-title = Gwrthdaro
problem-organisation-exists = Mae sefydliad gyda'r cod hwn yn bodoli eisoes; diweddarwch ef yn lle hynny.

# routes/admin/people_import.rs: ImportError::Empty
problem-empty-import-title = Ffeil wag
problem-empty-import = Mae'r ffeil yn wag: rhaid iddi ddechrau gyda'r llinell bennawd { $columns }

# routes/admin/people_import.rs: ImportError::Header
problem-invalid-import-header-title = Llinell bennawd anghywir
problem-invalid-import-header = Rhaid i'r llinell gyntaf fod yn bennawd { $columns }; cafwyd { $found }. Ni fewnforiwyd dim.
# app/import/mod.rs: check_header, a first record longer than the record limit (found = "(a record longer than the limit)")
problem-invalid-import-header--record-too-long = Rhaid i'r llinell gyntaf fod yn bennawd { $columns }; cafwyd cofnod sy'n hwy na'r terfyn. Ni fewnforiwyd dim.


## Operations, reference pages and dev tools

# routes/operations.rs: NotReady::Database
problem-not-ready-title = Gwasanaeth ddim ar gael
problem-not-ready = Nid oes modd cyrraedd y gronfa ddata.
# routes/operations.rs: NotReady::Pending
problem-not-ready--migrations-pending = Nifer y camau mudo cronfa ddata sy'n aros: { $count }; rhedwch `esr-api migrate`.

# routes/problems.rs: UnknownProblem
problem-problem-type-not-found-title = Heb ei ganfod
problem-problem-type-not-found = Nid oes gan unrhyw broblem yn yr API hwn y cod hwn; mae /problems yn eu rhestru i gyd.

# routes/app_association.rs: NoAppConfigured
problem-app-association-not-configured-title = Heb ei ganfod
problem-app-association-not-configured = Nid oes ap ar gyfer y platfform hwn yn gysylltiedig â'r gwasanaeth hwn.

# routes/dev.rs: MailboxError::NotFileTransport
problem-mailbox-unavailable-title = Dim blwch post datblygu
problem-mailbox-unavailable = Nid yw negeseuon e-bost yn cael eu hysgrifennu i ffeiliau yn y ffurfweddiad hwn (nid `file` yw ESR_EMAIL_TRANSPORT).

# routes/dev_idp.rs: DevIdpError::InvalidRequest
problem-invalid-request-title = Cais awdurdodi annilys
problem-invalid-request = Mae angen { $parameter }
problem-invalid-request--too-many-sign-ins = Mae gormod o achosion o fewngofnodi ar y gweill
problem-invalid-request--unknown-client-id = client_id anhysbys
problem-invalid-request--redirect-uri-not-registered = Nid yw redirect_uri wedi'i gofrestru
problem-invalid-request--response-type = Rhaid i response_type fod yn code
problem-invalid-request--scope = Rhaid i scope gynnwys openid
problem-invalid-request--code-challenge-method = Rhaid i code_challenge_method fod yn S256
problem-invalid-request--no-smartcard = Nid oes cerdyn clyfar yn gysylltiedig â'r cyflogai { $employee_number }
problem-invalid-request--ambiguous-employee = Mae'r rhif cyflogai { $employee_number } yn bodoli mewn sawl sefydliad: defnyddiwch ddynodydd y cerdyn clyfar (smartcard subject)
problem-invalid-request--grant-type = Rhaid i grant_type fod yn authorization_code

# routes/dev_idp.rs: DevIdpError::InvalidGrant
problem-invalid-grant-title = Grant annilys
problem-invalid-grant = Mae'r cod wedi dod i ben
problem-invalid-grant--unknown-code = Mae'r cod yn anhysbys neu wedi'i ddefnyddio eisoes
problem-invalid-grant--redirect-uri-mismatch = Nid yw redirect_uri yn cyfateb
problem-invalid-grant--pkce-mismatch = Nid yw code_verifier PKCE yn cyfateb
# routes/dev_idp.rs: DevIdpError catalogue example only (never sent)
problem-invalid-grant--example = Mae'r cod yn anhysbys, wedi'i ddefnyddio neu wedi dod i ben

# routes/dev_idp.rs: DevIdpError::InvalidClient
problem-invalid-client-title = Cleient annilys
problem-invalid-client = Nid oes modd gwirio honiad y cleient
problem-invalid-client--client-id-mismatch = Nid yw client_id yn cyfateb i'r cod
problem-invalid-client--wrong-secret = Cyfrinach cleient anghywir
problem-invalid-client--assertion-required = Mae angen honiad cleient jwt-bearer
problem-invalid-client--assertion-missing = Mae client_assertion ar goll
problem-invalid-client--no-client-key = Dim allwedd cleient
problem-invalid-client--assertion-malformed = Mae honiad y cleient yn wallus
problem-invalid-client--assertion-key = Nid yw allwedd neu algorithm honiad y cleient yn perthyn i'r cleient


## Violations: esr_domain `Coded` messages (violations[].message, and some problem details)

# password/policy.rs: Violation (password policy)
violation-password-too-short = Rhaid i'r cyfrinair fod yn { $min_length } nod o leiaf
violation-password-too-long = Rhaid i'r cyfrinair fod yn { $max_length } nod ar y mwyaf
violation-password-invalid-characters = Ni ddylai'r cyfrinair gynnwys toriadau llinell, tabiau na nodau rheoli eraill
violation-password-common = Ni chaniateir cyfrineiriau cyffredin, fel "password1"
violation-password-contains-context = Ni ddylai cyfrineiriau gynnwys { $context ->
        [username] eich enw defnyddiwr
        [name] eich enw
        [email_address] eich cyfeiriad e-bost
        [organisation_name] enw eich sefydliad
        [date_of_birth] eich dyddiad geni
       *[personal_detail] eich manylion personol
    }
violation-password-repetitive = Ni ddylai cyfrineiriau gael eu gwneud yn bennaf o nodau wedi'u hailadrodd neu ddilyniannau, fel "aaaaaaaaaaaa" neu "123456789012"
violation-password-confirmation-mismatch = Rhaid i'r meysydd "Cyfrinair" a "Cadarnhau Cyfrinair" gyfateb
violation-password-reused = { $history_depth ->
        [1] Ni ddylai cyfrineiriau fod yr un fath â'r cyfrinair blaenorol
       *[other] Ni ddylai cyfrineiriau fod yr un fath ag unrhyw un o'r { $history_depth } cyfrinair blaenorol
    }
violation-password-breached = Mae'r cyfrinair hwn wedi ymddangos mewn achos o dorri data ac ni ellir ei ddefnyddio. Dewiswch gyfrinair gwahanol

# hashing.rs: HashError
violation-password-hash-invalid-params = Nid oedd modd cadw eich cyfrinair oherwydd problem gyda'r system. Rhowch gynnig arall arni yn nes ymlaen
violation-password-hash-failed = Nid oedd modd cadw eich cyfrinair oherwydd problem gyda'r system. Rhowch gynnig arall arni yn nes ymlaen

# username.rs: UsernameError
violation-username-required = Rhowch eich enw defnyddiwr ESR (Enghraifft: 999JSMITH01)
violation-invalid-username = Rhowch enw defnyddiwr ESR dilys (Enghraifft: 999JSMITH01)
violation-username-no-usable-letters = Ni ellir creu enw defnyddiwr o enwau'r person hwn: nid oes unrhyw lythrennau A i Z ynddynt. Cysylltwch â Gweinyddwr y System.
violation-username-exhausted = Mae pob enw defnyddiwr ar gyfer yr enw hwn yn cael ei ddefnyddio eisoes. Cysylltwch â Gweinyddwr y System.

# email.rs: EmailError
violation-email-required = Rhowch eich cyfeiriad e-bost gwaith (Enghraifft: first.last@domain.com)
violation-email-too-long = Rhaid i'r cyfeiriad e-bost fod yn 254 nod neu lai
violation-invalid-email = Rhowch gyfeiriad e-bost gwaith dilys (Enghraifft: first.last@domain.com)

# date_of_birth.rs: DateOfBirthError
violation-invalid-date-of-birth = Rhowch eich dyddiad geni fel blwyddyn-mis-diwrnod, er enghraifft 1984-03-17
violation-date-of-birth-in-future = Rhaid i'r dyddiad geni fod yn y gorffennol
violation-implausible-date-of-birth = Rhaid i'r dyddiad geni roi oedran rhwng { $min_age } a { $max_age } oed

# person.rs: PersonNameError
violation-name-required = Rhowch enw
violation-name-too-long = Rhaid i'r enw fod yn { $max_length } nod neu lai
violation-invalid-name = Ni ddylai'r enw gynnwys tabiau, toriadau llinell, na nodau anweledig neu nodau cyfeiriad testun

# person.rs: EmployeeNumberError
violation-employee-number-required = Rhowch rif cyflogai
violation-employee-number-too-long = Rhaid i'r rhif cyflogai fod yn { $max_length } nod neu lai
violation-invalid-employee-number = Rhaid i'r rhif cyflogai gynnwys llythrennau, digidau a chysylltnodau yn unig

# person.rs: SmartcardSubjectError
violation-smartcard-subject-required = Rhowch ddynodydd y cerdyn clyfar (uid CIS2)
violation-smartcard-subject-too-long = Rhaid i ddynodydd y cerdyn clyfar fod yn { $max_length } nod neu lai
violation-invalid-smartcard-subject = Rhaid i ddynodydd y cerdyn clyfar gynnwys nodau ASCII argraffadwy yn unig, heb fylchau

# organisation.rs: OrganisationCodeError
violation-invalid-organisation-code = Rhaid i god y sefydliad fod yn 3 llythyren neu ddigid, er enghraifft 241

# api_key.rs: ApiKeyNameError
violation-invalid-api-key-name = Mae enw allwedd API yn 1 i 64 o lythrennau, digidau, '.', '_' neu '-'

# token.rs: TokenError (reset and unlock links)
violation-token-malformed = Nid yw'r ddolen hon yn ddilys. Gwiriwch eich bod wedi copïo'r ddolen gyfan o'r e-bost, neu gofynnwch am un newydd
violation-token-wrong-purpose = Nid yw'r ddolen hon yn ddilys. Gwiriwch eich bod wedi copïo'r ddolen gyfan o'r e-bost, neu gofynnwch am un newydd
violation-token-used = Mae'r ddolen hon wedi'i defnyddio eisoes. Gofynnwch am un newydd
violation-token-invalidated = Nid yw'r ddolen hon yn ddilys mwyach oherwydd bod un fwy diweddar wedi'i hanfon neu fod eich cyfrinair wedi newid. Defnyddiwch yr e-bost mwyaf diweddar, neu gofynnwch am un newydd
violation-token-burned = Ni ellir defnyddio'r ddolen hon mwyach oherwydd bod yr enw defnyddiwr anghywir wedi'i roi ormod o weithiau. Gofynnwch am un newydd
violation-token-expired = Mae'r ddolen ailosod cyfrinair hon wedi dod i ben. Gofynnwch am un newydd
violation-token-expired--unlock = Mae'r ddolen datgloi hon wedi dod i ben. Gofynnwch am un newydd
violation-token-username-mismatch = Nid yw'r enw defnyddiwr yn cyfateb i'r ddolen hon. Rhowch yr enw defnyddiwr ESR a ddangosir yn yr e-bost (Enghraifft: 999JSMITH01)

# login.rs: LoginError
violation-invalid-credentials = Mae'r enw defnyddiwr neu'r cyfrinair yn anghywir, neu mae'r cyfrif wedi'i gloi. Defnyddiwch Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair i gael eich enw defnyddiwr ac ailosod eich cyfrinair, neu Datgloi Cyfrif i'w ddatgloi
violation-internet-access-not-approved = Nid yw mynediad i'r rhyngrwyd wedi'i gymeradwyo ar gyfer y cyfrif hwn. Mewngofnodwch i ESR â'ch cerdyn clyfar yn y gwaith a defnyddiwch Rheoli Mynediad i'r Rhyngrwyd (Manage Internet Access)
violation-account-suspended = Mae'r cyfrif hwn wedi'i atal. Cysylltwch â Gweinyddwr y System

# status.rs: TransitionError::Account
violation-account-status-conflict = Ni ellir { $action ->
        [lock] cloi'r
        [unlock] datgloi'r
        [suspend] atal y
        [reactivate] ailysgogi'r
        [disable] analluogi'r
       *[enable] galluogi'r
    } cyfrif hwn oherwydd ei fod { $current_status ->
        [active] yn weithredol
        [locked] wedi'i gloi
        [suspended] wedi'i atal
       *[disabled] wedi'i analluogi
    }

# status.rs: TransitionError::InternetAccess (every action but Request)
violation-internet-access-status-conflict = Ni ellir { $action ->
        [approve] cymeradwyo
        [reject] gwrthod
        [revoke] dirymu
       *[renew] adnewyddu
    } mynediad i'r rhyngrwyd oherwydd { $current_status ->
        [not_requested] na wnaed cais amdano
        [pending] ei fod yn aros am gymeradwyaeth
        [approved] ei fod wedi'i gymeradwyo
        [rejected] ei fod wedi'i wrthod
       *[revoked] ei fod wedi'i ddirymu
    }
# status.rs: TransitionError::InternetAccess (InternetAccessAction::Request)
violation-internet-access-status-conflict--request = Ni ellir gwneud cais am fynediad i'r rhyngrwyd oherwydd { $current_status ->
        [not_requested] na wnaed cais amdano eto
        [pending] ei fod eisoes yn aros am gymeradwyaeth
        [approved] ei fod eisoes wedi'i gymeradwyo
        [rejected] ei fod eisoes wedi'i wrthod
       *[revoked] ei fod eisoes wedi'i ddirymu
    }

# status.rs: UnknownValueError
violation-invalid-account-status = Gwerth statws cyfrif anhysbys
violation-invalid-internet-access-status = Gwerth statws mynediad i'r rhyngrwyd anhysbys
violation-invalid-approval-mode = Rhaid i'r dull cymeradwyo fod yn "automatic" neu'n "manual"
violation-invalid-token-purpose = Gwerth diben tocyn anhysbys
violation-invalid-value = Gwerth anhysbys ar gyfer { $what }
# second_factor.rs: MfaPolicy::parse (UnknownValueError "mfa-policy", code invalid-value)
violation-invalid-value--mfa-policy = Gwerth polisi dilysu aml-ffactor anhysbys


## Violations made in crates/api (violation_of, and Violation literals)

# routes/me.rs: ChangeError::WrongCurrentPassword
violation-current-password-incorrect = Nid yw'r cyfrinair presennol yn gywir

# routes/recovery.rs: RecoveryError::UsernameMismatch (message: TokenError::UsernameMismatch.message())
violation-username-mismatch = Nid yw'r enw defnyddiwr yn cyfateb i'r ddolen hon. Rhowch yr enw defnyddiwr ESR a ddangosir yn yr e-bost (Enghraifft: 999JSMITH01)

# routes/admin/people.rs: organisation_not_found
violation-organisation-not-found = Nid oes gan unrhyw sefydliad y cod hwn.
# routes/admin/api_keys.rs: create_key_problem, CreateKeyError::UnknownOrganisation
violation-organisation-not-found--api-key-scope = Nid oes gan unrhyw sefydliad y cod { $organisation_code }.

# routes/admin/people.rs: check_subject
violation-invalid-smartcard-subject--admin-person = Mae dynodydd cerdyn clyfar yn 1 i 64 o lythrennau, digidau, '.', '_' neu '-'.

# routes/admin/people.rs: check_language
violation-invalid-language = Yr iaith yw en (Saesneg) neu cy (Cymraeg).

# routes/admin/api_keys.rs: parse_new_key (ApiKeyScopeError's Display)
violation-invalid-api-key-scope = Y cwmpas yw `all` neu god sefydliad (3 llythyren neu ddigid)

# routes/admin/api_keys.rs: parse_new_key (ApiKeyAccessError's Display)
violation-invalid-api-key-access = Y mynediad yw `read` neu `write`

# routes/admin/organisations.rs: check_name
violation-invalid-organisation-name = Mae'r enw yn 1 i 200 nod, heb nodau rheoli, nodau anweledig na nodau cyfeiriad testun.

# routes/admin/organisations.rs: check_days
violation-invalid-days = Nifer o ddiwrnodau o 1 i 3650, neu null am ddim.
