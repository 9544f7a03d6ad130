package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"

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
	c      *minio.Client
	bucket string
	log    *slog.Logger
}

var _ Store = (*S3)(nil)

// OpenS3 connects to the bucket, creating it when it does not exist.
func OpenS3(ctx context.Context, cfg S3Config, log *slog.Logger) (*S3, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath, // works with any endpoint, no wildcard DNS
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: S3_ENDPOINT %q: %w", cfg.Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("storage: bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && !bucketOwned(err) {
			return nil, fmt.Errorf("storage: create bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
		}
	}
	return &S3{c: c, bucket: cfg.Bucket, log: log}, nil
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
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		_, err = s.c.PutObject(ctx, s.bucket, rel, bytes.NewReader(head[:n]), int64(n), opts)
	} else {
		_, err = s.c.PutObject(ctx, s.bucket, rel, io.MultiReader(bytes.NewReader(head), in), -1, opts)
	}
	if ferr := in.failed(); ferr != nil {
		return in.n, ferr
	}
	if err != nil {
		return in.n, saveFailed(err)
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
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if notFound(err) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return &File{ReadSeekCloser: obj, Name: path.Base(key), Size: info.Size, ModTime: info.LastModified}, nil
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
		if err := s.c.RemoveObject(ctx, s.bucket, rel, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
			s.log.WarnContext(ctx, "remove file", "path", rel, "error", err)
		}
	}
}

// RemoveDir deletes every object whose key starts with rel + "/".
func (s *S3) RemoveDir(ctx context.Context, rel string) {
	if !SafeRel(rel) {
		s.log.WarnContext(ctx, "remove directory: refused path", "path", rel)
		return
	}
	keys := make(chan minio.ObjectInfo)
	go func() {
		defer close(keys)
		for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: strings.TrimSuffix(rel, "/") + "/", Recursive: true}) {
			if obj.Err != nil {
				s.log.WarnContext(ctx, "list directory", "path", rel, "error", obj.Err)
				return
			}
			select {
			case keys <- obj:
			case <-ctx.Done():
				return
			}
		}
	}()
	for res := range s.c.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		if res.Err != nil && !notFound(res.Err) {
			s.log.WarnContext(ctx, "remove file", "path", res.ObjectName, "error", res.Err)
		}
	}
}

// Walk lists the objects under dir.
func (s *S3) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops the listing when fn fails
	defer cancel()
	prefix := ""
	if dir != "" && dir != "." {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("storage: walk %s: %w", dir, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // a directory marker some tools create
		}
		if err := fn(Entry{Rel: obj.Key, Size: obj.Size, ModTime: obj.LastModified}); err != nil {
			return fmt.Errorf("storage: walk %s: %w", dir, err)
		}
	}
	return ctx.Err()
}
