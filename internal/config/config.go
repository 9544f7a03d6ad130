// Package config reads the service configuration from the environment
// (API.md §0.1) and refuses a bad one with one line naming the variable.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// Config is every setting of the service. Field tags name the environment
// variables; defaults are those of the original service (API.md §0.1).
type Config struct {
	DatabaseURL              string  `env:"DATABASE_URL,required,notEmpty"`
	SecretKey                string  `env:"SECRET_KEY,required,notEmpty"`
	Algorithm                string  `env:"ALGORITHM" envDefault:"HS256"`
	AccessTokenExpireMinutes int     `env:"ACCESS_TOKEN_EXPIRE_MINUTES" envDefault:"30"`
	RefreshTokenExpireDays   int     `env:"REFRESH_TOKEN_EXPIRE_DAYS" envDefault:"30"`
	PlaceURL                 string  `env:"PLACE_URL"`
	AdminIIN                 string  `env:"ADMIN_IIN"`
	AdminPassword            string  `env:"ADMIN_PASSWORD"`
	AdminFullName            string  `env:"ADMIN_FULL_NAME" envDefault:"Администратор"`
	AdminPhone               string  `env:"ADMIN_PHONE" envDefault:"+77000000000"`
	DBPoolSize               int     `env:"DB_POOL_SIZE" envDefault:"5"`
	DBMaxOverflow            int     `env:"DB_MAX_OVERFLOW" envDefault:"10"`
	DBPoolTimeoutSeconds     float64 `env:"DB_POOL_TIMEOUT" envDefault:"30"`

	HTTPAddr         string  `env:"HTTP_ADDR" envDefault:"127.0.0.1:8000"`
	StaticDir        string  `env:"STATIC_DIR" envDefault:"./static"`
	BcryptCost       int     `env:"BCRYPT_COST" envDefault:"12"`
	LoginConcurrency int     `env:"LOGIN_CONCURRENCY"` // 0: runtime.GOMAXPROCS(0)
	LoginMaxWaitSec  float64 `env:"LOGIN_MAX_WAIT" envDefault:"30"`
	// DefaultPasswordCost hashes the IIN-derived default passwords of Excel
	// imports; the first login rehashes them at BCRYPT_COST.
	DefaultPasswordCost int      `env:"DEFAULT_PASSWORD_COST" envDefault:"4"`
	TrustedProxies      []string `env:"TRUSTED_PROXIES" envDefault:"127.0.0.0/8,::1/128" envSeparator:","`
	MigrateOnStart      bool     `env:"MIGRATE_ON_START" envDefault:"true"`
	LogFormat           string   `env:"LOG_FORMAT" envDefault:"text"`
	LogLevel            string   `env:"LOG_LEVEL" envDefault:"info"`
	// APIDocs serves the OpenAPI document at GET /openapi.json (issue 14)
	// and its interactive reference at GET /docs (issue 24);
	// off by default so production does not advertise its surface.
	APIDocs bool `env:"API_DOCS" envDefault:"false"`

	// Per-user caps against abuse (issue 10; README "Limits").
	MaxSubmissionsPerLesson int `env:"MAX_SUBMISSIONS_PER_LESSON" envDefault:"20"`
	IINLookupsPerMinute     int `env:"IIN_LOOKUPS_PER_MINUTE" envDefault:"30"`
	IINLookupBurst          int `env:"IIN_LOOKUP_BURST" envDefault:"10"`

	// OrphanGraceSeconds is the age after which a file no row references is
	// removed (internal/orphans); long enough for a lesson document uploaded
	// before its lesson is saved.
	OrphanGraceSeconds int `env:"ORPHAN_FILE_GRACE" envDefault:"86400"`
	// ShutdownGraceSeconds bounds how long in-flight requests may finish
	// after SIGTERM before their connections are closed.
	ShutdownGraceSeconds float64 `env:"SHUTDOWN_GRACE" envDefault:"20"`

	// Where uploaded files live: the local STATIC_DIR, or an S3 bucket
	// shared by several instances.
	FileStore   string `env:"FILE_STORE" envDefault:"local"`
	S3Endpoint  string `env:"S3_ENDPOINT"`
	S3Bucket    string `env:"S3_BUCKET"`
	S3Region    string `env:"S3_REGION" envDefault:"us-east-1"`
	S3AccessKey string `env:"S3_ACCESS_KEY"`
	S3SecretKey string `env:"S3_SECRET_KEY"`
	S3UseSSL    bool   `env:"S3_USE_SSL" envDefault:"true"`
	// S3OpTimeoutSeconds bounds how long the store may go without
	// answering during one operation (a request waiting on a hung store);
	// past it the request is the 503 of a store that is down.
	S3OpTimeoutSeconds float64 `env:"S3_OP_TIMEOUT" envDefault:"10"`

	// TreeCacheMB is the memory budget of the course-tree cache in MiB
	// (catalog.Tree; issue 20): the default holds a district's catalogue —
	// 1,000 modules × 10 subjects × 20 lessons — whole (README, "Hot reads").
	TreeCacheMB int `env:"TREE_CACHE_MB" envDefault:"96"`
	// GoMemLimit is the Go runtime's soft memory limit (GOMEMLIMIT syntax:
	// "200MiB", "1GiB", bytes). Empty: 90 % of the container's cgroup memory
	// limit when there is one (automemlimit), else none. The runtime also
	// reads GOMEMLIMIT from the process environment itself; this field lets
	// .env set it too.
	GoMemLimit string `env:"GOMEMLIMIT"`

	// DebugAddr is the loopback listener of /metrics and /debug/pprof; empty: off.
	DebugAddr string `env:"DEBUG_ADDR"`

	// Background jobs on River (issue 22; README "Background jobs").
	// JOB_RESCUE_AFTER is how long a job may stay running before it counts
	// as abandoned by a dead instance and is retried elsewhere; it must
	// exceed JOB_IMPORT_TIMEOUT (seconds, both).
	JobWorkers          int     `env:"JOB_WORKERS" envDefault:"4"`
	JobImportTimeoutSec float64 `env:"JOB_IMPORT_TIMEOUT" envDefault:"100"`
	JobRescueAfterSec   float64 `env:"JOB_RESCUE_AFTER" envDefault:"120"`
	// UnsafeIINPasswords gives imported accounts the password "first 3 +
	// last 3 digits of the IIN" (and lets accounts still holding it log in,
	// only to change it). UNSAFE: anyone who knows an IIN knows it.
	UnsafeIINPasswords bool `env:"UNSAFE_IIN_PASSWORDS" envDefault:"false"`

	// Derived by Load.
	TrustedPrefixes []netip.Prefix `env:"-"`
}

// JobImportTimeout is JOB_IMPORT_TIMEOUT as a duration.
func (c Config) JobImportTimeout() time.Duration {
	return time.Duration(c.JobImportTimeoutSec * float64(time.Second))
}

// JobRescueAfter is JOB_RESCUE_AFTER as a duration.
func (c Config) JobRescueAfter() time.Duration {
	return time.Duration(c.JobRescueAfterSec * float64(time.Second))
}

// ShutdownGrace is SHUTDOWN_GRACE as a duration.
func (c Config) ShutdownGrace() time.Duration {
	return time.Duration(c.ShutdownGraceSeconds * float64(time.Second))
}

// S3OpTimeout is S3_OP_TIMEOUT as a duration.
func (c Config) S3OpTimeout() time.Duration {
	return time.Duration(c.S3OpTimeoutSeconds * float64(time.Second))
}

// OrphanGrace is ORPHAN_FILE_GRACE as a duration.
func (c Config) OrphanGrace() time.Duration {
	return time.Duration(c.OrphanGraceSeconds) * time.Second
}

// TreeCacheBytes is TREE_CACHE_MB in bytes.
func (c Config) TreeCacheBytes() int { return c.TreeCacheMB << 20 }

// MemLimit is GOMEMLIMIT in bytes (0: not set).
func (c Config) MemLimit() (int64, error) { return ParseMemLimit(c.GoMemLimit) }

// ParseMemLimit reads a GOMEMLIMIT value: a number of bytes with an optional
// B, KiB, MiB, GiB or TiB suffix ("" and "off": 0, no limit).
func ParseMemLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = rest, u.shift
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 || n > (1<<62)>>shift || fmt.Sprint(n) != s {
		return 0, fmt.Errorf("config: GOMEMLIMIT must be a positive number of bytes with an optional B, KiB, MiB, GiB or TiB suffix (got %q)", s)
	}
	return n << shift, nil
}

func badMemLimit(s string) bool { _, err := ParseMemLimit(s); return err != nil }

// PoolTimeout is DB_POOL_TIMEOUT as a duration.
func (c Config) PoolTimeout() time.Duration {
	return time.Duration(c.DBPoolTimeoutSeconds * float64(time.Second))
}

// LoginMaxWait is LOGIN_MAX_WAIT as a duration.
func (c Config) LoginMaxWait() time.Duration {
	return time.Duration(c.LoginMaxWaitSec * float64(time.Second))
}

// TokenTTL is ACCESS_TOKEN_EXPIRE_MINUTES as a duration.
func (c Config) TokenTTL() time.Duration {
	return time.Duration(c.AccessTokenExpireMinutes) * time.Minute
}

// RefreshTTL is REFRESH_TOKEN_EXPIRE_DAYS as a duration.
func (c Config) RefreshTTL() time.Duration {
	return time.Duration(c.RefreshTokenExpireDays) * 24 * time.Hour
}

// Environ merges the process environment with a .env file (when present at
// path); variables already set in the process win, as python-dotenv did.
func Environ(processEnv []string, dotenvPath string) (map[string]string, error) {
	m := map[string]string{}
	file, err := godotenv.Read(dotenvPath)
	switch {
	case err == nil:
		for k, v := range file {
			m[k] = v
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("config: read %s: %w", dotenvPath, err)
	}
	for _, kv := range processEnv {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m, nil
}

var iinPattern = regexp.MustCompile(`^[0-9]{12}$`)

// Load parses and checks the configuration from environ.
func Load(environ map[string]string) (Config, error) {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: environ})
	if err != nil {
		return Config{}, describe(err)
	}
	if err := cfg.check(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) check() error {
	u, err := NormalizeDatabaseURL(c.DatabaseURL)
	if err != nil {
		return err
	}
	c.DatabaseURL = u
	bad := func(name, why string) error { return fmt.Errorf("config: %s %s", name, why) }
	switch {
	case len(c.SecretKey) < 16:
		return bad("SECRET_KEY", "must be at least 16 bytes long")
	case c.Algorithm != "HS256":
		return bad("ALGORITHM", fmt.Sprintf("must be HS256 (got %q)", c.Algorithm))
	case c.AccessTokenExpireMinutes <= 0:
		return bad("ACCESS_TOKEN_EXPIRE_MINUTES", "must be a positive integer")
	case c.RefreshTokenExpireDays <= 0:
		return bad("REFRESH_TOKEN_EXPIRE_DAYS", "must be a positive integer")
	case c.AdminIIN != "" && !iinPattern.MatchString(c.AdminIIN):
		return bad("ADMIN_IIN", "must be exactly 12 digits")
	case c.DBPoolSize < 0:
		return bad("DB_POOL_SIZE", "must not be negative")
	case c.DBMaxOverflow < 0:
		return bad("DB_MAX_OVERFLOW", "must not be negative")
	case c.DBPoolSize+c.DBMaxOverflow < 1:
		return bad("DB_POOL_SIZE", "plus DB_MAX_OVERFLOW must be at least 1")
	case c.ShutdownGraceSeconds < 0:
		return bad("SHUTDOWN_GRACE", "must not be negative")
	case c.OrphanGraceSeconds < 60:
		return bad("ORPHAN_FILE_GRACE", "must be at least 60 seconds")
	case c.S3OpTimeoutSeconds <= 0:
		return bad("S3_OP_TIMEOUT", "must be a positive number of seconds")
	case c.DBPoolTimeoutSeconds <= 0:
		return bad("DB_POOL_TIMEOUT", "must be a positive number of seconds")
	case c.TreeCacheMB < 1:
		return bad("TREE_CACHE_MB", "must be at least 1")
	case badMemLimit(c.GoMemLimit):
		_, err := ParseMemLimit(c.GoMemLimit)
		return err
	case c.BcryptCost < 4 || c.BcryptCost > 31:
		return bad("BCRYPT_COST", "must be between 4 and 31")
	case c.LoginConcurrency < 0:
		return bad("LOGIN_CONCURRENCY", "must not be negative")
	case c.LoginMaxWaitSec <= 0:
		return bad("LOGIN_MAX_WAIT", "must be a positive number of seconds")
	case c.DefaultPasswordCost < 4 || c.DefaultPasswordCost > c.BcryptCost:
		return bad("DEFAULT_PASSWORD_COST", "must be between 4 and BCRYPT_COST")
	case c.HTTPAddr == "":
		return bad("HTTP_ADDR", "must not be empty")
	case c.StaticDir == "":
		return bad("STATIC_DIR", "must not be empty")
	case c.MaxSubmissionsPerLesson < 1:
		return bad("MAX_SUBMISSIONS_PER_LESSON", "must be a positive integer")
	case c.IINLookupsPerMinute < 1:
		return bad("IIN_LOOKUPS_PER_MINUTE", "must be a positive integer")
	case c.IINLookupBurst < 1:
		return bad("IIN_LOOKUP_BURST", "must be a positive integer")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return bad("LOG_FORMAT", fmt.Sprintf("must be text or json (got %q)", c.LogFormat))
	case c.FileStore != "local" && c.FileStore != "s3":
		return bad("FILE_STORE", fmt.Sprintf("must be local or s3 (got %q)", c.FileStore))
	}
	if c.FileStore == "s3" {
		for _, v := range []struct{ name, val string }{
			{"S3_ENDPOINT", c.S3Endpoint}, {"S3_BUCKET", c.S3Bucket}, {"S3_ACCESS_KEY", c.S3AccessKey}, {"S3_SECRET_KEY", c.S3SecretKey},
		} {
			if v.val == "" {
				return bad(v.name, "must be set when FILE_STORE=s3")
			}
		}
		if strings.Contains(c.S3Endpoint, "://") || strings.Contains(c.S3Endpoint, "/") {
			return bad("S3_ENDPOINT", fmt.Sprintf("must be host:port without a scheme or path (got %q); S3_USE_SSL chooses https", c.S3Endpoint))
		}
	}
	if c.DebugAddr != "" {
		if err := loopbackAddr(c.DebugAddr); err != nil {
			return bad("DEBUG_ADDR", err.Error())
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		return bad("LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error (got %q)", c.LogLevel))
	}
	if c.LoginConcurrency == 0 {
		// GOMAXPROCS, not NumCPU: since Go 1.25 it follows the container's CPU quota, and
		// bcrypt slots beyond the CPUs we may use only queue work on the same cores.
		c.LoginConcurrency = runtime.GOMAXPROCS(0)
	}
	c.TrustedPrefixes = nil
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return bad("TRUSTED_PROXIES", fmt.Sprintf("has an invalid CIDR %q", s))
		}
		c.TrustedPrefixes = append(c.TrustedPrefixes, p)
	}
	return nil
}

// loopbackAddr checks that addr is host:port on a loopback address: pprof
// and the metrics are for the operator on the machine (or a scraper through
// an SSH tunnel or sidecar), never for the network.
func loopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port (got %q)", addr)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return fmt.Errorf("must listen on a loopback address such as 127.0.0.1 (got %q)", addr)
	}
	return nil
}

// parsePrefix accepts a CIDR or a bare address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// NormalizeDatabaseURL turns the accepted DATABASE_URL forms into a plain
// postgres:// URL (API.md §0.1): the SQLAlchemy "+driver" part is dropped,
// asyncpg's ssl=<mode> becomes sslmode, and a 10 s connect timeout is added
// unless the URL sets one.
func NormalizeDatabaseURL(raw string) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("config: DATABASE_URL %s", why)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fail("is not a valid URL")
	}
	switch u.Scheme {
	case "postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg":
	default:
		return fail(fmt.Sprintf("must be a PostgreSQL URL (postgresql://…), got scheme %q", u.Scheme))
	}
	u.Scheme = "postgres"
	q := u.Query()
	if ssl, ok := q["ssl"]; ok {
		q.Del("ssl")
		if q.Get("sslmode") == "" && len(ssl) > 0 {
			mode := strings.ToLower(ssl[0])
			if mode == "true" {
				mode = "require"
			} else if mode == "false" {
				mode = "disable"
			}
			q.Set("sslmode", mode)
		}
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// describe turns caarlos0/env's errors into one line naming the variable.
func describe(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) == 0 {
		return fmt.Errorf("config: %w", err)
	}
	first := agg.Errors[0]
	var unset env.VarIsNotSetError
	var empty env.EmptyVarError
	var parse env.ParseError
	switch {
	case errors.As(first, &unset):
		return fmt.Errorf("config: %s is required but not set", unset.Key)
	case errors.As(first, &empty):
		return fmt.Errorf("config: %s is required but empty", empty.Key)
	case errors.As(first, &parse):
		return fmt.Errorf("config: %s has an invalid value (expected %s)", envName(parse.Name), parse.Type)
	}
	return fmt.Errorf("config: %w", first)
}

// envName maps a Config field name to its environment variable.
func envName(field string) string {
	f, ok := reflect.TypeFor[Config]().FieldByName(field)
	if !ok {
		return field
	}
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return name
}
