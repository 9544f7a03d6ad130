package lessons

import (
	"platform/internal/db"
	"platform/internal/storage"
)

// NewHandlerOn is NewHandler whose statements outside transactions go
// through q, so tests can count the queries an endpoint costs.
func NewHandlerOn(pool *db.Pool, q db.DBTX, store *storage.Store) *Handler {
	return newHandler(pool, q, store)
}
