package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joho/godotenv"

	"platform/internal/config"
)

// initEnv runs `platform init-env` with args and the environment environ.
func initEnv(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(t.Context(), append([]string{"init-env"}, args...), environ, &out, &out); err != nil {
		t.Fatalf("init-env %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	m, err := godotenv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A new .env: mode 600, a random key, the admin printed once, and a
// configuration the server accepts.
func TestInitEnvWritesNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	const url = "postgres://postgres@127.0.0.1:54329/platform?sslmode=disable"
	out := initEnv(t, nil, "-file", path, "-database-url", url)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	env := readEnv(t, path)
	if env["DATABASE_URL"] != url || env["ADMIN_IIN"] != defaultAdminIIN || env["API_DOCS"] != "true" ||
		!regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(env["SECRET_KEY"]) ||
		!regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(env["ADMIN_PASSWORD"]) {
		t.Errorf(".env: %v", env)
	}
	if !strings.Contains(out, env["ADMIN_PASSWORD"]) {
		t.Errorf("the admin password is not printed: %s", out)
	}
	environ, err := config.Environ(nil, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(environ); err != nil {
		t.Errorf("the server refuses the written .env: %v", err)
	}

	// Run again: nothing to do, nothing changed, nothing printed.
	before, _ := os.ReadFile(path)
	if out := initEnv(t, nil, "-file", path, "-database-url", "postgres://other"); out != "" {
		t.Errorf("second run printed %q", out)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("second run changed the file:\n%s\n→\n%s", before, after)
	}
	// -force: a new file, a new key.
	initEnv(t, nil, "-file", path, "-force")
	if env2 := readEnv(t, path); env2["SECRET_KEY"] == env["SECRET_KEY"] || env2["DATABASE_URL"] != "" {
		t.Errorf("after -force: %v", env2)
	}
}

// An existing .env (a copy of .env.example) is completed where values are
// empty; values set in it or in the environment are kept; comments stay.
func TestInitEnvCompletesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(example, "LOG_LEVEL=debug"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out := initEnv(t, nil, "-file", path, "-database-url", "postgres://ignored")
	env := readEnv(t, path)
	if env["DATABASE_URL"] != "postgres://postgres@127.0.0.1:54329/platform?sslmode=disable" || env["LOG_LEVEL"] != "debug" ||
		len(env["SECRET_KEY"]) != 64 || len(env["ADMIN_PASSWORD"]) != 24 || env["API_DOCS"] != "true" {
		t.Errorf(".env: %v", env)
	}
	if !strings.Contains(out, env["ADMIN_PASSWORD"]) {
		t.Errorf("the admin password is not printed: %s", out)
	}
	text, _ := os.ReadFile(path)
	if !bytes.HasPrefix(text, example[:100]) || len(regexp.MustCompile(`(?m)^SECRET_KEY=`).FindAll(text, -1)) != 1 {
		t.Errorf("the file was rewritten rather than completed:\n%s", text)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}

	// The environment wins over .env: what it sets is not filled in.
	path2 := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path2, []byte("SECRET_KEY=\nADMIN_IIN=000000000002\nADMIN_PASSWORD=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	initEnv(t, []string{"SECRET_KEY=from-the-environment-0123456789", "ADMIN_PASSWORD=set", "API_DOCS=false"}, "-file", path2)
	if env := readEnv(t, path2); env["SECRET_KEY"] != "" || env["ADMIN_PASSWORD"] != "" || len(env) != 3 {
		t.Errorf(".env: %v", env)
	}
}
