//! The example server (`realm-examples`) over real TCP: the protocol's promises: accepted logins
//! carry identity and sorted roles; every refusal is one fixed line that does not say whether the
//! user exists; over-long lines, idle peers and garbage close or refuse without hurting the server.
//! (The `demo` binary itself is tested in `examples/tests/demo.rs`, which Cargo builds it for.)

use crate::repo;
use realm_examples::{Client, Limits, Request, Response, authenticate, serve_with, setup};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts the example server on 127.0.0.1:0 with `examples/configs/embedded.yaml`, in the test's
/// runtime (it stops with the test).
async fn start(limits: Limits) -> SocketAddr {
    let config = repo().join("examples/configs/embedded.yaml");
    let setup = setup(&config, None).unwrap();
    assert_eq!(setup.service.realm_name(), "embedded");
    assert!(setup.warnings.is_empty(), "{:?}", setup.warnings);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_with(listener, setup.service, limits));
    addr
}

#[tokio::test]
async fn alice_is_accepted_with_identity_roles_and_endpoint() {
    let addr = start(Limits::default()).await;
    let response = authenticate(addr, &Request::password("alice", "wonderland"))
        .await
        .unwrap();
    assert_eq!(
        response,
        Response::Accepted {
            identity: Some("alice".into()),
            roles: vec!["admin".into(), "monitor".into()],
            endpoint: Some("127.0.0.1".into()),
        }
    );
}

#[tokio::test]
async fn refusals_are_one_fixed_line_and_the_connection_goes_on() {
    let addr = start(Limits::default()).await;
    let mut client = Client::connect(addr).await.unwrap();
    let wrong = client
        .send_line(&Request::password("alice", "not-her-password").to_json())
        .await
        .unwrap();
    let unknown = client
        .send_line(&Request::password("mallory", "not-her-password").to_json())
        .await
        .unwrap();
    let empty = client
        .send_line(&Request::password("alice", "").to_json())
        .await
        .unwrap();
    assert_eq!(wrong, r#"{"ok":false,"error":"denied"}"#);
    assert_eq!(wrong.as_bytes(), unknown.as_bytes());
    assert_eq!(empty, wrong);
    // Names are case-sensitive: `Alice` is just another unknown user.
    let case = client
        .send(&Request::password("Alice", "wonderland"))
        .await
        .unwrap();
    assert_eq!(case, Response::Denied);
    // Same connection, still serving.
    let bob = client
        .send(&Request::password("bob", "builder"))
        .await
        .unwrap();
    assert!(
        matches!(&bob, Response::Accepted { identity: Some(i), roles, .. } if i == "bob" && roles == &["monitor"]),
        "{bob:?}"
    );
}

#[tokio::test]
async fn token_credentials_are_denied_by_the_simple_realm() {
    let addr = start(Limits::default()).await;
    let response = authenticate(addr, &Request::token(b"some-opaque-token".to_vec()))
        .await
        .unwrap();
    assert_eq!(response, Response::Denied);
}

#[tokio::test]
async fn garbage_is_a_bad_request_and_the_connection_goes_on() {
    let addr = start(Limits::default()).await;
    let mut client = Client::connect(addr).await.unwrap();
    for garbage in [
        "not json",
        r#"{"username":"alice"}"#,
        r#"{"username":"alice","password":"wonderland","role":"admin"}"#,
        r#"{"token":"not base64!"}"#,
        // A newline in a name could forge a line in the server's log.
        r#"{"username":"eve\nINFO login succeeded user=admin","password":"x"}"#,
    ] {
        let reply = client.send_line(garbage).await.unwrap();
        assert_eq!(reply, r#"{"ok":false,"error":"bad-request"}"#, "{garbage}");
    }
    let alice = client
        .send(&Request::password("alice", "wonderland"))
        .await
        .unwrap();
    assert!(alice.is_accepted());
}

/// Reads until the server closes (EOF or reset), failing if it answers or takes too long.
async fn expect_closed(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("the server should close the connection");
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!(
            "expected the connection closed, got {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
    }
}

#[tokio::test]
async fn an_over_long_line_closes_that_connection_only() {
    let addr = start(Limits::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let long = format!(
        r#"{{"username":"{}","password":"x"}}"#,
        "a".repeat(realm_examples::MAX_LINE)
    );
    // The server may close (and reset) before everything is written: either is fine.
    let _ = stream.write_all(long.as_bytes()).await;
    expect_closed(&mut stream).await;

    // The server is still there.
    let response = authenticate(addr, &Request::password("alice", "wonderland"))
        .await
        .unwrap();
    assert!(response.is_accepted(), "{response:?}");
}

#[tokio::test]
async fn an_idle_peer_is_disconnected_after_the_read_timeout() {
    let addr = start(Limits {
        read_timeout: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // Half a request, then nothing.
    idle.write_all(br#"{"username":"alice","#).await.unwrap();
    expect_closed(&mut idle).await;
    let response = authenticate(addr, &Request::password("bob", "builder"))
        .await
        .unwrap();
    assert!(response.is_accepted(), "{response:?}");
}
