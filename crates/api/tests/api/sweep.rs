//! Hostile input at the HTTP layer, sent byte for byte over a raw socket (an HTTP client
//! library would normalise `..` and percent-encoding away): path traversal, encoded slashes
//! and unicode in every path parameter, and header floods.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, TestBackend, spawn_app};

/// One raw HTTP/1.1 exchange.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a problem+json body whose `status` is the response's, and returns it.
    fn problem(&self, what: &str) -> serde_json::Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{what}: status {}",
            self.status
        );
        let body: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{what}: problem body is JSON ({e})"));
        assert_eq!(body["status"], self.status, "{what}: {body}");
        assert!(body["code"].is_string(), "{what}: {body}");
        body
    }
}

/// Sends `head` (request line and headers, without the final blank line) and reads the answer.
async fn raw(app: &TestApp, head: &[u8]) -> Raw {
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    // The server may answer (and close) before it has read a flood; that is fine.
    let _ = stream.write_all(&request).await;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .expect("answered within 10 s")
        .ok();
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Raw {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP response: {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Raw {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
        rest = &rest[(start + size + 2).min(rest.len())..];
    }
    out
}

/// Hostile values for one path segment, as they appear on the wire.
const HOSTILE_SEGMENTS: &[&str] = &[
    "..",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2E%2E",
    "..%5C..%5Cwindows%5Cwin.ini",
    "%252e%252e%252fetc%252fpasswd",
    "..;%2F",
    "%00",
    "999%00",
    "999%0d%0aSet-Cookie:%20x=1",
    "%C0%AE%C0%AE%C0%AF",
    "%FF%FE%FD",
    "%",
    "%zz",
    "%E2%80%AE999",
    "999%E2%80%8B",
    "%EF%BC%8E%EF%BC%8E%EF%BC%8F",
    "%E0%A5%AF%E0%A5%AF%E0%A5%AF",
    "%F0%9F%92%A9",
    "999%2F..%2F998",
    "%2F",
];

/// Every route with a path parameter, as `prefix` + segment (+ suffix).
const PARAMETER_ROUTES: &[(&str, &str)] = &[
    ("/v1/organisations/", ""),
    ("/self-service/assets/", ""),
    ("/self-service/", ""),
    ("/swagger-ui/", ""),
];

#[tokio::test]
async fn path_traversal_encoded_slashes_and_unicode_in_every_path_parameter_are_problems() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let long = "A".repeat(8 * 1024);
    let mut segments: Vec<&str> = HOSTILE_SEGMENTS.to_vec();
    segments.push(&long);
    // Swagger UI serves its own index for an empty-looking tail; that page is no leak.
    let swagger_index = raw(&app, b"GET /swagger-ui/ HTTP/1.1\r\nhost: localhost")
        .await
        .body;
    let mut wrong = Vec::new();
    for (prefix, suffix) in PARAMETER_ROUTES {
        for segment in &segments {
            let path = format!("{prefix}{segment}{suffix}");
            let what = if path.len() > 80 {
                format!("{}…", &path[..80])
            } else {
                path.clone()
            };
            let res = raw(
                &app,
                format!("GET {path} HTTP/1.1\r\nhost: localhost").as_bytes(),
            )
            .await;
            if *prefix == "/swagger-ui/" && res.status == 200 && res.body == swagger_index {
                continue;
            }
            if !(400..500).contains(&res.status)
                || res.header("content-type") != Some("application/problem+json")
            {
                wrong.push(format!(
                    "{what}: {} {:?}",
                    res.status,
                    String::from_utf8_lossy(&res.body)
                        .chars()
                        .take(60)
                        .collect::<String>()
                ));
                continue;
            }
            let body = res.problem(&what);
            let text = body.to_string();
            assert!(
                !text.contains("passwd")
                    && !text.contains("win.ini")
                    && !text.contains("Set-Cookie"),
                "{what}: the input is not reflected: {text}"
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "not a problem+json 4xx:\n{}",
        wrong.join("\n")
    );
    // Unencoded traversal, which clients normalise away but an attacker's socket does not.
    for path in [
        "/v1/organisations/../../etc/passwd",
        "/self-service/assets/../../../Cargo.toml",
        "/self-service/../../../../etc/passwd",
        "/swagger-ui/../../../../etc/passwd",
        "/v1/organisations/999/../../../etc/passwd",
        "/v1/organisations/.%2e/.%2e/etc/passwd",
        "//v1//organisations//999",
        "/v1/organisations/999?code=../../etc/passwd",
    ] {
        let res = raw(
            &app,
            format!("GET {path} HTTP/1.1\r\nhost: localhost").as_bytes(),
        )
        .await;
        assert!(
            (400..500).contains(&res.status) || (res.status == 200 && path.contains('?')),
            "{path}: {}",
            res.status
        );
        if res.status != 200 {
            res.problem(path);
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn header_floods_are_refused_with_4xx_never_500() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();

    // More header lines than the parser takes (actix-http: 96), and one header larger than
    // its request-head buffer (128 KiB): refused by actix-http itself, before our middleware,
    // so the answer has no problem body. What matters: a 4xx, not a 500 or a hang.
    let many: String = (0..200).map(|i| format!("\r\nx-flood-{i}: v")).collect();
    let huge = format!("\r\nx-huge: {}", "a".repeat(256 * 1024));
    for (what, extra) in [
        ("200 headers", many.as_str()),
        ("one 256 KiB header", huge.as_str()),
    ] {
        let res = raw(
            &app,
            format!("GET /v1/password-policy HTTP/1.1\r\nhost: localhost{extra}").as_bytes(),
        )
        .await;
        assert!(
            res.status == 431 || res.status == 400,
            "{what}: {}",
            res.status
        );
    }

    // Within the parser's limits, large and odd headers reach the application, which answers
    // normally or with a problem.
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "90 headers of 300 bytes",
            (0..90)
                .map(|i| format!("\r\nx-flood-{i}: {}", "v".repeat(300)))
                .collect::<String>()
                .into_bytes(),
            200,
        ),
        (
            "16 KiB bearer token",
            format!("\r\nauthorization: Bearer {}", "A".repeat(16 * 1024)).into_bytes(),
            401,
        ),
        (
            "bearer token with non-UTF-8 bytes",
            b"\r\nauthorization: Bearer \xff\xfeabc\r\nx-request-id: \xff\xfe12345678".to_vec(),
            401,
        ),
        (
            "twenty authorization headers",
            (0..20)
                .map(|i| format!("\r\nauthorization: Bearer token{i}"))
                .collect::<String>()
                .into_bytes(),
            401,
        ),
        (
            "8 KiB request id",
            format!("\r\nx-request-id: {}", "r".repeat(8 * 1024)).into_bytes(),
            401,
        ),
        (
            "forged forwarded-for chain",
            format!(
                "\r\nx-forwarded-for: {}",
                (0..500)
                    .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into_bytes(),
            401,
        ),
    ];
    for (what, extra, expected) in cases {
        let path = if expected == 200 {
            "/v1/password-policy"
        } else {
            "/v1/me"
        };
        let mut head = format!("GET {path} HTTP/1.1\r\nhost: localhost").into_bytes();
        head.extend_from_slice(&extra);
        let res = raw(&app, &head).await;
        assert_eq!(res.status, expected, "{what}");
        if expected >= 400 {
            res.problem(what);
        }
        let id = res.header("x-request-id").unwrap_or_default();
        assert!(id.len() <= 64, "{what}: request id bounded: {id}");
    }

    // Conflicting framing headers (request smuggling): refused, never guessed.
    let res = raw(
        &app,
        b"POST /v1/auth/login HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 40",
    )
    .await;
    assert!((400..500).contains(&res.status), "{}", res.status);
    app.stop().await;
}
