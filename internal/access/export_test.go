package access

import "platform/internal/db"

// NewHandlerOn is NewHandler running every statement through q, so tests
// can count the queries an endpoint costs.
func NewHandlerOn(q db.DBTX) *Handler { return newHandler(q) }
