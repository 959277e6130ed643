//! A minimal SMTP server for tests: enough of RFC 5321 for lettre to deliver, plain by default,
//! or a relay like NHSmail's that requires STARTTLS (RFC 3207) and then AUTH PLAIN/LOGIN
//! (RFC 4954) before it takes a message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64ct::{Base64, Encoding};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The relay's self-signed certificate (SAN `localhost` and `127.0.0.1`, not a CA), which a
/// client trusts only when told to (`ESR_SMTP_CA_FILE`).
pub const RELAY_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBmTCCAUCgAwIBAgIUF9EEid+ORUxmVEkPTD0pl5WldJ8wCgYIKoZIzj0EAwIw\n\
FTETMBEGA1UEAwwKdGVzdCByZWxheTAgFw0yNjEyMDcwMjA2MjNaGA8yMTI2MTEx\n\
MzAyMDYyM1owFTETMBEGA1UEAwwKdGVzdCByZWxheTBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABIltutOZUAcPSfcZiVnbGFXtZMd/w+w1dtjGxPezZAa/asplyhRA\n\
xWkW4ThbPs/9Hi01M4ZCzyGwp++TelAxy2ajbDBqMB0GA1UdDgQWBBSVpWnSuzQe\n\
tHSJCPXmptaUDvlRdjAfBgNVHSMEGDAWgBSVpWnSuzQetHSJCPXmptaUDvlRdjAa\n\
BgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwDAYDVR0TAQH/BAIwADAKBggqhkjO\n\
PQQDAgNHADBEAiBL504Sz8Mlt2PNAHupRbY/UjqPA24EhdkT6b8wOBUHUgIgeEuz\n\
k4+wn35F/tq6zwnzvmjQkXv9Ccc0NdZRDjAk96Y=\n\
-----END CERTIFICATE-----";

const RELAY_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrEkcmITBENYtNgnu\n\
Zbqy6NQu7SN2dTZwvtumKmuCvyahRANCAASJbbrTmVAHD0n3GYlZ2xhV7WTHf8Ps\n\
NXbYxsT3s2QGv2rKZcoUQMVpFuE4Wz7P/R4tNTOGQs8hsKfvk3pQMctm\n\
-----END PRIVATE KEY-----";

/// A running server and the messages (DATA sections) it accepted.
pub struct SmtpServer {
    pub received: Arc<Mutex<Vec<String>>>,
    /// What each accepted message's session looked like (same order as `received`).
    pub sessions: Arc<Mutex<Vec<Session>>>,
    /// TLS handshakes that failed (e.g. a client that does not trust the certificate).
    pub failed_handshakes: Arc<Mutex<u32>>,
    task: tokio::task::JoinHandle<()>,
}

/// How a message arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Over TLS (after STARTTLS).
    pub tls: bool,
    /// The credentials the client authenticated with.
    pub auth: Option<(String, String)>,
}

/// A relay that requires STARTTLS and then these credentials.
pub struct Secured {
    pub username: String,
    pub password: String,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on (yet), for a relay a test starts later. Taken below Linux's
/// ephemeral range (32768 and up): the many servers and clients of the parallel tests get
/// their ports from that range, and one of them could otherwise be handed this port before
/// the relay binds it.
pub fn free_port() -> u16 {
    loop {
        let port = 20_000 + (rand::random::<u16>() % 12_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The service's settings for a plain relay (no TLS, no authentication) on `port`.
pub fn plain_config(port: u16, timeout: std::time::Duration) -> esr_api::config::EmailConfig {
    esr_api::config::EmailConfig::Smtp {
        host: "127.0.0.1".into(),
        port,
        tls: esr_api::config::SmtpTls::None,
        credentials: None,
        ca_pem: None,
        from: "ESR Access <no-reply@esr-access.invalid>".into(),
        timeout,
    }
}

/// Starts accepting on `port`, plain, no authentication.
pub async fn start(port: u16) -> SmtpServer {
    start_with(port, None).await
}

/// Like [`start`], but the first message's connection hangs after the content (no reply,
/// ever), as a relay that stalls mid-dialogue; later connections work normally.
pub async fn start_stalling_once(port: u16) -> SmtpServer {
    serve(port, None, true).await
}

/// Starts accepting on `port`; with `secured`, as a relay that takes mail only over STARTTLS
/// and after AUTH with the given credentials.
pub async fn start_with(port: u16, secured: Option<Secured>) -> SmtpServer {
    serve(port, secured, false).await
}

async fn serve(port: u16, secured: Option<Secured>, stall_once: bool) -> SmtpServer {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sessions = Arc::new(Mutex::new(Vec::new()));
    let failed_handshakes = Arc::new(Mutex::new(0));
    let shared = Shared {
        received: Arc::clone(&received),
        sessions: Arc::clone(&sessions),
        failed_handshakes: Arc::clone(&failed_handshakes),
        secured: secured.map(Arc::new),
        stall_once: Arc::new(AtomicBool::new(stall_once)),
        acceptor: tls_acceptor(),
    };
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                if reader
                    .get_mut()
                    .write_all(b"220 test.invalid ESMTP ready\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                if let Step::StartTls = session(&mut reader, false, &shared).await {
                    match shared.acceptor.accept(reader.into_inner()).await {
                        Ok(tls) => {
                            session(&mut BufReader::new(tls), true, &shared).await;
                        }
                        Err(_) => *shared.failed_handshakes.lock().unwrap() += 1,
                    }
                }
            });
        }
    });
    SmtpServer {
        received,
        sessions,
        failed_handshakes,
        task,
    }
}

#[derive(Clone)]
struct Shared {
    stall_once: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<String>>>,
    sessions: Arc<Mutex<Vec<Session>>>,
    failed_handshakes: Arc<Mutex<u32>>,
    secured: Option<Arc<Secured>>,
    acceptor: TlsAcceptor,
}

enum Step {
    Done,
    StartTls,
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Base64::decode_vec(&body).unwrap()
}

fn tls_acceptor() -> TlsAcceptor {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(pem_body(RELAY_CERT_PEM))],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pem_body(RELAY_KEY_PEM))),
        )
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

fn decode_text(b64: &str) -> String {
    String::from_utf8(Base64::decode_vec(b64.trim()).unwrap_or_default()).unwrap_or_default()
}

/// One SMTP dialogue on `stream` until QUIT, the connection's end, or STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    tls: bool,
    shared: &Shared,
) -> Step {
    let secured = shared.secured.as_deref();
    let mut auth: Option<(String, String)> = None;
    let mut line = String::new();
    loop {
        line.clear();
        match stream.read_line(&mut line).await {
            Ok(0) | Err(_) => return Step::Done,
            Ok(_) => {}
        }
        let text = line.trim_end();
        let mut words = text.split_whitespace();
        let verb = words.next().unwrap_or_default().to_ascii_uppercase();
        let reply: Vec<u8> = match verb.as_str() {
            "EHLO" => match (secured, tls) {
                (None, _) => b"250-test.invalid\r\n250 8BITMIME\r\n".to_vec(),
                (Some(_), false) => b"250-test.invalid\r\n250 STARTTLS\r\n".to_vec(),
                (Some(_), true) => b"250-test.invalid\r\n250 AUTH PLAIN LOGIN\r\n".to_vec(),
            },
            "STARTTLS" if secured.is_some() && !tls => {
                if stream
                    .get_mut()
                    .write_all(b"220 go ahead\r\n")
                    .await
                    .is_err()
                {
                    return Step::Done;
                }
                return Step::StartTls;
            }
            "AUTH" if secured.is_some() && tls => {
                let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
                let initial = words.next().map(str::to_owned);
                let given = match mechanism.as_str() {
                    "PLAIN" => {
                        let response = match initial {
                            Some(r) => r,
                            None => {
                                let _ = stream.get_mut().write_all(b"334 \r\n").await;
                                read_reply_line(stream).await
                            }
                        };
                        let text = decode_text(&response);
                        let mut parts = text.split('\0').skip(1);
                        parts
                            .next()
                            .zip(parts.next())
                            .map(|(u, p)| (u.to_owned(), p.to_owned()))
                    }
                    "LOGIN" => {
                        let user = match initial {
                            Some(r) => decode_text(&r),
                            None => {
                                let _ = stream.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await;
                                decode_text(&read_reply_line(stream).await)
                            }
                        };
                        let _ = stream.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await;
                        let password = decode_text(&read_reply_line(stream).await);
                        Some((user, password))
                    }
                    _ => None,
                };
                let secured = secured.unwrap();
                match given {
                    Some((u, p)) if u == secured.username && p == secured.password => {
                        auth = Some((u, p));
                        b"235 2.7.0 authenticated\r\n".to_vec()
                    }
                    _ => b"535 5.7.8 authentication credentials invalid\r\n".to_vec(),
                }
            }
            "MAIL" | "RCPT" | "DATA" if secured.is_some() && !tls => {
                b"530 5.7.0 must issue STARTTLS first\r\n".to_vec()
            }
            "MAIL" | "RCPT" | "DATA" if secured.is_some() && auth.is_none() => {
                b"530 5.7.0 authentication required\r\n".to_vec()
            }
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n".to_vec(),
            "DATA" => {
                if stream
                    .get_mut()
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .is_err()
                {
                    return Step::Done;
                }
                let mut data = String::new();
                loop {
                    let l = read_reply_line(stream).await;
                    if l == "." {
                        break;
                    }
                    if l == "\u{0}EOF" {
                        // Cut off mid-message: nothing was delivered.
                        return Step::Done;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                if shared.stall_once.swap(false, Ordering::SeqCst) {
                    // Took the content and never answers (this connection only).
                    std::future::pending::<()>().await;
                }
                shared.received.lock().unwrap().push(data);
                shared.sessions.lock().unwrap().push(Session {
                    tls,
                    auth: auth.clone(),
                });
                b"250 OK queued\r\n".to_vec()
            }
            "QUIT" => {
                let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                return Step::Done;
            }
            _ => b"502 not implemented\r\n".to_vec(),
        };
        if stream.get_mut().write_all(&reply).await.is_err() {
            return Step::Done;
        }
    }
}

/// The next line without its line ending ("\0EOF" at the connection's end).
async fn read_reply_line<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>) -> String {
    let mut line = String::new();
    match stream.read_line(&mut line).await {
        Ok(0) | Err(_) => "\u{0}EOF".to_owned(),
        Ok(_) => line.trim_end_matches(['\r', '\n']).to_owned(),
    }
}
