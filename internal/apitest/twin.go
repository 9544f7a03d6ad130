package apitest

import "testing"

// Twin starts a second server on e's database, as a second instance of the
// service would run: its own pool, token signer, bcrypt slots and static
// root, sharing only PostgreSQL (and the signing key). Tests of state that
// must hold "on every instance" drive both. Create users through e: the
// twin numbers its test users from the start again.
func (e *Env) Twin(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, e.opts)
}
