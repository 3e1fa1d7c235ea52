//! The client's address through Debian's nginx with the cluster's own configuration
//! (`cluster/nginx.conf.template`): the per-address sign-in limit and the loopback-only `/dev`
//! pages see the real client, and a forged `X-Forwarded-For` changes nothing.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;
use tokio::process::{Child, Command};

use crate::helpers::{free_port, non_loopback_address, repo_file, spawn_with, Options, PASSWORD};

struct Nginx {
    port: u16,
    child: Child,
    _prefix: tempfile::TempDir,
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its workers too (a killed master leaves them running).
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}

impl Nginx {
    /// nginx on all interfaces, in front of `upstreams` (`127.0.0.1:PORT`).
    async fn start(upstreams: &[u16]) -> Self {
        let prefix = tempfile::tempdir().unwrap();
        let port = free_port();
        let template = repo_file("cluster/nginx.conf.template");
        let servers: String = upstreams
            .iter()
            .map(|p| format!("server 127.0.0.1:{p};"))
            .collect::<Vec<_>>()
            .join(" ");
        let conf = std::fs::read_to_string(template)
            .unwrap()
            .replace("@PREFIX@", &prefix.path().display().to_string())
            .replace("@LISTEN@", &format!("0.0.0.0:{port}"))
            .replace("@UPSTREAMS@", &servers);
        let conf_path = prefix.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Debian's nginx (make test-deps installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            port,
            child,
            _prefix: prefix,
        }
    }
}

#[engine_test]
async fn behind_nginx_the_rate_limit_and_dev_pages_see_the_real_client() {
    let app = spawn_with(Options {
        extra: vec![
            ("TRUSTED_PROXIES", "127.0.0.1".into()),
            ("AUTH_RATE_PER_IP_PER_MINUTE", "3".into()),
        ],
        ..Default::default()
    })
    .await;
    let app_port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(&[app_port]).await;
    let local = format!("http://127.0.0.1:{}", nginx.port);
    let remote = format!("http://{}:{}", non_loopback_address(), nginx.port);

    // /dev answers only a browser on this machine that connects to the app itself: through
    // nginx the request was forwarded, and could have come from anywhere (or claim loopback).
    let get = |base: &str, forged: Option<&str>| {
        let mut req = app.client.get(format!("{base}/dev/mail"));
        if let Some(f) = forged {
            req = req.header("x-forwarded-for", f);
        }
        req.send()
    };
    assert_eq!(get(&app.base, None).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        get(&local, None).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&remote, None).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let forged = get(&remote, Some("127.0.0.1")).await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);

    // Three sign-ins per minute per client: the remote client uses its three (one of them
    // claiming another address) and is refused; the local one still gets in.
    let user = app.user(Role::Customer, "Uma").await;
    let login = |base: &str, forged: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({ "email": user.email, "password": PASSWORD }));
        if let Some(f) = forged {
            req = req.header("x-forwarded-for", f);
        }
        req.send()
    };
    for forged in [None, Some("203.0.113.9"), None] {
        let res = login(&remote, forged).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = login(&remote, Some("198.51.100.7")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login(&local, None).await.unwrap().status(), StatusCode::OK);
}
