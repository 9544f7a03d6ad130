package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// defaultAdminIIN is the bootstrap administrator a new .env names.
const defaultAdminIIN = "000000000001"

// initEnvCmd is `platform init-env`: it writes a local-development .env
// (mode 600) with a random SECRET_KEY and a bootstrap admin whose generated
// password is printed once. An existing file is completed, never
// overwritten (unless -force): an empty SECRET_KEY gets a random key, an
// empty ADMIN_PASSWORD (with ADMIN_IIN set) a generated one, an empty
// API_DOCS true, and an empty DATABASE_URL the -database-url given. A
// variable set in the environment counts as set: it wins over .env.
func initEnvCmd(args, environ []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("init-env", flag.ContinueOnError)
	fl.SetOutput(stderr)
	file := fl.String("file", ".env", "the file to write")
	dbURL := fl.String("database-url", "", "DATABASE_URL to write (an existing file: only where it is empty)")
	force := fl.Bool("force", false, "replace an existing file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("init-env: unexpected argument %q", fl.Arg(0))
	}
	old, err := os.ReadFile(*file)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && *force:
		return writeNewEnv(*file, *dbURL, stdout)
	case err != nil:
		return fmt.Errorf("init-env: %w", err)
	}
	return completeEnv(*file, string(old), *dbURL, environ, stdout)
}

func writeNewEnv(path, dbURL string, stdout io.Writer) error {
	password := randomHex(12)
	var b strings.Builder
	fmt.Fprintf(&b, "# Local development settings, written by `platform init-env` on %s.\n", time.Now().UTC().Format(time.RFC3339))
	b.WriteString("# Never commit this file. See .env.example for every variable.\n")
	if dbURL != "" {
		fmt.Fprintf(&b, "DATABASE_URL=%s\n", dbURL)
	}
	fmt.Fprintf(&b, "SECRET_KEY=%s\nADMIN_IIN=%s\nADMIN_PASSWORD=%s\n", randomHex(32), defaultAdminIIN, password)
	b.WriteString("# The OpenAPI document at GET /openapi.json (off by default outside local development).\nAPI_DOCS=true\n")
	if err := writeEnvFile(path, b.String()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (mode 600) with a new SECRET_KEY and an admin account\n", path)
	printAdmin(stdout, defaultAdminIIN, password)
	return nil
}

func completeEnv(path, text, dbURL string, environ []string, stdout io.Writer) error {
	file, err := godotenv.Unmarshal(text)
	if err != nil {
		return fmt.Errorf("init-env: read %s: %w", path, err)
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[k] = v
		}
	}
	value := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return file[k]
	}
	var filled []string
	fill := func(k, v string) {
		text = setEnvLine(text, k, v)
		filled = append(filled, k)
	}
	if value("DATABASE_URL") == "" && dbURL != "" {
		fill("DATABASE_URL", dbURL)
	}
	if value("SECRET_KEY") == "" {
		fill("SECRET_KEY", randomHex(32))
	}
	if value("API_DOCS") == "" {
		fill("API_DOCS", "true")
	}
	iin, password := value("ADMIN_IIN"), ""
	if iin != "" && value("ADMIN_PASSWORD") == "" {
		password = randomHex(12)
		fill("ADMIN_PASSWORD", password)
	}
	if len(filled) == 0 {
		return nil
	}
	if err := writeEnvFile(path, text); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "completed %s (mode 600): %s\n", path, strings.Join(filled, ", "))
	if password != "" {
		printAdmin(stdout, iin, password)
	}
	return nil
}

// setEnvLine makes KEY=value the assignment of key in a dotenv text: in
// place of the first one (later ones dropped, so it is also the last), or
// appended.
func setEnvLine(text, key, value string) string {
	re := regexp.MustCompile(`^\s*(export\s+)?` + regexp.QuoteMeta(key) + `\s*=`)
	lines := strings.SplitAfter(text, "\n")
	out := make([]string, 0, len(lines)+1)
	done := false
	for _, l := range lines {
		if re.MatchString(l) {
			if !done {
				out = append(out, key+"="+value+"\n")
				done = true
			}
			continue
		}
		out = append(out, l)
	}
	if !done {
		if last := out[len(out)-1]; last != "" && !strings.HasSuffix(last, "\n") {
			out = append(out, "\n")
		}
		out = append(out, key+"="+value+"\n")
	}
	return strings.Join(out, "")
}

// writeEnvFile replaces path with text, mode 600 (it holds the signing key:
// CreateTemp's mode), through a temporary file so a crash leaves the old
// file or the new one.
func writeEnvFile(path, text string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("init-env: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return fmt.Errorf("init-env: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("init-env: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("init-env: %w", err)
	}
	return nil
}

func printAdmin(w io.Writer, iin, password string) {
	fmt.Fprintf(w, `
  ================================================================
   The admin is created when the server first starts:

       ADMIN_IIN       %s
       ADMIN_PASSWORD  %s

   This is shown only once (it stays in the file).
  ================================================================

`, iin, password)
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}
