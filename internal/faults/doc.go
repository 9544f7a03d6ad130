// Package faults holds the service's fast fault tests (go test, run by
// `make test`): a COMMIT whose acknowledgement is lost, a database that
// goes away and comes back, a pool that is busy but ready, and clients that
// send their bodies too slowly. Each drives the real server over HTTP
// against a real PostgreSQL, with a real TCP proxy (internal/pgproxy)
// between the two where a fault is injected. The slower whole-process
// faults (PostgreSQL killed under load, SIGTERM under load) are in
// cmd/platform behind the "faults" build tag (`make faults`).
package faults
