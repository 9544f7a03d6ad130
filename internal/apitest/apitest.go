// Package apitest drives the real server over HTTP against a private,
// migrated PostgreSQL database, the way a client would. Every domain's tests
// use it:
//
//	env := apitest.New(t)
//	admin := env.User(t, auth.Admin)
//	res := env.Do(t, "GET", "/admin/users/", admin, nil)
//	res.Status(t, 200)
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"platform/internal/admin/groups"
	"platform/internal/apitest/await"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/metrics"
	"platform/internal/openapi/openapitest"
	"platform/internal/server"
	"platform/internal/storage"
	"platform/internal/testdb"
	"platform/internal/web"
)

// TestSecret is the signing key of every test server.
const TestSecret = "test-secret-key-0123456789abcdef"

// Options change the server a test gets; the zero value is the default.
type Options struct {
	PlaceURL       string
	TrustedProxies []netip.Prefix // default: loopback
	PoolMax        int32          // default 10
	PoolWait       time.Duration  // default 5s
	BcryptSlots    int            // default 2
	BcryptCost     int            // default 4 (bcrypt's minimum: tests stay fast)
	DefaultCost    int            // DEFAULT_PASSWORD_COST; default 4
	LoginMaxWait   time.Duration  // default 30s
	Secret         string         // default TestSecret
	TLS            bool           // serve over HTTPS (httptest's certificate)
	Limits         server.Limits  // default: the server's defaults

	// DBAddr, when set, is the host:port the server's pool and readiness
	// probe reach the database through (a fault-injecting proxy in front of
	// the test database, whose own address Env.DBURL keeps).
	DBAddr string
	Body   web.BodyTimeouts // request body deadlines (zero: defaults)
	// APIDocs serves GET /openapi.json (API_DOCS).
	APIDocs bool
	// UnsafeIINPasswords: imports give IIN-derived passwords (UNSAFE_IIN_PASSWORDS).
	UnsafeIINPasswords bool

	databaseURL string // set by Twin: serve this database instead of a fresh one
}

// AuthQueries is what authentication costs every request with a token: the
// Authenticate middleware's user lookup. Query counts include it.
const AuthQueries = 1

// Env is one test's server, database and static root.
type Env struct {
	Pool      *db.Pool
	Tokens    *auth.Tokens
	Hasher    *auth.Hasher
	Store     storage.Store
	Jobs      *jobs.Engine
	StaticDir string
	Server    *httptest.Server
	Logs      *SyncBuffer
	// Metrics are the server's collectors; Metrics.Debug() serves them.
	Metrics *metrics.Metrics
	seq     atomic.Int64
	// IINs, passwords and tokens of the test's users: never in a log line.
	secretsMu sync.Mutex
	secrets   []string
	queries   *queryCounter
	dbURL     string

	opts Options // as given to NewWith, with its database (for Twin)
	// DBURL is the test database's own URL (not through Options.DBAddr).
	DBURL string
}

// New starts a server on a fresh database with default options.
func New(t testing.TB) *Env { return NewWith(t, Options{}) }

// NewWith starts a server on a fresh database.
func NewWith(t testing.TB, o Options) *Env {
	t.Helper()
	if o.PoolMax == 0 {
		o.PoolMax = 10
	}
	if o.PoolWait == 0 {
		o.PoolWait = 5 * time.Second
	}
	if o.BcryptSlots == 0 {
		o.BcryptSlots = 2
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = 4
	}
	if o.DefaultCost == 0 {
		o.DefaultCost = 4
	}
	if o.LoginMaxWait == 0 {
		o.LoginMaxWait = 30 * time.Second
	}
	if o.Secret == "" {
		o.Secret = TestSecret
	}
	if o.TrustedProxies == nil {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if o.databaseURL == "" {
		o.databaseURL = testdb.NewURL(t)
	}
	dbURL := o.databaseURL
	serverURL := dbURL
	if o.DBAddr != "" {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatalf("apitest: parse database url: %v", err)
		}
		u.Host = o.DBAddr
		serverURL = u.String()
	}
	counter := &queryCounter{}
	pool, err := db.Open(context.Background(), db.PoolConfig{
		URL: serverURL, MinConns: 0, MaxConns: o.PoolMax, WaitTimeout: o.PoolWait, Tracer: counter,
	})
	if err != nil {
		t.Fatalf("apitest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)

	logs := &SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	env := &Env{}
	// Runs last, after the server closed: every test of the suite checks
	// that its server logged none of its users' IINs, passwords or tokens.
	t.Cleanup(func() { env.checkLogs(t) })
	dir := t.TempDir()
	store, err := storage.Open(dir, log)
	if err != nil {
		t.Fatalf("apitest: open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })

	env.Pool = pool
	env.dbURL = dbURL
	env.DBURL = dbURL
	env.queries = counter
	env.opts = o
	env.Tokens = auth.NewTokens([]byte(o.Secret), 30*time.Minute)
	env.Hasher = auth.NewHasher(auth.HasherConfig{Cost: o.BcryptCost, DefaultCost: o.DefaultCost,
		Slots: o.BcryptSlots, MaxWait: o.LoginMaxWait})
	env.StaticDir = dir
	env.Logs = logs
	m := metrics.New(prometheus.NewRegistry())
	env.Metrics = m
	env.Store = storage.Observed(store, m.StoreOps)
	lifetime, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	probe := db.NewProbe(serverURL)
	t.Cleanup(func() { probe.Close(context.Background()) })
	// River polls and listens on a pool of its own, outside the query
	// count and any fault proxy; its inserts use the request's transaction.
	jobsPool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("apitest: open jobs pool: %v", err)
	}
	t.Cleanup(jobsPool.Close)
	engine := jobs.New(pool, env.Store, jobs.Config{NoSweep: true, Log: log, DriverPool: jobsPool})
	env.Jobs = engine
	h := server.New(server.Deps{
		Log: log, Pool: pool, Tokens: env.Tokens, Hasher: env.Hasher, Store: env.Store,
		PlaceURL: o.PlaceURL, TrustedProxies: o.TrustedProxies, Lifetime: lifetime, Limits: o.Limits,
		Ready: probe.Check, Body: o.Body, Metrics: m, APIDocs: o.APIDocs,
		Jobs: engine, Imports: groups.ImportConfig{Secret: []byte(o.Secret), UnsafeIINPasswords: o.UnsafeIINPasswords},
	})
	if err := engine.Start(context.Background()); err != nil {
		t.Fatalf("apitest: start jobs: %v", err)
	}
	if o.TLS {
		env.Server = httptest.NewTLSServer(h)
	} else {
		env.Server = httptest.NewServer(h)
	}
	// A hanging handler fails its request (and test) instead of the package.
	env.Server.Client().Timeout = 2 * await.Within
	// Runs after the server has closed, so no request is in flight: a
	// connection still acquired means rows left open somewhere.
	t.Cleanup(func() {
		if n := pool.Stat().AcquiredConns(); n != 0 {
			t.Errorf("apitest: %d database connections still acquired at test end", n)
		}
	})
	t.Cleanup(env.Server.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		engine.Stop(ctx)
	})
	return env
}

// Conn opens a connection of the test's own to its database, outside the
// server's pool (and its query count), closed at test end: for holding a
// transaction or a lock while requests run.
func (e *Env) Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), e.dbURL)
	if err != nil {
		t.Fatalf("apitest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Queries runs fn (requests, usually) and returns the statements the
// test's pool ran meanwhile: every Query, QueryRow and Exec, including
// authentication (AuthQueries per request with a token) and a
// transaction's BEGIN and COMMIT. Nothing else runs on the pool, so the
// count is exact as long as fn's requests are the only activity.
func (e *Env) Queries(fn func()) int64 {
	before := e.queries.n.Load()
	fn()
	return e.queries.n.Load() - before
}

// queryCounter is a pgx.QueryTracer counting the statements of one test's
// pool: set on the pool's connection config, it sees exactly what the
// server sends, through the real handlers and routes.
type queryCounter struct{ n atomic.Int64 }

// TraceQueryStart counts a statement.
func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd does nothing; the start is what counts.
func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// User is a user created for a test, with a valid token.
type User struct {
	ID       int32
	IIN      string
	FullName string
	Password string
	Role     auth.Role
	Token    string
}

// UserOpt adjusts a user before it is inserted.
type UserOpt func(*User)

// WithName sets the full name.
func WithName(name string) UserOpt { return func(u *User) { u.FullName = name } }

// WithPassword sets the password.
func WithPassword(pw string) UserOpt { return func(u *User) { u.Password = pw } }

// WithIIN sets the IIN.
func WithIIN(iin string) UserOpt { return func(u *User) { u.IIN = iin } }

// User inserts a user with the role (a unique IIN, name and password) and mints its token.
func (e *Env) User(t testing.TB, role auth.Role, opts ...UserOpt) User {
	t.Helper()
	n := e.seq.Add(1)
	u := User{
		IIN:      fmt.Sprintf("%03d%09d", 900+n%100, n),
		FullName: fmt.Sprintf("Тестов %s %d", role, n),
		Password: fmt.Sprintf("pass-%d", n),
		Role:     role,
	}
	for _, o := range opts {
		o(&u)
	}
	hash, err := e.Hasher.Hash(context.Background(), u.Password)
	if err != nil {
		t.Fatalf("apitest: hash: %v", err)
	}
	var version *int32
	err = e.Pool.QueryRow(context.Background(),
		`INSERT INTO users (full_name, iin, role, hashed_password) VALUES ($1, $2, $3, $4) RETURNING id, token_version`,
		u.FullName, u.IIN, string(role), hash).Scan(&u.ID, &version)
	if err != nil {
		t.Fatalf("apitest: insert user: %v", err)
	}
	// The token names a session (a refresh family), as a login's does.
	var sid int64
	err = e.Pool.QueryRow(context.Background(),
		`INSERT INTO refresh_families (user_id, token_version) VALUES ($1, coalesce($2, 0)) RETURNING id`,
		u.ID, version).Scan(&sid)
	if err != nil {
		t.Fatalf("apitest: insert session: %v", err)
	}
	if u.Token, err = e.Tokens.Issue(auth.User{ID: u.ID, IIN: u.IIN, TokenVersion: version}, sid); err != nil {
		t.Fatalf("apitest: token: %v", err)
	}
	e.Secret(u.IIN, u.Password, u.Token)
	return u
}

// Secret adds strings the server must never log (IINs, passwords, tokens a
// test sends); every user of Env.User is added already. At test end the
// server's log is searched for each.
func (e *Env) Secret(values ...string) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	e.secrets = append(e.secrets, values...)
}

// checkLogs fails the test for every secret found in the server's log.
// Strings under 6 bytes are skipped: they would match by chance.
func (e *Env) checkLogs(t testing.TB) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	logs := e.Logs.String()
	for _, s := range e.secrets {
		if len(s) >= 6 && strings.Contains(logs, s) {
			t.Errorf("apitest: the server logged a secret (IIN, password or token) %q", s)
		}
	}
}

// Exec runs SQL for seeding or inspecting, failing the test on error.
func (e *Env) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := e.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("apitest: exec %q: %v", sql, err)
	}
}

// ID runs an INSERT … RETURNING id (or any single-integer query).
func (e *Env) ID(t testing.TB, sql string, args ...any) int32 {
	t.Helper()
	var id int32
	if err := e.Pool.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		t.Fatalf("apitest: query %q: %v", sql, err)
	}
	return id
}

// Count runs a SELECT count(*) … and returns it.
func (e *Env) Count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("apitest: count %q: %v", sql, err)
	}
	return n
}

// Request is a request to send; Do fills the rest.
type Request struct {
	Method  string
	Path    string
	Token   string // "" for none
	Body    io.Reader
	Header  http.Header
	Context context.Context
}

// Do sends method path with the user's token (zero User: no token) and body:
// nil, a string or []byte sent as is, or any other value encoded as JSON.
func (e *Env) Do(t testing.TB, method, path string, as User, body any) *Response {
	t.Helper()
	req := Request{Method: method, Path: path, Token: as.Token, Header: http.Header{}}
	rd, err := encodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Body = rd
		req.Header.Set("Content-Type", "application/json")
	}
	return e.Send(t, req)
}

// encodeBody is Do's and Try's body: nil for none, a string or []byte as
// is, any other value encoded as JSON.
func encodeBody(body any) (io.Reader, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("apitest: encode body: %w", err)
		}
	}
	return bytes.NewReader(raw), nil
}

// Send sends a fully described request.
func (e *Env) Send(t testing.TB, req Request) *Response {
	t.Helper()
	ctx := req.Context
	if ctx == nil {
		ctx = context.Background()
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, e.Server.URL+req.Path, req.Body)
	if err != nil {
		t.Fatalf("apitest: build request: %v", err)
	}
	for k, vs := range req.Header {
		r.Header[k] = vs
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	res, err := e.Server.Client().Do(r)
	if err != nil {
		t.Fatalf("apitest: %s %s: %v", req.Method, req.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("apitest: read response: %v", err)
	}
	checkContract(t, r, res, b)
	return &Response{Code: res.StatusCode, Header: res.Header, Body: b, req: req.Method + " " + req.Path}
}

// contract is the OpenAPI document's validator, built once per test binary:
// building it checks the whole document against the 3.1 meta-schema, which
// takes seconds, and it is safe for concurrent use.
var contract = sync.OnceValues(openapitest.NewValidator)

// unchecked are the response media types whose bodies are not validated:
// file bodies (downloads, avatars, the gradebook's xlsx and csv) are bytes
// the document describes only by media type; their status and headers are
// still checked.
var unchecked = []string{
	"application/octet-stream",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"text/csv",
	"image/",
}

// checkContract validates every response Send receives against the OpenAPI
// document (openapi.yaml), so the document is proven by the whole suite.
// GET /openapi.json (API_DOCS) is the document itself, not in it; nor is
// its reference page, GET /docs and its files.
func checkContract(t testing.TB, r *http.Request, res *http.Response, body []byte) {
	t.Helper()
	docs := r.URL.Path == "/openapi.json" || r.URL.Path == "/docs" || strings.HasPrefix(r.URL.Path, "/docs/")
	if docs && res.StatusCode == http.StatusOK {
		return
	}
	v, err := contract()
	if err != nil {
		t.Errorf("apitest: the OpenAPI document: %v", err)
		return
	}
	ct := res.Header.Get("Content-Type")
	for _, u := range unchecked {
		if strings.HasPrefix(ct, u) {
			body = nil
			break
		}
	}
	if err := v.Validate(r, res.StatusCode, res.Header, body); err != nil {
		t.Errorf("apitest: %s %s → %d does not match the OpenAPI document: %v", r.Method, r.URL.Path, res.StatusCode, err)
	}
}

// Response is a received response.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
	req    string
}

// Status fails the test unless the status is want.
func (r *Response) Status(t testing.TB, want int) *Response {
	t.Helper()
	if r.Code != want {
		t.Fatalf("%s: status %d, want %d; body: %s", r.req, r.Code, want, r.Body)
	}
	return r
}

// Decode decodes the JSON body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: decode %s: %v", r.req, r.Body, err)
	}
}

// Map is the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// List is the body as a JSON array.
func (r *Response) List(t testing.TB) []any {
	t.Helper()
	var l []any
	r.Decode(t, &l)
	return l
}

// Detail is the string detail of an error body ("" when absent or not a string).
func (r *Response) Detail(t testing.TB) string {
	t.Helper()
	var b struct {
		Detail any `json:"detail"`
	}
	_ = json.Unmarshal(r.Body, &b)
	s, _ := b.Detail.(string)
	return s
}

// Error asserts an error response: status and exact detail text.
func (r *Response) Error(t testing.TB, status int, detail string) {
	t.Helper()
	r.Status(t, status)
	if got := r.Detail(t); got != detail {
		t.Fatalf("%s: detail %q, want %q", r.req, got, detail)
	}
}

// Issue is one item of a 422 body.
type Issue struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx"`
}

// Invalid asserts a 422 and returns its issues.
func (r *Response) Invalid(t testing.TB) []Issue {
	t.Helper()
	r.Status(t, http.StatusUnprocessableEntity)
	var b struct {
		Detail []Issue `json:"detail"`
	}
	r.Decode(t, &b)
	if len(b.Detail) == 0 {
		t.Fatalf("%s: 422 without issues: %s", r.req, r.Body)
	}
	return b.Detail
}

// HasIssue asserts a 422 containing an issue of the type at the location
// (written like `body.iin` or `path.lesson_id` or `body.questions.0.options`).
func (r *Response) HasIssue(t testing.TB, typ, loc string) Issue {
	t.Helper()
	issues := r.Invalid(t)
	for _, is := range issues {
		if is.Type == typ && LocString(is.Loc) == loc {
			return is
		}
	}
	t.Fatalf("%s: no %s issue at %s in %s", r.req, typ, loc, r.Body)
	return Issue{}
}

// LocString joins a loc with dots: ["body","questions",0] → "body.questions.0".
func LocString(loc []any) string {
	parts := make([]string, len(loc))
	for i, p := range loc {
		switch v := p.(type) {
		case float64:
			parts[i] = fmt.Sprint(int(v))
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, ".")
}

// SyncBuffer is a goroutine-safe buffer for the server log.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitJobs waits (up to 15 s) until the background jobs queued so far
// (file removals after a delete, imports) have run: none is left
// available, scheduled, running or retryable.
func (e *Env) WaitJobs(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		if e.Count(t, `SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'running', 'retryable', 'pending')`) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("apitest: background jobs still pending after 15 s")
		}
		time.Sleep(20 * time.Millisecond) // jobs run on their own
	}
}
