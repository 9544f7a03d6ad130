package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"platform/internal/config"
	"platform/internal/storage"
)

// openStore opens the FILE_STORE the configuration names. The S3 bucket is
// checked (and created when missing) within S3_OP_TIMEOUT, logged before
// and after. A store that cannot be reached (refused, hung, 5xx) does not
// stop the start: the instance serves what needs no file, answers file
// requests with 503 until the store is back, and retries the check every
// storeRecheck until it passes or ctx ends. Any other failure (credentials,
// an unusable bucket name) is a misconfiguration and stops the start.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (storage.Store, error) {
	if cfg.FileStore != "s3" {
		return storage.Open(cfg.StaticDir, log)
	}
	s, err := storage.NewS3(s3Config(cfg), log)
	if err != nil {
		return nil, err
	}
	log.Info("checking the file store", "endpoint", cfg.S3Endpoint, "bucket", cfg.S3Bucket,
		"timeout", cfg.S3OpTimeout().String())
	start := time.Now()
	err = s.EnsureBucket(ctx)
	switch {
	case err == nil:
		log.Info("file store ready", "duration_ms", time.Since(start).Milliseconds())
	case storage.Unavailable(err):
		log.Warn("file store unreachable at start; serving anyway (file requests answer 503 until it is back), rechecking every "+storeRecheck.String(),
			"endpoint", cfg.S3Endpoint, "duration_ms", time.Since(start).Milliseconds(), "error", errors.Unwrap(err))
		go recheckStore(ctx, s, log)
	default:
		return nil, err
	}
	return s, nil
}

// storeRecheck is how often a store unreachable at start is checked again.
const storeRecheck = 5 * time.Second

// recheckStore retries the bucket check until it passes (creating a bucket
// that was missing) or ctx ends, logging the recovery once.
func recheckStore(ctx context.Context, s *storage.S3, log *slog.Logger) {
	t := time.NewTicker(storeRecheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.EnsureBucket(ctx)
		switch {
		case err == nil:
			log.Info("file store reachable; bucket ready")
			return
		case !storage.Unavailable(err) && ctx.Err() == nil:
			log.Error("file store check failed", "error", err)
			return
		}
	}
}

func s3Config(cfg config.Config) storage.S3Config {
	return storage.S3Config{
		Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
		AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseSSL: cfg.S3UseSSL,
		OpTimeout: cfg.S3OpTimeout(),
	}
}

// filesCmd is `platform files migrate`: it copies every file of the local
// STATIC_DIR into the S3 bucket under the same name, so the rows' stored
// strings stay valid. Files already in the bucket with the same size are
// skipped, so the command can be rerun after an interruption (or while the
// old instance still accepts uploads, then once more after it stopped).
func filesCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "migrate" {
		return fmt.Errorf("usage: platform files migrate")
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	if cfg.FileStore != "s3" {
		return errors.New("files migrate: set FILE_STORE=s3 and the S3_* settings of the target bucket (STATIC_DIR is the source)")
	}
	log := newLogger(cfg, stderr)
	if _, err := os.Stat(cfg.StaticDir); err != nil {
		return fmt.Errorf("files migrate: STATIC_DIR: %w", err)
	}
	src, err := storage.Open(cfg.StaticDir, log)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storage.OpenS3(ctx, s3Config(cfg), log)
	if err != nil {
		return err
	}
	have := map[string]int64{}
	if err := dst.Walk(ctx, "", func(e storage.Entry) error { have[e.Rel] = e.Size; return nil }); err != nil {
		return err
	}
	var copied, skipped int
	var bytes int64
	err = src.Walk(ctx, "", func(e storage.Entry) error {
		if isTemporary(e.Rel) || e.Rel == "README.md" {
			return nil // a save in progress, or the directory's own description
		}
		if size, ok := have[e.Rel]; ok && size == e.Size {
			skipped++
			return nil
		}
		f, err := src.Open(ctx, "", e.Rel)
		if errors.Is(err, storage.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := dst.Save(ctx, e.Rel, f, f.Size); err != nil {
			return fmt.Errorf("files migrate: copy %s: %w", e.Rel, err)
		}
		copied++
		bytes += f.Size
		if copied%100 == 0 {
			log.Info("files migrate: progress", "copied", copied, "skipped", skipped, "bytes", bytes)
		}
		return nil
	})
	if err != nil {
		return err
	}
	log.Info("files migrate: done", "copied", copied, "skipped", skipped, "bytes", bytes, "bucket", cfg.S3Bucket)
	fmt.Fprintf(stdout, "copied %d files (%d bytes), %d already in the bucket\n", copied, bytes, skipped)
	return nil
}

// isTemporary tells Local's in-progress saves (".tmp-…") apart.
func isTemporary(rel string) bool { return strings.HasPrefix(path.Base(rel), ".tmp-") }
