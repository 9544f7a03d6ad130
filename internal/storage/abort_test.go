package storage_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"platform/internal/s3test"
	"platform/internal/storage"
)

// Issue 22.3: incomplete multipart uploads (an instance killed mid-save, an
// abort that failed while the store was down) are invisible to Walk, so the
// orphan sweep never saw them. AbortStaleUploads aborts those older than
// the given age and spares newer ones (saves in progress), against a real
// S3 server.
func TestS3AbortStaleUploads(t *testing.T) {
	t.Parallel()
	endpoint := s3test.Weed(t)
	testAbortStale(t, endpoint, s3test.AccessKey, s3test.SecretKey)
}

// The same against the in-process server, which runs everywhere.
func TestS3AbortStaleUploadsFake(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	testAbortStale(t, u.Host, "test", "test-secret")
}

func testAbortStale(t *testing.T, endpoint, access, secret string) {
	ctx := t.Context()
	const bucket = "aborts"
	s, err := storage.OpenS3(ctx, storage.S3Config{
		Endpoint: endpoint, Bucket: bucket, Region: "us-east-1", AccessKey: access, SecretKey: secret,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.NewCore(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(access, secret, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	// An upload with one part sent, never completed: what a killed
	// instance leaves.
	leave := func(key string) {
		t.Helper()
		id, err := c.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		part := bytes.Repeat([]byte("p"), 64<<10)
		if _, err := c.PutObjectPart(ctx, bucket, key, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pending := func() []string {
		t.Helper()
		res, err := c.ListMultipartUploads(ctx, bucket, "", "", "", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, u := range res.Uploads {
			keys = append(keys, u.Key)
		}
		slices.Sort(keys)
		return keys
	}
	if _, err := s.Save(ctx, "lesson_docs/kept.pdf", strings.NewReader("kept"), 100); err != nil {
		t.Fatal(err)
	}
	leave("lesson_docs/old-a.pdf")
	leave("homework/lesson_1/old-b.pdf")
	time.Sleep(2100 * time.Millisecond) // ages them past the 2 s below (S3 times are in seconds)
	leave("lesson_docs/new.pdf")
	if got := pending(); len(got) != 3 {
		t.Fatalf("incomplete uploads before the sweep: %v", got)
	}
	walked := 0
	if err := s.Walk(ctx, "", func(storage.Entry) error { walked++; return nil }); err != nil || walked != 1 {
		t.Fatalf("walk sees %d entries (%v), want only the complete object", walked, err)
	}

	n, err := s.AbortStaleUploads(ctx, 2*time.Second)
	if err != nil || n != 2 {
		t.Fatalf("AbortStaleUploads(2s) = %d, %v; want the 2 old uploads aborted", n, err)
	}
	if got := pending(); !slices.Equal(got, []string{"lesson_docs/new.pdf"}) {
		t.Fatalf("incomplete uploads after the sweep: %v, want only the recent one", got)
	}
	time.Sleep(1100 * time.Millisecond)
	if n, err := s.AbortStaleUploads(ctx, 0); err != nil || n != 1 {
		t.Fatalf("AbortStaleUploads(0) = %d, %v; want 1", n, err)
	}
	if got := pending(); len(got) != 0 {
		t.Fatalf("incomplete uploads survive the sweep: %v", got)
	}
	f, err := s.Open(ctx, "lesson_docs", "kept.pdf")
	if err != nil {
		t.Fatalf("the complete object after the sweep: %v", err)
	}
	f.Close()
}
