package config_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"platform/internal/config"
)

func base() map[string]string {
	return map[string]string{
		"DATABASE_URL": "postgresql://app:pw@db.example:5432/platform",
		"SECRET_KEY":   "0123456789abcdef",
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := config.Load(base())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Algorithm != "HS256" || cfg.AccessTokenExpireMinutes != 30 || cfg.TokenTTL() != 30*time.Minute {
		t.Errorf("token defaults: %+v", cfg)
	}
	if cfg.DBPoolSize != 5 || cfg.DBMaxOverflow != 10 || cfg.PoolTimeout() != 30*time.Second {
		t.Errorf("pool defaults: %d %d %s", cfg.DBPoolSize, cfg.DBMaxOverflow, cfg.PoolTimeout())
	}
	if cfg.HTTPAddr != "127.0.0.1:8000" || cfg.StaticDir != "./static" || cfg.BcryptCost != 12 ||
		cfg.LoginMaxWait() != 30*time.Second || cfg.DefaultPasswordCost != 4 {
		t.Errorf("port defaults: %+v", cfg)
	}
	if !cfg.MigrateOnStart || cfg.LogFormat != "text" || cfg.LogLevel != "info" {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.AdminFullName != "Администратор" || cfg.AdminPhone != "+77000000000" {
		t.Errorf("admin defaults: %q %q", cfg.AdminFullName, cfg.AdminPhone)
	}
	if len(cfg.TrustedPrefixes) != 2 || cfg.TrustedPrefixes[0].String() != "127.0.0.0/8" {
		t.Errorf("trusted proxies: %v", cfg.TrustedPrefixes)
	}
	if cfg.DatabaseURL != "postgres://app:pw@db.example:5432/platform?connect_timeout=10" {
		t.Errorf("database url: %s", cfg.DatabaseURL)
	}
}

// LOGIN_CONCURRENCY defaults to GOMAXPROCS (which follows a container's CPU quota), not to
// the host's CPU count. Not parallel: it changes GOMAXPROCS for the process.
func TestLoginConcurrencyDefaultsToGOMAXPROCS(t *testing.T) {
	want := runtime.NumCPU() + 1 // differs from NumCPU on every machine
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(want))
	cfg, err := config.Load(base())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LoginConcurrency != want {
		t.Errorf("LoginConcurrency = %d, want GOMAXPROCS %d (NumCPU %d)", cfg.LoginConcurrency, want, runtime.NumCPU())
	}
}

// Each bad setting is refused with one line naming its variable.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"missing secret", "SECRET_KEY", "", "SECRET_KEY"},
		{"short secret", "SECRET_KEY", "short", "SECRET_KEY must be at least 16 bytes"},
		{"missing database", "DATABASE_URL", "", "DATABASE_URL"},
		{"mysql url", "DATABASE_URL", "mysql://u@h/db", "DATABASE_URL must be a PostgreSQL URL"},
		{"sqlite url", "DATABASE_URL", "sqlite:///x.db", "DATABASE_URL must be a PostgreSQL URL"},
		{"algorithm", "ALGORITHM", "RS256", "ALGORITHM must be HS256"},
		{"expire not a number", "ACCESS_TOKEN_EXPIRE_MINUTES", "soon", "ACCESS_TOKEN_EXPIRE_MINUTES has an invalid value"},
		{"expire zero", "ACCESS_TOKEN_EXPIRE_MINUTES", "0", "ACCESS_TOKEN_EXPIRE_MINUTES must be a positive integer"},
		{"pool size", "DB_POOL_SIZE", "five", "DB_POOL_SIZE has an invalid value"},
		{"pool timeout", "DB_POOL_TIMEOUT", "-1", "DB_POOL_TIMEOUT must be a positive"},
		{"bcrypt cost low", "BCRYPT_COST", "3", "BCRYPT_COST must be between 4 and 31"},
		{"bcrypt cost high", "BCRYPT_COST", "32", "BCRYPT_COST must be between 4 and 31"},
		{"login max wait", "LOGIN_MAX_WAIT", "0", "LOGIN_MAX_WAIT must be a positive"},
		{"default password cost low", "DEFAULT_PASSWORD_COST", "3", "DEFAULT_PASSWORD_COST must be between 4 and BCRYPT_COST"},
		{"default password cost above bcrypt cost", "DEFAULT_PASSWORD_COST", "13", "DEFAULT_PASSWORD_COST must be between 4 and BCRYPT_COST"},
		{"admin iin", "ADMIN_IIN", "12345", "ADMIN_IIN must be exactly 12 digits"},
		{"trusted proxies", "TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES has an invalid CIDR"},
		{"log format", "LOG_FORMAT", "xml", "LOG_FORMAT must be text or json"},
		{"log level", "LOG_LEVEL", "loud", "LOG_LEVEL must be"},
		{"migrate flag", "MIGRATE_ON_START", "maybe", "MIGRATE_ON_START has an invalid value"},
		{"file store", "FILE_STORE", "nfs", "FILE_STORE must be local or s3"},
		{"debug addr public", "DEBUG_ADDR", "0.0.0.0:6060", "DEBUG_ADDR must listen on a loopback address"},
		{"debug addr no port", "DEBUG_ADDR", "127.0.0.1", "DEBUG_ADDR must be host:port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := base()
			if c.value == "" {
				delete(env, c.key)
			} else {
				env[c.key] = c.value
			}
			_, err := config.Load(env)
			if err == nil {
				t.Fatalf("%s=%q accepted", c.key, c.value)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line containing %q", msg, c.want)
			}
		})
	}
}

func TestDatabaseURLForms(t *testing.T) {
	cases := map[string]string{
		"postgresql+asyncpg://u:p@h:5432/db":          "postgres://u:p@h:5432/db?connect_timeout=10",
		"postgresql+psycopg2://u@h/db":                "postgres://u@h/db?connect_timeout=10",
		"postgresql+psycopg://u@h/db":                 "postgres://u@h/db?connect_timeout=10",
		"postgres://u@h/db?connect_timeout=3":         "postgres://u@h/db?connect_timeout=3",
		"postgresql+asyncpg://u@h/db?ssl=true":        "postgres://u@h/db?connect_timeout=10&sslmode=require",
		"postgresql+asyncpg://u@h/db?ssl=verify-full": "postgres://u@h/db?connect_timeout=10&sslmode=verify-full",
	}
	for in, want := range cases {
		got, err := config.NormalizeDatabaseURL(in)
		if err != nil || got != want {
			t.Errorf("%s → %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestOverrides(t *testing.T) {
	env := base()
	env["LOGIN_CONCURRENCY"] = "7"
	env["TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.1"
	env["DB_POOL_TIMEOUT"] = "0.5"
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LoginConcurrency != 7 || cfg.PoolTimeout() != 500*time.Millisecond {
		t.Errorf("got %d %s", cfg.LoginConcurrency, cfg.PoolTimeout())
	}
	if len(cfg.TrustedPrefixes) != 2 || cfg.TrustedPrefixes[1].String() != "192.168.1.1/32" {
		t.Errorf("trusted: %v", cfg.TrustedPrefixes)
	}
}

// The .env file fills what the process environment lacks; the process wins.
func TestEnvironDotenv(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("SECRET_KEY=from-file-0123456789\nPLACE_URL=http://file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := config.Environ([]string{"PLACE_URL=http://process"}, path)
	if err != nil {
		t.Fatal(err)
	}
	if m["SECRET_KEY"] != "from-file-0123456789" || m["PLACE_URL"] != "http://process" {
		t.Errorf("merged: %v", m)
	}
	if _, err := config.Environ(nil, filepath.Join(t.TempDir(), "absent")); err != nil {
		t.Errorf("absent .env: %v", err)
	}
}

// FILE_STORE=s3 needs its bucket settings, each refused by name when missing.
func TestS3Settings(t *testing.T) {
	full := func() map[string]string {
		env := base()
		env["FILE_STORE"] = "s3"
		env["S3_ENDPOINT"] = "127.0.0.1:8333"
		env["S3_BUCKET"] = "platform"
		env["S3_ACCESS_KEY"] = "key"
		env["S3_SECRET_KEY"] = "secret"
		return env
	}
	cfg, err := config.Load(full())
	if err != nil || cfg.FileStore != "s3" || !cfg.S3UseSSL || cfg.S3Region != "us-east-1" {
		t.Fatalf("full settings: %+v, %v", cfg, err)
	}
	for _, key := range []string{"S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"} {
		env := full()
		delete(env, key)
		if _, err := config.Load(env); err == nil || !strings.Contains(err.Error(), key+" must be set when FILE_STORE=s3") {
			t.Errorf("without %s: %v", key, err)
		}
	}
	env := full()
	env["S3_ENDPOINT"] = "http://127.0.0.1:8333"
	if _, err := config.Load(env); err == nil || !strings.Contains(err.Error(), "S3_ENDPOINT must be host:port") {
		t.Errorf("endpoint with a scheme: %v", err)
	}
}

// Issue 20: the tree cache budget and the Go memory limit come from config.
func TestTreeCacheAndMemLimit(t *testing.T) {
	cfg, err := config.Load(base())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TreeCacheBytes() != 96<<20 {
		t.Errorf("default tree cache = %d", cfg.TreeCacheBytes())
	}
	if n, err := cfg.MemLimit(); n != 0 || err != nil {
		t.Errorf("default mem limit = %d, %v", n, err)
	}
	env := base()
	env["TREE_CACHE_MB"] = "200"
	env["GOMEMLIMIT"] = "230MiB"
	if cfg, err = config.Load(env); err != nil {
		t.Fatal(err)
	}
	if n, _ := cfg.MemLimit(); cfg.TreeCacheBytes() != 200<<20 || n != 230<<20 {
		t.Errorf("got cache %d, limit %d", cfg.TreeCacheBytes(), n)
	}
	for _, bad := range []string{"lots", "-5MiB", "12MB", "1.5GiB", "0"} {
		env["GOMEMLIMIT"] = bad
		if _, err := config.Load(env); err == nil || !strings.Contains(err.Error(), "GOMEMLIMIT") {
			t.Errorf("GOMEMLIMIT=%q: %v", bad, err)
		}
	}
	env["GOMEMLIMIT"] = ""
	env["TREE_CACHE_MB"] = "0"
	if _, err := config.Load(env); err == nil || !strings.Contains(err.Error(), "TREE_CACHE_MB") {
		t.Errorf("TREE_CACHE_MB=0: %v", err)
	}
}
