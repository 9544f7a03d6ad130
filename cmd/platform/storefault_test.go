package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"platform/internal/tcpfault"
)

// Issue 22.4, through the whole program: an instance starting while its S3
// store hangs comes up within the bound and says so; while the store hangs
// or refuses connections, uploads and downloads alike are 503 with
// Retry-After, logged once as the store (not the database); once the store
// is back (rechecked in the background) files work again.
func TestServeStoreFaults(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	proxy, err := tcpfault.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	if err := proxy.Set(tcpfault.Hang); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	base, token, _, logs, _, _ := startServe(t, "FILE_STORE=s3", "S3_ENDPOINT="+proxy.Addr(),
		"S3_BUCKET=platform", "S3_ACCESS_KEY=test", "S3_SECRET_KEY=test-secret", "S3_USE_SSL=false",
		"S3_OP_TIMEOUT=1")
	up := time.Since(start)
	t.Logf("listening %s after start with the store hanging (S3_OP_TIMEOUT=1)", up.Round(time.Millisecond))
	if up > 10*time.Second {
		t.Fatalf("start took %s with the store hanging", up)
	}
	for _, want := range []string{"checking the file store", "file store unreachable at start"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("start log lacks %q:\n%s", want, logs.String())
		}
	}

	upload := func() (*http.Response, time.Duration) {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		w, _ := mw.CreateFormFile("file", "a.pdf")
		fmt.Fprint(w, "%PDF-1.4 "+strings.Repeat("x", 1000))
		mw.Close()
		req, _ := http.NewRequest("POST", base+"/lessons/upload/lesson-file", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		return send(t, req)
	}
	download := func(path string) (*http.Response, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/files/download/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return send(t, req)
	}
	want503 := func(what string, res *http.Response, took time.Duration) {
		t.Helper()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d (Retry-After %q), want 503 with Retry-After\n%s", what, res.StatusCode, res.Header.Get("Retry-After"), logs.String())
		}
		t.Logf("%s: 503 Retry-After %s after %s", what, res.Header.Get("Retry-After"), took.Round(time.Millisecond))
	}

	res, took := upload()
	want503("upload, store hanging", res, took)
	res, took = download("lesson_docs/0123456789abcdef0123456789abcdef.pdf")
	want503("download, store hanging", res, took)
	if took > 5*time.Second {
		t.Fatalf("the download waited %s on a hung store", took)
	}

	if err := proxy.Set(tcpfault.Refuse); err != nil {
		t.Fatal(err)
	}
	res, took = upload()
	want503("upload, store refusing", res, took)
	res, took = download("lesson_docs/0123456789abcdef0123456789abcdef.pdf")
	want503("download, store refusing", res, took)

	log := logs.String()
	if n := strings.Count(log, "store unavailable; answering 503"); n != 1 {
		t.Fatalf("%d \"store unavailable\" lines for one burst, want 1:\n%s", n, log)
	}
	if strings.Contains(log, "database unavailable") || strings.Contains(log, `"level":"ERROR"`) {
		t.Fatalf("a store fault logged as the database's or as an error:\n%s", log)
	}

	if err := proxy.Set(tcpfault.Forward); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "file store reachable; bucket ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the store's recovery was never noticed:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond) // the background recheck: nothing to wait on
	}
	res, _ = upload()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload after the store came back: %d", res.StatusCode)
	}
}

// send does req and returns the response (body read and closed) and how long it took.
func send(t *testing.T, req *http.Request) (*http.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, time.Since(start)
}
