package tests

import "platform/internal/db"

// Round2 exposes round2 to the external test package.
var Round2 = round2

// NewHandlerOn is NewHandler with every query outside a transaction sent
// through q, so tests can count an endpoint's queries.
func NewHandlerOn(pool *db.Pool, q db.DBTX) *Handler {
	return &Handler{pool: pool, repo: NewRepo(q)}
}
