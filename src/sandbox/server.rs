//! The sandbox's HTTP surface: pages, the JSON API the pages call, and the test endpoints.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::Rng;
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{now_rfc3339, AuthStore, CodeRejection};
use super::model::{
    ApiError, MemberQuery, MemberStatus, ProfileRequest, RolesRequest, WorkspaceState,
};
use super::{SandboxConfig, SandboxError, TEST_PREFIX};

/// Name of the session cookie (synthetic).
const SESSION_COOKIE: &str = "cl_session";

#[derive(RustEmbed)]
#[folder = "fixtures/sandbox/"]
struct Assets;

/// One mutating request the sandbox received, for duplicate detection.
#[derive(Debug, Clone, Serialize)]
pub struct MutationRecord {
    /// 1-based order of arrival.
    pub seq: u64,
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    /// When it arrived, in milliseconds since the sandbox started (for measuring recoveries).
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// `invite`, `roles`, `status`, `resend`, `revoke`, `profile`, `group` or `limited`.
    pub kind: &'static str,
    /// Emails (or names) the request was about.
    pub targets: Vec<String>,
    /// What the request asked for, in short (e.g. `INACTIVE`, `admin`).
    pub detail: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// Injected faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Faults {
    /// Random added latency range for every API call and app page, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency_ms: Option<(u64, u64)>,
    /// Added latency of the data the dialogs load (workspace, groups, projects), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dialog_latency_ms: Option<u64>,
    /// Fail the next mutations of one kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail_next: Option<FailNext>,
    /// Answer the sign-in pages ([`LOGIN_PATHS`]) with `302` to this absolute http(s) URL, as a
    /// hijacked or misconfigured sign-in would (origin checks are tested against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_login_to: Option<String>,
    /// The app shows no success toast after a change (the change itself still happens), as when
    /// a toast is missed or suppressed: only reading the state back can confirm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drop_toasts: Option<bool>,
    /// The next searches of the member list (the app's own background refreshes aside) make
    /// the app quietly re-fetch and re-render the table rows a moment later (as Clockify's
    /// background refresh does), so rows found just before go stale before they are clicked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rerender_rows: Option<RerenderRows>,
    /// Another admin invites this many people whose addresses contain the term of the next
    /// search, right after that search is answered: the searched member moves to page 2 of the
    /// results (the invitees sort first by name). They are not in the mutation log, which only
    /// holds the requests of the browser under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crowd_next_search: Option<u32>,
}

/// See [`Faults::rerender_rows`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RerenderRows {
    /// How long after rendering a list response the app re-renders it, in ms.
    after_ms: u64,
    /// How many searches do so.
    #[serde(default = "one")]
    count: u32,
}

/// The header through which API responses tell the sandbox app which UI faults are on (a
/// synthetic channel; real Clockify has nothing like it).
const UI_FAULTS_HEADER: &str = "x-sandbox-faults";

/// The sign-in pages the `redirectLoginTo` fault redirects.
const LOGIN_PATHS: [&str; 4] = ["/en/login", "/login", "/es/login", "/login-owner"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailNext {
    /// A mutation kind, or `any`.
    kind: String,
    /// HTTP status to answer.
    status: u16,
    /// How many requests to fail.
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

struct Inner {
    workspace: WorkspaceState,
    auth: AuthStore,
    mutations: Vec<MutationRecord>,
    faults: Faults,
    /// The search term the `crowdNextSearch` fault waits to crowd (armed by the first search).
    crowd_term: Option<String>,
    /// When the sandbox started (or was last reset).
    started: std::time::Instant,
}

/// Shared state of the server.
#[derive(Clone)]
pub(super) struct AppState {
    config: Arc<SandboxConfig>,
    base_url: Arc<String>,
    inner: Arc<Mutex<Inner>>,
}

impl AppState {
    pub(super) fn new(config: SandboxConfig, addr: SocketAddr) -> Result<Self, SandboxError> {
        let inner = fresh_inner(&config)?;
        Ok(AppState {
            config: Arc::new(config),
            base_url: Arc::new(format!("http://{addr}")),
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every change is one assignment
        // sequence in the model), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn fresh_inner(config: &SandboxConfig) -> Result<Inner, SandboxError> {
    let auth = config.seed.auth();
    Ok(Inner {
        workspace: config.seed.build()?,
        auth: AuthStore::new(
            Duration::from_secs(auth.code_minutes * 60),
            Duration::from_secs(auth.session_minutes * 60),
        ),
        mutations: Vec::new(),
        faults: Faults::default(),
        crowd_term: None,
        started: std::time::Instant::now(),
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Your session has expired. Please log in again.",
    )
}

/// Builds the router.
pub(super) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/otp", post(request_code))
        .route("/auth/otp/verify", post(verify_code))
        .route("/auth/token", post(password_login))
        .route("/auth/logout", post(logout))
        .route("/user", get(current_user))
        .route("/workspace", get(workspace_info))
        .route("/workspace/members", get(list_members))
        .route("/workspace/groups", get(list_groups).post(create_group))
        .route("/workspace/projects", get(list_projects))
        .route("/workspace/invitations", post(invite))
        .route("/workspace/limited-members", post(add_limited))
        .route("/workspace/members/{id}/roles", put(set_roles))
        .route("/workspace/members/{id}/status", put(set_status))
        .route("/workspace/members/{id}/profile", put(set_profile))
        .route("/workspace/members/{id}/invitation/resend", post(resend))
        .route("/workspace/members/{id}/invitation", delete(revoke))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "No such API") });
    let testing = Router::new()
        .route("/state", get(test_state))
        .route("/reset", post(test_reset))
        .route("/mutations", get(test_mutations))
        .route("/mailbox", get(test_mailbox))
        .route("/mailbox/latest-code", get(test_latest_code))
        .route("/faults", post(set_faults).delete(clear_faults))
        .route("/expire-sessions", post(expire_sessions));
    Router::new()
        .nest("/api", api)
        .nest(TEST_PREFIX, testing)
        .route("/web/boot", get(boot))
        .route("/assets/{*file}", get(asset))
        .route("/en/login", get(login_page))
        .route("/es/login", get(login_page))
        .route("/login", get(login_page))
        .route("/login-owner", get(login_page))
        .route("/en/signup", get(signup_page))
        .route("/signup", get(signup_page))
        .fallback(app_page)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            injected_login_redirect,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ui_faults))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            injected_latency,
        ))
        .with_state(state)
}

/// Answers the sign-in pages with `302` to the configured URL while `redirectLoginTo` is set.
async fn injected_login_redirect(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if LOGIN_PATHS.contains(&request.uri().path()) {
        let target = app.lock().faults.redirect_login_to.clone();
        if let Some(target) = target {
            if let Ok(location) = HeaderValue::from_str(&target) {
                return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
            }
        }
    }
    next.run(request).await
}

/// Adds the configured latency to API calls and app pages (not to assets or test endpoints).
async fn injected_latency(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let delayed = !path.starts_with(TEST_PREFIX) && !path.starts_with("/assets/");
    if delayed {
        let range = app.lock().faults.latency_ms;
        if let Some((low, high)) = range {
            let ms = if high > low {
                rand::rng().random_range(low..=high)
            } else {
                low
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    next.run(request).await
}

/// Tells the app, in [`UI_FAULTS_HEADER`], which UI faults are on; the answer to a search of
/// the member list (not a background refresh) also carries, and uses up, one pending re-render.
async fn ui_faults(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let searched = request
        .uri()
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .is_some_and(|mut pairs| pairs.any(|(k, v)| k == "search" && !v.trim().is_empty()));
    let is_list = request.method() == axum::http::Method::GET
        && request.uri().path() == "/api/workspace/members"
        && searched
        && !request.headers().contains_key("x-background-refresh");
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if !is_api {
        return response;
    }
    let header = {
        let mut inner = app.lock();
        let faults = &mut inner.faults;
        let mut on = serde_json::Map::new();
        if faults.drop_toasts == Some(true) {
            on.insert("dropToasts".into(), json!(true));
        }
        if is_list && response.status().is_success() {
            if let Some(rerender) = faults.rerender_rows.as_mut() {
                on.insert("rerenderAfterMs".into(), json!(rerender.after_ms));
                rerender.count = rerender.count.saturating_sub(1);
                if rerender.count == 0 {
                    faults.rerender_rows = None;
                }
            }
        }
        (!on.is_empty()).then(|| serde_json::Value::Object(on).to_string())
    };
    if let Some(value) = header.and_then(|h| HeaderValue::from_str(&h).ok()) {
        response.headers_mut().insert(UI_FAULTS_HEADER, value);
    }
    response
}

/// Applies the `crowdNextSearch` fault: the first search arms it, the next list request finds
/// the crowd already invited.
fn crowd_search(inner: &mut Inner, search: Option<&str>) {
    let Some(count) = inner.faults.crowd_next_search else {
        return;
    };
    if let Some(term) = inner.crowd_term.take() {
        inner
            .workspace
            .add_concurrent_invites(&term, count as usize);
        inner.faults.crowd_next_search = None;
        return;
    }
    let term = search.map(str::trim).unwrap_or_default();
    if !term.is_empty() {
        inner.crowd_term = Some(term.to_lowercase());
    }
}

async fn dialog_latency(app: &AppState) {
    let delay = app.lock().faults.dialog_latency_ms;
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

// ---------------------------------------------------------------- pages

fn html(body: std::borrow::Cow<'static, [u8]>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn embedded_page(name: &str) -> Response {
    match Assets::get(name) {
        Some(file) => html(file.data),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "page missing from build").into_response(),
    }
}

async fn login_page() -> Response {
    embedded_page("login.html")
}

async fn signup_page() -> Response {
    html(std::borrow::Cow::Borrowed(
        b"<!doctype html><title>Sign up - Clockify</title><h1>Sign up</h1>\
          <p>This address has no account. Sign-up is not part of the sandbox.</p>\
          <a href=\"/en/login\">Back to log in</a>",
    ))
}

/// App routes the SPA renders; anything else is a 404.
fn is_app_route(path: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "/tracker",
        "/dashboard",
        "/calendar",
        "/projects",
        "/reports",
        "/teams",
        "/workspaces",
        "/user",
        "/upgrade",
    ];
    PREFIXES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

async fn app_page(
    State(app): State<AppState>,
    jar: CookieJar,
    method: Method,
    uri: Uri,
) -> Response {
    let path = uri.path();
    if method != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let signed_in = jar
        .get(SESSION_COOKIE)
        .is_some_and(|c| app.lock().auth.cookie_is_live(c.value()));
    if path == "/" {
        return Redirect::to(if signed_in { "/tracker" } else { "/en/login" }).into_response();
    }
    if !is_app_route(path) {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    if !signed_in {
        return Redirect::to("/en/login").into_response();
    }
    embedded_page("app.html")
}

async fn asset(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(content) => {
            let mime = mime_guess::from_path(&file).first_or_octet_stream();
            let mut response = content.data.into_response();
            if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

async fn boot(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "endpoint": "/api",
        "frontendUrl": app.base_url.as_str(),
        "selfHosted": false,
        "uiVersion": app.config.ui_version.as_str(),
        "sandbox": true,
    }))
}

// ---------------------------------------------------------------- sign-in

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

/// Checks that `email` belongs to a member who may sign in; returns the member id.
fn sign_in_candidate(inner: &Inner, email: &str) -> Result<String, ApiError> {
    let member = inner
        .workspace
        .member_by_email(email)
        .filter(|m| !m.limited)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "UNKNOWN_EMAIL",
                "No account with this email",
            )
        })?;
    match member.status {
        MemberStatus::Active => Ok(member.id.clone()),
        MemberStatus::Inactive => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "DEACTIVATED",
            "You've been logged out since your account has been disabled.",
        )),
        MemberStatus::Pending => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_JOINED",
            "Accept your invitation to join this workspace first",
        )),
    }
}

async fn request_code(State(app): State<AppState>, Json(body): Json<EmailBody>) -> Response {
    let mut inner = app.lock();
    let email = body.email.trim().to_lowercase();
    if let Err(e) = sign_in_candidate(&inner, &email) {
        return e.into_response();
    }
    let workspace = inner.workspace.workspace.name.clone();
    inner.auth.send_code(&email, &workspace);
    Json(json!({"sent": true})).into_response()
}

fn signed_in(inner: &mut Inner, jar: CookieJar, member_id: &str) -> Response {
    let (token, cookie) = inner.auth.start_session(member_id);
    let cookie = Cookie::build((SESSION_COOKIE, cookie))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    (
        jar.add(cookie),
        Json(json!({"token": token, "userId": member_id})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CodeBody {
    email: String,
    code: String,
}

async fn verify_code(
    State(app): State<AppState>,
    jar: CookieJar,
    Json(body): Json<CodeBody>,
) -> Response {
    let mut inner = app.lock();
    let email = body.email.trim().to_lowercase();
    let member_id = match sign_in_candidate(&inner, &email) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match inner.auth.take_code(&email, &body.code) {
        Ok(()) => signed_in(&mut inner, jar, &member_id),
        Err(CodeRejection::Invalid) => {
            ApiError::new(StatusCode::BAD_REQUEST, "INVALID_CODE", "Invalid code").into_response()
        }
        Err(CodeRejection::Expired) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "CODE_EXPIRED",
            "Code has expired. Request a new one.",
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
struct PasswordBody {
    email: String,
    password: String,
    #[serde(default)]
    owner: bool,
}

async fn password_login(
    State(app): State<AppState>,
    jar: CookieJar,
    Json(body): Json<PasswordBody>,
) -> Response {
    let mut inner = app.lock();
    let email = body.email.trim().to_lowercase();
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "Invalid email or password",
        )
    };
    let Some(member) = inner.workspace.member_by_email(&email) else {
        return invalid().into_response();
    };
    if member.password.as_deref() != Some(body.password.as_str()) {
        return invalid().into_response();
    }
    if body.owner && !member.has(super::model::Role::Owner) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_OWNER",
            "Only the workspace owner can log in here",
        )
        .into_response();
    }
    match sign_in_candidate(&inner, &email) {
        Ok(member_id) => signed_in(&mut inner, jar, &member_id),
        Err(e) => e.into_response(),
    }
}

fn token(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-auth-token").and_then(|v| v.to_str().ok())
}

/// The signed-in member's id, from the `X-Auth-Token` header.
fn actor(inner: &Inner, headers: &HeaderMap) -> Result<String, ApiError> {
    token(headers)
        .and_then(|t| inner.auth.member_for_token(t))
        .map(str::to_string)
        .ok_or_else(unauthorized)
}

async fn logout(State(app): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = token(&headers) {
        app.lock().auth.end_session(t);
    }
    StatusCode::NO_CONTENT
}

// ---------------------------------------------------------------- reads

/// Runs a read that needs a signed-in member.
fn read<T: Serialize>(
    app: &AppState,
    headers: &HeaderMap,
    f: impl FnOnce(&Inner, &str) -> Result<T, ApiError>,
) -> Response {
    let inner = app.lock();
    match actor(&inner, headers).and_then(|id| f(&inner, &id)) {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn current_user(State(app): State<AppState>, headers: HeaderMap) -> Response {
    read(&app, &headers, |inner, id| {
        let m = inner.workspace.member(id)?;
        let role = m.roles.first().map_or("REGULAR".into(), |r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        });
        Ok(json!({"id": m.id, "email": m.email, "name": m.name, "role": role, "roles": m.roles}))
    })
}

fn workspace_json(w: &WorkspaceState) -> serde_json::Value {
    json!({
        "id": w.workspace.id,
        "name": w.workspace.name,
        "plan": w.workspace.plan,
        "seats": w.workspace.seats,
        "seatsUsed": w.seats_used(),
        "kiosk": w.workspace.kiosk,
    })
}

async fn workspace_info(State(app): State<AppState>, headers: HeaderMap) -> Response {
    dialog_latency(&app).await;
    read(&app, &headers, |inner, _| {
        Ok(workspace_json(&inner.workspace))
    })
}

async fn list_members(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<MemberQuery>,
) -> Response {
    crowd_search(&mut app.lock(), query.search.as_deref());
    read(&app, &headers, |inner, _| Ok(inner.workspace.list(&query)))
}

async fn list_groups(State(app): State<AppState>, headers: HeaderMap) -> Response {
    dialog_latency(&app).await;
    read(&app, &headers, |inner, _| {
        Ok(inner.workspace.groups.clone())
    })
}

async fn list_projects(State(app): State<AppState>, headers: HeaderMap) -> Response {
    dialog_latency(&app).await;
    read(&app, &headers, |inner, _| {
        Ok(inner.workspace.projects.clone())
    })
}

// ---------------------------------------------------------------- mutations

/// What one mutating request is, for the log.
struct Mutation<'a> {
    method: &'static str,
    path: String,
    kind: &'static str,
    targets: &'a dyn Fn(&WorkspaceState) -> Vec<String>,
    detail: String,
}

/// Runs a mutation: signs in the actor, applies injected failures, applies `op`, and logs the
/// request with the status answered (also when refused).
fn mutate<T: Serialize>(
    app: &AppState,
    headers: &HeaderMap,
    mutation: Mutation<'_>,
    op: impl FnOnce(&mut Inner, &str) -> Result<T, ApiError>,
) -> Response {
    let mut inner = app.lock();
    let targets = (mutation.targets)(&inner.workspace);
    let outcome = actor(&inner, headers).and_then(|actor_id| {
        if let Some(status) = take_injected_failure(&mut inner.faults, mutation.kind) {
            return Err(ApiError::new(
                status,
                "INJECTED_FAILURE",
                "Something went wrong. Please try again later.",
            ));
        }
        op(&mut inner, &actor_id)
    });
    let (status, response) = match outcome {
        Ok(value) => (StatusCode::OK, Json(value).into_response()),
        Err(e) => (e.status, e.into_response()),
    };
    let seq = inner.mutations.len() as u64 + 1;
    let at_ms = inner.started.elapsed().as_millis() as u64;
    inner.mutations.push(MutationRecord {
        seq,
        at: now_rfc3339(),
        at_ms,
        method: mutation.method.to_string(),
        path: mutation.path,
        kind: mutation.kind,
        targets,
        detail: mutation.detail,
        status: status.as_u16(),
    });
    response
}

fn take_injected_failure(faults: &mut Faults, kind: &str) -> Option<StatusCode> {
    let fail = faults.fail_next.as_mut()?;
    if fail.kind != kind && fail.kind != "any" {
        return None;
    }
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    fail.count = fail.count.saturating_sub(1);
    if fail.count == 0 {
        faults.fail_next = None;
    }
    Some(status)
}

fn email_of(id: &str) -> impl Fn(&WorkspaceState) -> Vec<String> + '_ {
    move |w| {
        w.member(id)
            .map(|m| vec![m.email.clone()])
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct InviteBody {
    emails: Vec<String>,
}

async fn invite(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<InviteBody>,
) -> Response {
    let emails: Vec<String> = body
        .emails
        .iter()
        .flat_map(|e| e.split([',', ';', ' ', '\n', '\r', '\t']))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    let targets = |_: &WorkspaceState| emails.iter().map(|e| e.to_lowercase()).collect();
    let mutation = Mutation {
        method: "POST",
        path: "/api/workspace/invitations".into(),
        kind: "invite",
        targets: &targets,
        detail: format!("{} address(es)", emails.len()),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        let invited = inner.workspace.invite(actor, &emails)?;
        let name = inner.workspace.workspace.name.clone();
        for m in &invited {
            inner.auth.send_mail(
                &m.email,
                format!("You've been invited to join {name} on Clockify"),
            );
        }
        Ok(json!({"invited": invited}))
    })
}

async fn set_roles(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RolesRequest>,
) -> Response {
    let mut detail = Vec::new();
    if body.admin {
        detail.push("admin");
    }
    if body.team_manager.is_some() {
        detail.push("team-manager");
    }
    if body.project_manager.is_some() {
        detail.push("project-manager");
    }
    let detail = if detail.is_empty() {
        "regular".to_string()
    } else {
        detail.join("+")
    };
    let targets = email_of(&id);
    let mutation = Mutation {
        method: "PUT",
        path: format!("/api/workspace/members/{id}/roles"),
        kind: "roles",
        targets: &targets,
        detail,
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        inner.workspace.set_roles(actor, &id, &body)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: MemberStatus,
}

async fn set_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> Response {
    let targets = email_of(&id);
    let mutation = Mutation {
        method: "PUT",
        path: format!("/api/workspace/members/{id}/status"),
        kind: "status",
        targets: &targets,
        detail: format!("{:?}", body.status).to_uppercase(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        let member = inner.workspace.set_status(actor, &id, body.status)?;
        if member.status == MemberStatus::Inactive {
            // Deactivated members lose access at once.
            inner.auth.end_sessions_of(&id);
        }
        Ok(member)
    })
}

async fn set_profile(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ProfileRequest>,
) -> Response {
    let targets = email_of(&id);
    let mutation = Mutation {
        method: "PUT",
        path: format!("/api/workspace/members/{id}/profile"),
        kind: "profile",
        targets: &targets,
        detail: String::new(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        inner.workspace.set_profile(actor, &id, &body)
    })
}

async fn resend(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let targets = email_of(&id);
    let mutation = Mutation {
        method: "POST",
        path: format!("/api/workspace/members/{id}/invitation/resend"),
        kind: "resend",
        targets: &targets,
        detail: String::new(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        let email = inner
            .workspace
            .pending_invitation(actor, &id)?
            .email
            .clone();
        let name = inner.workspace.workspace.name.clone();
        inner.auth.send_mail(
            &email,
            format!("You've been invited to join {name} on Clockify"),
        );
        Ok(json!({"sent": true}))
    })
}

async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let targets = email_of(&id);
    let mutation = Mutation {
        method: "DELETE",
        path: format!("/api/workspace/members/{id}/invitation"),
        kind: "revoke",
        targets: &targets,
        detail: String::new(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        inner.workspace.revoke(actor, &id).map(|_| json!({}))
    })
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

async fn create_group(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NameBody>,
) -> Response {
    let targets = |_: &WorkspaceState| vec![body.name.clone()];
    let mutation = Mutation {
        method: "POST",
        path: "/api/workspace/groups".into(),
        kind: "group",
        targets: &targets,
        detail: String::new(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        inner.workspace.create_group(actor, &body.name)
    })
}

#[derive(Deserialize)]
struct NamesBody {
    names: Vec<String>,
}

async fn add_limited(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NamesBody>,
) -> Response {
    let targets = |_: &WorkspaceState| body.names.clone();
    let mutation = Mutation {
        method: "POST",
        path: "/api/workspace/limited-members".into(),
        kind: "limited",
        targets: &targets,
        detail: String::new(),
    };
    mutate(&app, &headers, mutation, |inner, actor| {
        inner.workspace.add_limited(actor, &body.names)
    })
}

// ---------------------------------------------------------------- test endpoints

async fn test_state(State(app): State<AppState>) -> Json<serde_json::Value> {
    let inner = app.lock();
    let w = &inner.workspace;
    Json(json!({
        "workspace": workspace_json(w),
        "uiVersion": app.config.ui_version.as_str(),
        "members": w.members,
        "groups": w.groups,
        "projects": w.projects,
    }))
}

async fn test_reset(State(app): State<AppState>) -> Response {
    match fresh_inner(&app.config) {
        Ok(fresh) => {
            *app.lock() = fresh;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn test_mutations(State(app): State<AppState>) -> Json<Vec<MutationRecord>> {
    Json(app.lock().mutations.clone())
}

#[derive(Deserialize)]
struct MailboxQuery {
    #[serde(default)]
    to: Option<String>,
}

async fn test_mailbox(State(app): State<AppState>, Query(q): Query<MailboxQuery>) -> Response {
    Json(app.lock().auth.mails(q.to.as_deref())).into_response()
}

async fn test_latest_code(State(app): State<AppState>, Query(q): Query<MailboxQuery>) -> Response {
    let code = app
        .lock()
        .auth
        .mails(q.to.as_deref())
        .into_iter()
        .rev()
        .find_map(|m| m.code);
    match code {
        Some(code) => code.into_response(),
        None => (StatusCode::NOT_FOUND, "no code mailed to this address").into_response(),
    }
}

async fn set_faults(State(app): State<AppState>, Json(body): Json<Faults>) -> Response {
    if let Some(target) = &body.redirect_login_to {
        let absolute_http = url::Url::parse(target)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !absolute_http || HeaderValue::from_str(target).is_err() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "BAD_FAULT",
                "redirectLoginTo must be an absolute http(s) URL",
            )
            .into_response();
        }
    }
    let mut inner = app.lock();
    if body.latency_ms.is_some() {
        inner.faults.latency_ms = body.latency_ms;
    }
    if body.dialog_latency_ms.is_some() {
        inner.faults.dialog_latency_ms = body.dialog_latency_ms;
    }
    if body.fail_next.is_some() {
        inner.faults.fail_next = body.fail_next;
    }
    if body.redirect_login_to.is_some() {
        inner.faults.redirect_login_to = body.redirect_login_to;
    }
    if body.drop_toasts.is_some() {
        inner.faults.drop_toasts = body.drop_toasts;
    }
    if body.rerender_rows.is_some() {
        inner.faults.rerender_rows = body.rerender_rows;
    }
    if body.crowd_next_search.is_some() {
        inner.faults.crowd_next_search = body.crowd_next_search;
        inner.crowd_term = None;
    }
    Json(inner.faults.clone()).into_response()
}

async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    let mut inner = app.lock();
    inner.faults = Faults::default();
    inner.crowd_term = None;
    StatusCode::NO_CONTENT
}

async fn expire_sessions(State(app): State<AppState>) -> StatusCode {
    app.lock().auth.expire_all();
    StatusCode::NO_CONTENT
}
