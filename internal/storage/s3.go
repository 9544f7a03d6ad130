package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is where the bucket is (FILE_STORE=s3).
type S3Config struct {
	Endpoint  string // host:port, no scheme
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	UseSSL    bool
	// OpTimeout bounds how long the store may go without answering during
	// one operation (S3_OP_TIMEOUT; 0: DefaultOpTimeout). Past it the
	// operation fails with the store's 503.
	OpTimeout time.Duration
	// Transport is the HTTP transport of the client (nil: minio-go's
	// default); tests pass an in-process server's.
	Transport http.RoundTripper
}

// partSize is how much of an upload is held in memory at a time: a file
// that fits is sent with one PUT; a longer one goes as a multipart upload of
// parts this size, which the bucket publishes only when it completes.
const partSize = 8 << 20

// S3 is a bucket of an S3-compatible object store, shared by every
// instance. The object key is the path under the static root
// ("lesson_docs/x.pdf"), so rows keep their stored strings after a
// `platform files migrate`.
type S3 struct {
	c       *minio.Client
	bucket  string
	region  string
	timeout time.Duration
	log     *slog.Logger
}

var _ Store = (*S3)(nil)

// OpenS3 connects to the bucket, creating it when it does not exist
// (NewS3, then EnsureBucket).
func OpenS3(ctx context.Context, cfg S3Config, log *slog.Logger) (*S3, error) {
	s, err := NewS3(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// s3Retries is minio-go's attempts per request: one retry (after about
// 200 ms) for a connection that broke, instead of its default ten with
// backoff, which kept a request on a refusing store for seconds. The
// client retries after the 503's Retry-After.
const s3Retries = 2

// NewS3 makes the bucket's client without contacting the store.
func NewS3(cfg S3Config, log *slog.Logger) (*S3, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath, // works with any endpoint, no wildcard DNS
		Transport:    cfg.Transport,
		MaxRetries:   s3Retries,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: S3_ENDPOINT %q: %w", cfg.Endpoint, err)
	}
	timeout := cfg.OpTimeout
	if timeout <= 0 {
		timeout = DefaultOpTimeout
	}
	return &S3{c: c, bucket: cfg.Bucket, region: cfg.Region, timeout: timeout, log: log}, nil
}

// EnsureBucket checks that the bucket exists, creating it when it does
// not, within the operation timeout: a store that cannot be reached is the
// store's 503 (Unavailable), any other failure (credentials, a refused
// bucket name) a plain error.
func (s *S3) EnsureBucket(ctx context.Context) error {
	c := startClock(ctx, s.timeout)
	defer c.stop()
	wrap := func(what string) func(error) error {
		return func(err error) error {
			return fmt.Errorf("storage: %s bucket %q at %s: %w", what, s.bucket, s.c.EndpointURL().Host, err)
		}
	}
	ok, err := s.c.BucketExists(c.ctx, s.bucket)
	if err != nil {
		return c.fail(ctx, "check bucket", err, wrap("check"))
	}
	if !ok {
		c.resume()
		err := s.c.MakeBucket(c.ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
		if err != nil && !bucketOwned(err) {
			return c.fail(ctx, "create bucket", err, wrap("create"))
		}
	}
	return nil
}

// bucketOwned is true when another instance created the bucket meanwhile.
func bucketOwned(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists"
}

// Close has nothing to release: the client holds only idle connections.
func (s *S3) Close() error { return nil }

// Save sends a file that fits in one part with a single PUT, a larger one as
// a multipart upload; either way the object appears only when complete, and
// a failed or too-large upload is aborted, leaving nothing.
func (s *S3) Save(ctx context.Context, rel string, src io.Reader, limit int64) (int64, error) {
	if !SafeRel(rel) {
		return 0, saveFailed(fmt.Errorf("refused path %q", rel))
	}
	in := &capped{r: &readErrs{r: src}, left: limit}
	head := make([]byte, min(limit+1, partSize))
	n, err := io.ReadFull(in, head)
	if err := in.failed(); err != nil {
		return in.n, err
	}
	opts := minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    partSize,
		// Without TLS, minio-go would sign every chunk of a part
		// (aws-chunked), which not every S3-compatible server decodes for
		// multipart parts (gofakes3 stores the chunk framing). The CRC32C
		// checksum minio-go adds to each part still guards the content,
		// and with S3_USE_SSL the payload is never chunk-signed anyway.
		DisableContentSha256: true,
	}
	// The clock runs only while the store works: it is paused while the
	// client's upload is read (the body has its own deadlines), and
	// restarts whenever the store takes more bytes of a part.
	c := startClock(ctx, s.timeout)
	defer c.stop()
	opts.Progress = progress{c}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		_, err = s.c.PutObject(c.ctx, s.bucket, rel, bytes.NewReader(head[:n]), int64(n), opts)
	} else {
		src := io.MultiReader(bytes.NewReader(head), &pausedReader{r: in, c: c})
		_, err = s.c.PutObject(c.ctx, s.bucket, rel, src, -1, opts)
	}
	if ferr := in.failed(); ferr != nil {
		return in.n, ferr
	}
	if err != nil {
		// A multipart upload minio-go could not abort (the store down, the
		// context over) is left to AbortStaleUploads.
		return in.n, c.fail(ctx, "save", err, saveFailed)
	}
	return in.n, nil
}

// capped counts what is read and fails with ErrTooLarge past the limit, so
// the upload to the bucket fails (and is aborted) instead of completing.
type capped struct {
	r    *readErrs
	left int64
	n    int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.over {
		return 0, ErrTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.left {
		c.over = true
		return n, ErrTooLarge
	}
	return n, err
}

// failed is the client's read error or ErrTooLarge, when either happened.
func (c *capped) failed() error {
	switch {
	case c.r.err != nil:
		return c.r.err
	case c.over:
		return ErrTooLarge
	}
	return nil
}

// Open stats the object, then serves reads and seeks from ranged GETs
// (minio.Object fetches lazily from the current offset), so a Range request
// transfers only its bytes from the bucket.
func (s *S3) Open(ctx context.Context, dir, name string) (*File, error) {
	key, ok := s3Key(dir, name)
	if !ok {
		return nil, ErrNotExist
	}
	// The object reads lazily with this context, so the clock lives as long
	// as the File, running only while a read waits on the store.
	c := startClock(ctx, s.timeout)
	other := func(what string) func(error) error {
		return func(err error) error { return fmt.Errorf("storage: %s %s: %w", what, key, err) }
	}
	obj, err := s.c.GetObject(c.ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		c.stop()
		return nil, c.fail(ctx, "open", err, other("get"))
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		c.stop()
		if notFound(err) {
			return nil, ErrNotExist
		}
		return nil, c.fail(ctx, "open", err, other("stat"))
	}
	c.pause()
	return &File{ReadSeekCloser: &clockedObject{Object: obj, c: c}, Name: path.Base(key), Size: info.Size, ModTime: info.LastModified}, nil
}

// clockedObject runs the operation clock only while a read waits on the
// store, so a download to a slow client is never cut by it.
type clockedObject struct {
	*minio.Object
	c *opClock
}

func (o *clockedObject) Read(p []byte) (int, error) {
	o.c.resume()
	defer o.c.pause()
	return o.Object.Read(p)
}

func (o *clockedObject) Close() error {
	o.c.stop()
	return o.Object.Close()
}

// s3Key is the object key of name under dir. Keys have no directories to
// resolve: the name is cleaned as a path would be on disk (the caller has
// refused ".." and absolute names), and a name that would be a directory on
// disk (trailing "/", the root itself) is no file.
func s3Key(dir, name string) (string, bool) {
	if name == "" || name == "." || strings.HasSuffix(name, "/") {
		return "", false
	}
	key := path.Clean(path.Join(dir, name))
	if key == "." || strings.HasPrefix(key, "../") || (dir != "" && !strings.HasPrefix(key, dir+"/")) {
		return "", false
	}
	return key, true
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Remove deletes objects (a missing one is no failure in S3).
func (s *S3) Remove(ctx context.Context, rels ...string) {
	for _, rel := range rels {
		if rel == "" {
			continue
		}
		if !SafeRel(rel) {
			s.log.WarnContext(ctx, "remove file: refused path", "path", rel)
			continue
		}
		c := startClock(ctx, s.timeout)
		err := s.c.RemoveObject(c.ctx, s.bucket, rel, minio.RemoveObjectOptions{})
		if err != nil && !notFound(err) {
			s.log.WarnContext(ctx, "remove file", "path", rel, "error", c.explain(err))
		}
		c.stop()
	}
}

// RemoveDir deletes every object whose key starts with rel + "/".
func (s *S3) RemoveDir(ctx context.Context, rel string) {
	if !SafeRel(rel) {
		s.log.WarnContext(ctx, "remove directory: refused path", "path", rel)
		return
	}
	// The clock restarts with every object listed or removed.
	c := startClock(ctx, s.timeout)
	defer c.stop()
	keys := make(chan minio.ObjectInfo)
	go func() {
		defer close(keys)
		for obj := range s.c.ListObjects(c.ctx, s.bucket, minio.ListObjectsOptions{Prefix: strings.TrimSuffix(rel, "/") + "/", Recursive: true}) {
			if obj.Err != nil {
				s.log.WarnContext(ctx, "list directory", "path", rel, "error", c.explain(obj.Err))
				return
			}
			c.resume()
			select {
			case keys <- obj:
			case <-ctx.Done():
				return
			}
		}
	}()
	for res := range s.c.RemoveObjects(c.ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		c.resume()
		if res.Err != nil && !notFound(res.Err) {
			s.log.WarnContext(ctx, "remove file", "path", res.ObjectName, "error", res.Err)
		}
	}
}

// Walk lists the objects under dir.
func (s *S3) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	// The clock (whose context also stops the listing when fn fails) runs
	// while the listing waits on the store, not while fn works.
	c := startClock(ctx, s.timeout)
	defer c.stop()
	prefix := ""
	if dir != "" && dir != "." {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	for obj := range s.c.ListObjects(c.ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return c.fail(ctx, "walk "+dir, obj.Err, func(err error) error { return fmt.Errorf("storage: walk %s: %w", dir, err) })
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // a directory marker some tools create
		}
		c.pause()
		err := fn(Entry{Rel: obj.Key, Size: obj.Size, ModTime: obj.LastModified})
		c.resume()
		if err != nil {
			return fmt.Errorf("storage: walk %s: %w", dir, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cause := context.Cause(c.ctx); errors.Is(cause, errStoreTimeout) {
		return storeDown("walk "+dir, cause)
	}
	return nil
}

// AbortStaleUploads aborts every incomplete multipart upload in the bucket
// started more than olderThan ago: uploads of an instance killed mid-save,
// or whose abort failed while the store was down. They are invisible to
// Walk but hold their parts' space until aborted. It returns how many it
// aborted; it stops at the first failure.
func (s *S3) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	c := startClock(ctx, s.timeout)
	defer c.stop()
	core := minio.Core{Client: s.c}
	cutoff := time.Now().Add(-olderThan)
	aborted := 0
	keyMarker, idMarker := "", ""
	for {
		res, err := core.ListMultipartUploads(c.ctx, s.bucket, "", keyMarker, idMarker, "", 1000)
		if err != nil {
			return aborted, c.fail(ctx, "list uploads", err, func(err error) error {
				return fmt.Errorf("storage: list uploads: %w", err)
			})
		}
		c.resume()
		for _, u := range res.Uploads {
			if u.Initiated.IsZero() || u.Initiated.After(cutoff) {
				continue // a save in progress, or one too recent to tell
			}
			err := core.AbortMultipartUpload(c.ctx, s.bucket, u.Key, u.UploadID)
			if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
				return aborted, c.fail(ctx, "abort upload", err, func(err error) error {
					return fmt.Errorf("storage: abort upload %s of %s: %w", u.UploadID, u.Key, err)
				})
			}
			c.resume()
			if err == nil {
				aborted++
				s.log.InfoContext(ctx, "aborted stale multipart upload", "key", u.Key,
					"initiated", u.Initiated, "age", time.Since(u.Initiated).Round(time.Second).String())
			}
		}
		if !res.IsTruncated || (res.NextKeyMarker == "" && res.NextUploadIDMarker == "") {
			return aborted, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}
