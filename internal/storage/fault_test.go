package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"platform/internal/apperr"
	"platform/internal/storage"
	"platform/internal/tcpfault"
)

// faultyS3 is an S3 store whose connections to an in-process S3 server go
// through a TCP fault proxy, with the given operation timeout.
func faultyS3(t *testing.T, timeout time.Duration) (*storage.S3, *tcpfault.Proxy) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	proxy, err := tcpfault.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	s, err := storage.OpenS3(t.Context(), storage.S3Config{
		Endpoint: proxy.Addr(), Bucket: "platform", Region: "us-east-1",
		AccessKey: "test", SecretKey: "test-secret", OpTimeout: timeout,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, proxy
}

// wantDown checks err is the store's 503 and that it came within limit.
func wantDown(t *testing.T, what string, err error, took, limit time.Duration) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindUnavailable || e.Down != "store" || e.Reason != "store_down" || e.RetryAfter <= 0 {
		t.Fatalf("%s: got %v (%#v), want the store's 503", what, err, e)
	}
	if !storage.Unavailable(err) {
		t.Fatalf("%s: storage.Unavailable(%v) = false", what, err)
	}
	if took > limit {
		t.Fatalf("%s: the 503 took %s, want under %s", what, took, limit)
	}
	t.Logf("%s: store's 503 after %s (%v)", what, took.Round(time.Millisecond), e.Err)
}

// Issue 22.4: with the store refusing connections, a save and an open fail
// at once with the store's 503 (not a 500, not a 503 after seconds of
// retries), and work again once it is back.
func TestS3StoreRefusing(t *testing.T) {
	t.Parallel()
	s, proxy := faultyS3(t, 5*time.Second)
	ctx := t.Context()
	if _, err := s.Save(ctx, "photos/kept.png", strings.NewReader("kept"), 100); err != nil {
		t.Fatal(err)
	}
	if err := proxy.Set(tcpfault.Refuse); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := s.Save(ctx, "photos/new.png", strings.NewReader("new"), 100)
	wantDown(t, "save, store refusing", err, time.Since(start), 2*time.Second)
	start = time.Now()
	_, err = s.Save(ctx, "photos/big.bin", bytes.NewReader(make([]byte, 9<<20)), 10<<20)
	wantDown(t, "multipart save, store refusing", err, time.Since(start), 2*time.Second)
	start = time.Now()
	_, err = s.Open(ctx, "photos", "kept.png")
	wantDown(t, "open, store refusing", err, time.Since(start), 2*time.Second)
	start = time.Now()
	err = s.Walk(ctx, "", func(storage.Entry) error { return nil })
	wantDown(t, "walk, store refusing", err, time.Since(start), 2*time.Second)
	start = time.Now()
	_, err = s.AbortStaleUploads(ctx, time.Hour)
	wantDown(t, "abort uploads, store refusing", err, time.Since(start), 2*time.Second)

	if err := proxy.Set(tcpfault.Forward); err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(ctx, "photos", "kept.png")
	if err != nil {
		t.Fatalf("open after the store came back: %v", err)
	}
	f.Close()
}

// Issue 22.4: with the store accepting connections but never answering, an
// operation ends after the operation timeout with the store's 503 instead
// of minio-go's minutes of retries.
func TestS3StoreHanging(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	s, proxy := faultyS3(t, timeout)
	ctx := t.Context()
	if _, err := s.Save(ctx, "photos/kept.png", strings.NewReader("kept"), 100); err != nil {
		t.Fatal(err)
	}
	if err := proxy.Set(tcpfault.Hang); err != nil {
		t.Fatal(err)
	}
	limit := timeout + 1500*time.Millisecond
	start := time.Now()
	_, err := s.Save(ctx, "photos/new.png", strings.NewReader("new"), 100)
	wantDown(t, "save, store hanging", err, time.Since(start), limit)
	start = time.Now()
	_, err = s.Save(ctx, "photos/big.bin", bytes.NewReader(make([]byte, 9<<20)), 10<<20)
	wantDown(t, "multipart save, store hanging", err, time.Since(start), limit)
	start = time.Now()
	_, err = s.Open(ctx, "photos", "kept.png")
	wantDown(t, "open, store hanging", err, time.Since(start), limit)
	start = time.Now()
	err = s.Walk(ctx, "", func(storage.Entry) error { return nil })
	wantDown(t, "walk, store hanging", err, time.Since(start), limit)
	start = time.Now()
	_, err = s.AbortStaleUploads(ctx, time.Hour)
	wantDown(t, "abort uploads, store hanging", err, time.Since(start), limit)
	start = time.Now()
	err = s.EnsureBucket(ctx)
	wantDown(t, "bucket check, store hanging", err, time.Since(start), limit)
}

// The operation timeout counts only the store's time: a client that sends
// its upload (and reads its download) more slowly than the timeout is not
// cut off by it.
func TestS3TimeoutSparesSlowClients(t *testing.T) {
	t.Parallel()
	// Long enough for the in-process server to take an 8 MiB part under
	// the race detector.
	const timeout = 3 * time.Second
	const pause = timeout + 300*time.Millisecond
	s, _ := faultyS3(t, timeout)
	ctx := t.Context()
	content := bytes.Repeat([]byte("x"), 9<<20) // a multipart upload: two parts
	// The pause comes after the first part went to the store.
	src := &slowReader{r: bytes.NewReader(content), every: 9 << 20, pause: pause}
	if _, err := s.Save(ctx, "lesson_docs/slow.pdf", src, 10<<20); err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	f, err := s.Open(ctx, "lesson_docs", "slow.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(&slowReader{r: f, every: 8 << 20, pause: pause})
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("slow download: %d bytes, %v", len(got), err)
	}
	n := 0
	err = s.Walk(ctx, "", func(storage.Entry) error { n++; time.Sleep(pause); return nil })
	if err != nil || n != 1 {
		t.Fatalf("walk with a slow callback: %d entries, %v", n, err)
	}
}

// A client that goes away is its own error (the edge answers 499), not the
// store's 503.
func TestS3ClientGoneIsNotStoreDown(t *testing.T) {
	t.Parallel()
	s, proxy := faultyS3(t, 5*time.Second)
	if err := proxy.Set(tcpfault.Hang); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := s.Save(ctx, "photos/new.png", strings.NewReader("new"), 100)
	if !errors.Is(err, context.DeadlineExceeded) || storage.Unavailable(err) {
		t.Fatalf("save with the caller's context over: %v, want the context's error", err)
	}
}

// slowReader pauses before each `every` bytes but the first.
type slowReader struct {
	r     io.Reader
	every int
	pause time.Duration
	n     int
	slept int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n > 0 && s.n%s.every == 0 && s.slept < s.n {
		s.slept = s.n
		time.Sleep(s.pause)
	}
	if left := s.every - s.n%s.every; len(p) > left {
		p = p[:left]
	}
	n, err := s.r.Read(p)
	s.n += n
	return n, err
}
