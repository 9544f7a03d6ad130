package jobs

import (
	"context"
	"time"

	"platform/internal/storage"
)

// multipartAborter is the store method (S3 only) that aborts incomplete
// multipart uploads older than a grace, added by the object-store part of
// issue 22 (wt-s3).
//
// HOOK(issue 22, wt-s3): when that method lands, make its name and
// signature match this interface (or adapt this one line), and make
// storage.Observed forward it; until then the assertion below fails and
// the sweep aborts nothing.
type multipartAborter interface {
	AbortIncompleteUploads(ctx context.Context, olderThan time.Duration) (int, error)
}

// abortIncompleteUploads calls the store's multipart abort, when it has one.
func abortIncompleteUploads(ctx context.Context, s storage.Store, grace time.Duration) (int, error) {
	if a, ok := s.(multipartAborter); ok {
		return a.AbortIncompleteUploads(ctx, grace)
	}
	return 0, nil
}
