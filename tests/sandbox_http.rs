//! The sandbox's JSON API and test endpoints over HTTP, without a browser: sign-in rules, the
//! mutation log, fault injection, session expiry and reset.

use std::time::{Duration, Instant};

use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig};
use serde_json::{json, Value};

struct Api {
    sandbox: RunningSandbox,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Self {
        let sandbox = RunningSandbox::start_local(SandboxConfig::default())
            .await
            .expect("sandbox starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api { sandbox, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    /// Signs in with an emailed code; returns the token.
    async fn sign_in(&self, email: &str) -> String {
        assert!(self
            .post("/api/auth/otp", json!({"email": email}))
            .await
            .status()
            .is_success());
        let code = self
            .http
            .get(self.url("/__sandbox/mailbox/latest-code"))
            .query(&[("to", email)])
            .send()
            .await
            .expect("code")
            .text()
            .await
            .expect("text");
        let answer: Value = self
            .post(
                "/api/auth/otp/verify",
                json!({"email": email, "code": code}),
            )
            .await
            .json()
            .await
            .expect("JSON");
        answer["token"].as_str().expect("token").to_string()
    }

    async fn deactivate(&self, token: &str, member_id: &str) -> reqwest::Response {
        self.http
            .put(self.url(&format!("/api/workspace/members/{member_id}/status")))
            .header("X-Auth-Token", token)
            .json(&json!({"status": "INACTIVE"}))
            .send()
            .await
            .expect("PUT")
    }

    async fn member(&self, email: &str) -> Value {
        let state = self.get("/__sandbox/state").await;
        state["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["email"] == email)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn sign_in_refuses_unknown_inactive_and_pending_and_wrong_codes() {
    let api = Api::start().await;
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            api.post("/api/auth/otp", json!({"email": "nobody@acme.example"}))
                .await
        ),
        404
    );
    assert_eq!(
        status(
            api.post(
                "/api/auth/otp",
                json!({"email": "ivy.inactive@acme.example"})
            )
            .await
        ),
        403
    );
    assert_eq!(
        status(
            api.post(
                "/api/auth/otp",
                json!({"email": "pete.pending@acme.example"})
            )
            .await
        ),
        403
    );
    api.post("/api/auth/otp", json!({"email": "sam.sales@acme.example"}))
        .await;
    let wrong = api
        .post(
            "/api/auth/otp/verify",
            json!({"email": "sam.sales@acme.example", "code": "ZZZZZZ"}),
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 400);
    let owner_form = api
        .post(
            "/api/auth/token",
            json!({"email": "admin@acme.example", "password": "sandbox-admin-pass", "owner": true}),
        )
        .await;
    assert_eq!(
        owner_form.status().as_u16(),
        403,
        "/login-owner is for the owner"
    );
    let bad_password = api
        .post(
            "/api/auth/token",
            json!({"email": "admin@acme.example", "password": "nope", "owner": false}),
        )
        .await;
    assert_eq!(bad_password.status().as_u16(), 401);
    // Without a session cookie, app pages send the browser to sign-in.
    let page = api
        .http
        .get(api.url("/teams/members"))
        .send()
        .await
        .expect("page");
    assert!(page.status().is_redirection());
    assert_eq!(page.headers()["location"], "/en/login");
}

#[tokio::test]
async fn injected_failure_is_logged_and_changes_nothing() {
    let api = Api::start().await;
    let token = api.sign_in("owner@acme.example").await;
    let sam = api.member("sam.sales@acme.example").await;
    let sam_id = sam["id"].as_str().expect("id");
    api.post(
        "/__sandbox/faults",
        json!({"failNext": {"kind": "status", "status": 500}}),
    )
    .await;
    assert_eq!(api.deactivate(&token, sam_id).await.status().as_u16(), 500);
    assert_eq!(
        api.member("sam.sales@acme.example").await["status"],
        "ACTIVE"
    );
    assert_eq!(api.deactivate(&token, sam_id).await.status().as_u16(), 200);
    assert_eq!(
        api.member("sam.sales@acme.example").await["status"],
        "INACTIVE"
    );
    let log = api.get("/__sandbox/mutations").await;
    let statuses: Vec<_> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|m| {
            (
                m["kind"].clone(),
                m["status"].clone(),
                m["targets"][0].clone(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!("status"), json!(500), json!("sam.sales@acme.example")),
            (json!("status"), json!(200), json!("sam.sales@acme.example")),
        ]
    );
    // Reset restores the seed and empties the log.
    assert!(api
        .post("/__sandbox/reset", json!({}))
        .await
        .status()
        .is_success());
    assert_eq!(
        api.member("sam.sales@acme.example").await["status"],
        "ACTIVE"
    );
    assert_eq!(api.get("/__sandbox/mutations").await, json!([]));
}

#[tokio::test]
async fn expired_sessions_answer_401_and_latency_is_added() {
    let api = Api::start().await;
    let token = api.sign_in("admin@acme.example").await;
    let user = |token: String| {
        let request = api
            .http
            .get(api.url("/api/user"))
            .header("X-Auth-Token", token);
        async move { request.send().await.expect("GET /api/user") }
    };
    assert_eq!(user(token.clone()).await.status().as_u16(), 200);
    api.post("/__sandbox/faults", json!({"latencyMs": [150, 150]}))
        .await;
    let started = Instant::now();
    assert_eq!(user(token.clone()).await.status().as_u16(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "latency applied"
    );
    api.post("/__sandbox/expire-sessions", json!({})).await;
    assert_eq!(user(token).await.status().as_u16(), 401);
    let bad_fault = api.post("/__sandbox/faults", json!({"latency": 5})).await;
    assert_eq!(
        bad_fault.status().as_u16(),
        422,
        "unknown fault keys are refused"
    );
}

#[tokio::test]
async fn deactivated_members_are_signed_out() {
    let api = Api::start().await;
    let owner = api.sign_in("owner@acme.example").await;
    let sam = api.sign_in("sam.sales@acme.example").await;
    let sam_id = api.member("sam.sales@acme.example").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(api.deactivate(&owner, &sam_id).await.status().is_success());
    let answer = api
        .http
        .get(api.url("/api/user"))
        .header("X-Auth-Token", sam)
        .send()
        .await
        .expect("GET");
    assert_eq!(answer.status().as_u16(), 401);
}
