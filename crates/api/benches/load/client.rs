//! Load generator: one keep-alive HTTP/1.1 connection per client, requests back to back, or
//! an open-loop pace over a pool of connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

use crate::knobs::DEMO_LOGINS;
use crate::record::Record;

pub type Sender = SendRequest<Full<Bytes>>;

/// Builds the n-th request of a client.
pub type MakeRequest = Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>;

pub async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

pub fn request(
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, "127.0.0.1");
    if let Some(token) = bearer {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    builder
        .body(Full::new(body.unwrap_or_default()))
        .expect("valid request")
}

pub fn login_body(n: usize) -> Bytes {
    let (username, password) = DEMO_LOGINS[n % DEMO_LOGINS.len()];
    Bytes::from(serde_json::json!({"username": username, "password": password}).to_string())
}

/// Logins rotating over the demo accounts, starting at a per-client offset.
pub fn login_requests(offset: usize) -> MakeRequest {
    let bodies: Vec<Bytes> = (0..DEMO_LOGINS.len()).map(login_body).collect();
    Arc::new(move |n| {
        request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(bodies[(n + offset) % bodies.len()].clone()),
        )
    })
}

pub fn get_requests(path: &'static str, bearer: Option<String>) -> MakeRequest {
    Arc::new(move |_| request(Method::GET, path, bearer.as_deref(), None))
}

/// One client: sends requests back to back until `deadline`, reconnecting after errors.
pub async fn client(addr: SocketAddr, deadline: Instant, make: MakeRequest) -> Record {
    let start = Instant::now();
    let mut record = Record::default();
    let mut sender: Option<Sender> = None;
    let mut n = 0usize;
    while Instant::now() < deadline {
        let mut s = match sender.take() {
            Some(s) => s,
            None => match connect(addr).await {
                Ok(s) => s,
                Err(_) => {
                    record.errors += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let req = make(n);
        n += 1;
        let t0 = Instant::now();
        let Ok((status, _)) = exchange(&mut s, req).await else {
            record.errors += 1;
            continue;
        };
        record.add(status, t0.elapsed());
        sender = Some(s);
    }
    record.elapsed = start.elapsed();
    record
}

/// `clients` clients of one kind for `duration`; all latencies merged.
pub async fn run_clients(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    make: impl Fn(usize) -> MakeRequest,
) -> Record {
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(addr, deadline, make(i))))
        .collect();
    let mut all = Record::default();
    for t in tasks {
        all.merge(t.await.expect("client task"));
    }
    all
}

/// An open-loop load: the n-th request is due at `start + n / rate` whether or not earlier
/// answers were quick, and goes out on an idle keep-alive connection (a new one when none is
/// idle, at most `connections` at once), so one slow answer never holds up the requests behind
/// it the way a single connection would. Latency is measured from the due time, so a stalled
/// server (or a full connection cap) shows up as latency instead of as fewer requests (no
/// coordinated omission).
pub async fn run_paced(
    addr: SocketAddr,
    connections: usize,
    rate: f64,
    duration: Duration,
    make: impl Fn(usize) -> MakeRequest,
) -> Record {
    let make = make(0);
    let start = Instant::now();
    let deadline = start + duration;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let idle: Arc<std::sync::Mutex<Vec<Sender>>> = Arc::default();
    let cap = Arc::new(tokio::sync::Semaphore::new(connections.max(1)));
    let record: Arc<std::sync::Mutex<Record>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0usize;
    loop {
        let due = start + interval.mul_f64(n as f64);
        if due >= deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let req = make(n);
        n += 1;
        let (idle, cap, record) = (Arc::clone(&idle), Arc::clone(&cap), Arc::clone(&record));
        tasks.spawn(async move {
            let Ok(_permit) = cap.acquire_owned().await else {
                return;
            };
            let pooled = idle.lock().expect("idle connections").pop();
            let mut s = match pooled {
                Some(s) => s,
                None => match connect(addr).await {
                    Ok(s) => s,
                    Err(_) => {
                        record.lock().expect("record").errors += 1;
                        return;
                    }
                },
            };
            let Ok((status, _)) = exchange(&mut s, req).await else {
                record.lock().expect("record").errors += 1;
                return;
            };
            record.lock().expect("record").add(status, due.elapsed());
            idle.lock().expect("idle connections").push(s);
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut all = std::mem::take(&mut *record.lock().expect("record"));
    all.elapsed = duration;
    all
}

/// One request on a fresh connection: status and body.
pub async fn once(addr: SocketAddr, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    exchange(&mut connect(addr).await?, req).await
}

/// One request on an open connection, once it is ready: status and whole body.
pub async fn exchange(s: &mut Sender, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    s.ready().await?;
    let resp = s.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

pub async fn login_token(addr: SocketAddr) -> Result<String> {
    let (status, body) = once(
        addr,
        request(Method::POST, "/v1/auth/login", None, Some(login_body(0))),
    )
    .await?;
    if status != 200 {
        bail!(
            "login answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access_token in {json}"))
}
