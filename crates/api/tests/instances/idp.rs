//! An identity provider that answers slowly: every HTTP request is read, then answered after
//! a delay with a discovery document (or an empty JSON object for other paths).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running slow provider on 127.0.0.1; stops when dropped.
pub struct SlowIdp {
    /// `http://127.0.0.1:PORT` (the issuer).
    pub issuer: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlowIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlowIdp {
    /// Starts a provider that waits `delay` before each answer.
    pub async fn start(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let requests = Arc::new(AtomicUsize::new(0));
        let (count, iss) = (Arc::clone(&requests), issuer.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (count, iss) = (Arc::clone(&count), iss.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    count.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    tokio::time::sleep(delay).await;
                    let body = if head.contains("/.well-known/openid-configuration") {
                        serde_json::json!({
                            "issuer": iss,
                            "authorization_endpoint": format!("{iss}/authorize"),
                            "token_endpoint": format!("{iss}/token"),
                            "jwks_uri": format!("{iss}/jwks"),
                            "response_types_supported": ["code"],
                            "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                        })
                        .to_string()
                    } else {
                        "{}".to_owned()
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Self {
            issuer,
            requests,
            task,
        }
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
