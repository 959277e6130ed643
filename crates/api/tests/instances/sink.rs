//! An SMTP relay for the tests (enough of RFC 5321 for lettre, no TLS) that counts what it
//! accepted per recipient and can be told to stall: take a message's content and never
//! acknowledge it, like a relay that hangs mid-transaction, or to refuse every recipient
//! with a reply that quotes the address, as real relays do.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message's envelope recipient and content.
#[derive(Debug, Clone)]
pub struct Received {
    /// `RCPT TO` address.
    pub to: String,
    /// The DATA section.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    /// Messages acknowledged with `250`.
    accepted: Mutex<Vec<Received>>,
    /// Messages whose content arrived while stalled: never acknowledged.
    cut_off: Mutex<Vec<Received>>,
    stall: AtomicBool,
    /// The reply code every `RCPT` gets instead of `250` (0: accept).
    refuse_with: AtomicU16,
}

/// A running relay on 127.0.0.1; stops accepting when dropped.
pub struct Sink {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// Starts listening on `port`.
    pub async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let shared = Arc::new(Shared::default());
        let state = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&state)));
            }
        });
        Self { shared, task }
    }

    /// While on, message contents are taken but never acknowledged.
    pub fn set_stall(&self, on: bool) {
        self.shared.stall.store(on, Ordering::SeqCst);
    }

    /// While `Some(code)`, every recipient is refused with `code` (4xx or 5xx) and an
    /// enhanced status, quoting the address: `550 5.1.1 <a@b>: Recipient address rejected`.
    pub fn set_refuse_recipients(&self, code: Option<u16>) {
        self.shared
            .refuse_with
            .store(code.unwrap_or(0), Ordering::SeqCst);
    }

    /// Messages acknowledged so far.
    pub fn accepted(&self) -> Vec<Received> {
        self.shared.accepted.lock().unwrap().clone()
    }

    /// Messages taken while stalled (never acknowledged).
    pub fn cut_off(&self) -> Vec<Received> {
        self.shared.cut_off.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until a send is stuck here: content taken, never acknowledged.
    pub async fn wait_until_stuck(&self) {
        esr_test_support::wait::wait_until(
            "a send stuck at the relay",
            std::time::Duration::from_secs(20),
            || async { (!self.cut_off().is_empty()).then_some(()) },
        )
        .await;
    }

    /// Acknowledged messages per recipient.
    pub fn accepted_per_recipient(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.accepted() {
            *counts.entry(m.to).or_insert(0) += 1;
        }
        counts
    }
}

async fn session(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink.invalid ESMTP ready\r\n").await;
    let mut to = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let refusal;
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.invalid\r\n250 8BITMIME\r\n",
            "RCPT" => {
                to = line
                    .split(['<', '>'])
                    .nth(1)
                    .unwrap_or_default()
                    .to_lowercase();
                match shared.refuse_with.load(Ordering::SeqCst) {
                    0 => b"250 OK\r\n",
                    code => {
                        let class = code / 100;
                        refusal = format!(
                            "{code} {class}.1.1 <{to}>: Recipient address rejected: User unknown\r\n"
                        );
                        refusal.as_bytes()
                    }
                }
            }
            "HELO" | "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                let message = Received {
                    to: to.clone(),
                    data,
                };
                if shared.stall.load(Ordering::SeqCst) {
                    shared.cut_off.lock().unwrap().push(message);
                    // Hang until the client goes away.
                    while let Ok(Some(_)) = lines.next_line().await {}
                    return;
                }
                shared.accepted.lock().unwrap().push(message);
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 not implemented\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
