package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Observed wraps a store so every operation's latency lands in hist, labelled
// by operation (save, open, remove, remove_dir, walk, abort_uploads) and
// result (ok, error, unavailable: the store unreachable or past its
// timeout; "not_found" and "too_large" apart, since those are the client's).
// The histogram needs exactly the labels "op" and "result".
func Observed(s Store, hist *prometheus.HistogramVec) Store {
	return &observed{s: s, h: hist}
}

type observed struct {
	s Store
	h *prometheus.HistogramVec
}

func (o *observed) since(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, ErrNotExist), errors.Is(err, ErrOutside):
		result = "not_found"
	case errors.Is(err, ErrTooLarge):
		result = "too_large"
	case Unavailable(err):
		result = "unavailable"
	case err != nil:
		result = "error"
	}
	o.h.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

func (o *observed) Save(ctx context.Context, rel string, src io.Reader, limit int64) (int64, error) {
	start := time.Now()
	n, err := o.s.Save(ctx, rel, src, limit)
	o.since("save", start, err)
	return n, err
}

func (o *observed) Open(ctx context.Context, dir, name string) (*File, error) {
	start := time.Now()
	f, err := o.s.Open(ctx, dir, name)
	o.since("open", start, err)
	return f, err
}

func (o *observed) Remove(ctx context.Context, rels ...string) {
	start := time.Now()
	o.s.Remove(ctx, rels...)
	o.since("remove", start, nil)
}

func (o *observed) RemoveDir(ctx context.Context, rel string) {
	start := time.Now()
	o.s.RemoveDir(ctx, rel)
	o.since("remove_dir", start, nil)
}

func (o *observed) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	start := time.Now()
	err := o.s.Walk(ctx, dir, fn)
	o.since("walk", start, err)
	return err
}

func (o *observed) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	start := time.Now()
	n, err := o.s.AbortStaleUploads(ctx, olderThan)
	o.since("abort_uploads", start, err)
	return n, err
}

func (o *observed) Close() error { return o.s.Close() }
