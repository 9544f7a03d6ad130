// Package s3test starts a real S3-compatible server, SeaweedFS (`weed
// mini`, built once per machine by scripts/weed.sh), for tests that must
// run against one rather than the in-process gofakes3. Without the binary
// the test is skipped, except under CI=true, where scripts/test.sh builds it
// and its absence is a failure.
package s3test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Credentials of the started server.
const (
	AccessKey = "e2e"
	SecretKey = "e2e-secret"
)

// Weed starts `weed mini` with its data in a temporary directory and
// returns its S3 endpoint (host:port); the server is stopped when the test
// ends.
func Weed(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := `source scripts/weed.sh
if [ ! -x "$WEED" ]; then echo "NOWEED $WEED"; exit 0; fi
weed_start "$1" >&2
echo "READY $WEED_S3_PORT $WEED_PID"`
	cmd := exec.Command("bash", "-c", script, "weed", dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WEED_ACCESS_KEY="+AccessKey, "WEED_SECRET_KEY="+SecretKey)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("s3test: start weed: %v\n%s", err, stderr.String())
	}
	line := strings.TrimSpace(lastLine(string(out)))
	if path, ok := strings.CutPrefix(line, "NOWEED "); ok {
		msg := fmt.Sprintf("no SeaweedFS binary at %s: build it with `bash -c 'source scripts/weed.sh && weed_ensure'` (about 10 minutes, once per machine)", path)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var port string
	var pid int
	if _, err := fmt.Sscanf(line, "READY %s %d", &port, &pid); err != nil {
		t.Fatalf("s3test: weed said %q: %v\n%s", line, err, stderr.String())
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond) // waiting for another process to exit
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	})
	t.Logf("SeaweedFS S3 on 127.0.0.1:%s (pid %d)", port, pid)
	return "127.0.0.1:" + port
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	return last
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("s3test: no go.mod above the working directory")
		}
		dir = parent
	}
}
