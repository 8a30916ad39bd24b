//! `--insecure` against TLS, in headless Firefox. A TLS-terminating proxy on 127.0.0.1 with a
//! self-signed certificate made when the test starts (nothing secret is committed) stands in
//! front of the sandbox and passes bytes both ways unchanged, so the sandbox's pages, cookies
//! and sign-in work through it as on a real `https://` tenant.
//!
//! Without `--insecure` the agent refuses the untrusted certificate: exit 4 (sign-in failed),
//! an error naming the certificate problem and the way out, and nothing typed or changed (no
//! code mailed, an empty mutation log). With `--insecure` the same command does its work, the
//! change is in the sandbox's state, and the run's `run_start` event records the flag.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_native_tls::native_tls;

mod agent_common;

use agent_common::{assert_code, run_agent, Bed, ADMIN};

/// An active member of the built-in seed.
const SAM: &str = "sam.sales@acme.example";

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, both PEM.
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::{X509NameBuilder, X509};

    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, "127.0.0.1")
        .expect("CN");
    let name = name.build();
    let mut serial = BigNum::new().expect("bignum");
    serial
        .rand(64, MsbOption::MAYBE_ZERO, false)
        .expect("serial");
    let mut cert = X509::builder().expect("builder");
    cert.set_version(2).expect("v3");
    cert.set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    cert.set_subject_name(&name).expect("subject");
    cert.set_issuer_name(&name).expect("issuer");
    cert.set_pubkey(&key).expect("public key");
    cert.set_not_before(&Asn1Time::days_from_now(0).expect("now"))
        .expect("not before");
    cert.set_not_after(&Asn1Time::days_from_now(2).expect("later"))
        .expect("not after");
    cert.append_extension(BasicConstraints::new().build().expect("basic constraints"))
        .expect("extension");
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&cert.x509v3_context(None, None))
        .expect("subject alternative name");
    cert.append_extension(san).expect("extension");
    cert.sign(&key, MessageDigest::sha256())
        .expect("self-signed");
    (
        cert.build().to_pem().expect("certificate PEM"),
        key.private_key_to_pem_pkcs8().expect("key PEM"),
    )
}

/// Starts a TLS proxy on 127.0.0.1 in front of `target`; returns its `https://` URL. Each
/// connection is decrypted and its bytes copied to and from a new connection to `target`, so
/// the Host header, cookies and redirects pass as the browser sent them.
async fn start_tls_proxy(target: SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    let (cert, key) = self_signed();
    let identity = native_tls::Identity::from_pkcs8(&cert, &key).expect("identity");
    let acceptor = tokio_native_tls::TlsAcceptor::from(
        native_tls::TlsAcceptor::new(identity).expect("TLS acceptor"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A browser that refuses the certificate ends the handshake: nothing to forward.
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), task)
}

/// The `run_start` event of the one run folder under `audit`.
fn run_start(audit: &Path) -> Value {
    let runs: Vec<PathBuf> = std::fs::read_dir(audit)
        .expect("audit folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(runs.len(), 1, "one run folder: {runs:?}");
    let events = std::fs::read_to_string(runs[0].join("events.jsonl")).expect("events.jsonl");
    let first: Value =
        serde_json::from_str(events.lines().next().expect("a first event")).expect("JSON");
    assert_eq!(first["kind"], "run_start", "{first}");
    first["data"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_is_refused_unless_insecure_is_given() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let target: SocketAddr = bed
        .sandbox
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("the sandbox's address");
    let (https, proxy) = start_tls_proxy(target).await;

    // Certificate checks on (the default): refused before anything is typed.
    let strict_audit = bed.dir.path().join("strict");
    let strict = run_agent(
        &bed.code_args_at(
            &https,
            ADMIN,
            &strict_audit,
            &["deactivate", "--email", SAM],
        ),
        &[],
    )
    .await;
    assert_code(&strict, 4);
    let error = strict
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    for needle in [
        "sign-in failed",
        "the TLS certificate of https://127.0.0.1:",
        "is not trusted",
        "--insecure",
    ] {
        assert!(
            error.contains(needle),
            "lacks {needle:?}: {}",
            strict.all_output()
        );
    }
    // No sign-in code was requested: nothing was typed.
    bed.assert_untouched().await;
    assert_eq!(bed.status(SAM).await, "ACTIVE");
    let info = run_start(&strict_audit);
    assert_eq!(info["insecure"], false, "{info}");

    // Certificate checks off: the same command works through the proxy.
    let insecure_audit = bed.dir.path().join("insecure");
    let insecure = run_agent(
        &bed.code_args_at(
            &https,
            ADMIN,
            &insecure_audit,
            &["--insecure", "deactivate", "--email", SAM],
        ),
        &[],
    )
    .await;
    assert_code(&insecure, 0);
    assert!(
        insecure
            .stderr
            .contains("warning: --insecure: TLS certificate errors are ignored"),
        "{}",
        insecure.all_output()
    );
    assert_eq!(bed.status(SAM).await, "INACTIVE");
    assert_eq!(
        bed.accepted_mutations().await,
        vec![("status".to_string(), SAM.to_string())],
        "one deactivation"
    );
    let info = run_start(&insecure_audit);
    assert_eq!(info["insecure"], true, "{info}");
    assert!(
        info["base_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&https)),
        "{info}"
    );
    proxy.abort();
}
