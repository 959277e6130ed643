//! The bare actix-web JSON endpoint, in this process: the ceiling `GET /v1/me` is compared
//! with.

use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result};

#[derive(serde::Serialize)]
pub struct Status {
    pub status: &'static str,
}

pub struct BareServer {
    pub addr: SocketAddr,
    pub handle: actix_web::dev::ServerHandle,
    pub thread: std::thread::JoinHandle<std::io::Result<()>>,
}

pub fn start_bare(workers: usize) -> Result<BareServer> {
    use actix_web::{App, HttpServer, web};
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| {
                App::new().route(
                    "/",
                    web::get().to(|| async { web::Json(Status { status: "ok" }) }),
                )
            })
            .workers(workers)
            .listen(listener)?
            .run();
            let _ = tx.send(server.handle());
            server.await
        })
    });
    let handle = rx.recv().context("bare server did not start")?;
    Ok(BareServer {
        addr,
        handle,
        thread,
    })
}
