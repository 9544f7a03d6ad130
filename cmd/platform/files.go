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

	"platform/internal/config"
	"platform/internal/storage"
)

// openStore opens the FILE_STORE the configuration names.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (storage.Store, error) {
	if cfg.FileStore == "s3" {
		return storage.OpenS3(ctx, s3Config(cfg), log)
	}
	return storage.Open(cfg.StaticDir, log)
}

func s3Config(cfg config.Config) storage.S3Config {
	return storage.S3Config{
		Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
		AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseSSL: cfg.S3UseSSL,
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
