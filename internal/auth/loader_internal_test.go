package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apitest/await"
	"platform/internal/db"
	"platform/internal/testdb"
)

// gatedDB is a real database whose first Query waits for the test's go
// and which records the IINs every Query asked for.
type gatedDB struct {
	db.DBTX
	gate chan struct{}
	fail error // returned instead of querying, when set

	mu    sync.Mutex
	calls [][]string
}

func (g *gatedDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	g.mu.Lock()
	g.calls = append(g.calls, slices.Clone(args[0].([]string)))
	first := len(g.calls) == 1
	g.mu.Unlock()
	if first {
		<-g.gate
	}
	if g.fail != nil {
		return nil, g.fail
	}
	return g.DBTX.Query(ctx, sql, args...)
}

func (g *gatedDB) recorded() [][]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}

// gathered is the number of lookups waiting in the loader's next batch.
func (l *userLoader) gathered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == nil {
		return 0
	}
	return len(l.next.iins)
}

func waitGathered(t *testing.T, l *userLoader, n int) {
	t.Helper()
	await.Until(t, func() bool { return l.gathered() >= n }, fmt.Sprintf("gathering %d lookups", n))
}

// waitLeader waits until the first lookup's statement is in flight.
func waitLeader(t *testing.T, g *gatedDB) {
	t.Helper()
	await.Until(t, func() bool { return len(g.recorded()) > 0 }, "the leader's statement")
}

func insertUsers(t *testing.T, pool db.DBTX, iins ...string) {
	t.Helper()
	for i, iin := range iins {
		if _, err := pool.Exec(context.Background(),
			`INSERT INTO users (full_name, iin, role, hashed_password) VALUES ($1, $2, 'student', 'x')`,
			fmt.Sprintf("Ученик %d", i), iin); err != nil {
			t.Fatal(err)
		}
	}
}

type lookup struct {
	u   User
	err error
}

// Lookups that arrive while one is in flight are answered together by the
// next statement, which asks for each IIN once; each caller gets its own
// user, a missing one errNoUser.
func TestUserLoaderCoalesces(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	insertUsers(t, pool, "100000000001", "100000000002", "100000000003")
	g := &gatedDB{DBTX: pool, gate: make(chan struct{})}
	l := newUserLoader(NewRepo(g))
	ctx := context.Background()

	first := make(chan lookup, 1)
	go func() {
		u, err := l.UserByIIN(ctx, "100000000001")
		first <- lookup{u, err}
	}()
	waitLeader(t, g)
	later := []string{"100000000003", "100000000002", "100000000003", "199999999999"}
	results := make([]chan lookup, len(later))
	for i, iin := range later {
		results[i] = make(chan lookup, 1)
		go func() {
			u, err := l.UserByIIN(ctx, iin)
			results[i] <- lookup{u, err}
		}()
	}
	waitGathered(t, l, len(later))
	close(g.gate)

	if r := await.Recv(t, first, "the leader's answer"); r.err != nil || r.u.IIN != "100000000001" {
		t.Fatalf("leader: %+v, %v", r.u, r.err)
	}
	for i, iin := range later {
		r := await.Recv(t, results[i], "a coalesced lookup's answer")
		if iin == "199999999999" {
			if !errors.Is(r.err, errNoUser) {
				t.Errorf("%s: err %v, want errNoUser", iin, r.err)
			}
			continue
		}
		if r.err != nil || r.u.IIN != iin || r.u.ID == 0 || r.u.Role != Student {
			t.Errorf("%s: %+v, %v", iin, r.u, r.err)
		}
	}
	want := [][]string{{"100000000001"}, {"100000000002", "100000000003", "199999999999"}}
	if got := g.recorded(); !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("statements asked for %v, want %v", got, want)
	}
	// Idle again: the next lookup runs at once, alone.
	if _, err := l.UserByIIN(ctx, "100000000002"); err != nil {
		t.Fatal(err)
	}
	if n := len(g.recorded()); n != 3 {
		t.Errorf("%d statements, want 3", n)
	}
}

// A failed statement fails every lookup it was answering (the database is
// down: each request gets its 503), and the loader stays usable.
func TestUserLoaderSharesErrors(t *testing.T) {
	t.Parallel()
	down := errors.New("connection refused")
	g := &gatedDB{gate: make(chan struct{}), fail: down}
	l := newUserLoader(NewRepo(g))
	ctx := context.Background()
	errs := make(chan error, 3)
	go func() { _, err := l.UserByIIN(ctx, "100000000001"); errs <- err }()
	waitLeader(t, g)
	go func() { _, err := l.UserByIIN(ctx, "100000000002"); errs <- err }()
	go func() { _, err := l.UserByIIN(ctx, "100000000003"); errs <- err }()
	waitGathered(t, l, 2)
	close(g.gate)
	for range 3 {
		if err := await.Recv(t, errs, "a failed lookup's answer"); !errors.Is(err, down) {
			t.Errorf("err %v, want %v", err, down)
		}
	}
	if _, err := l.UserByIIN(ctx, "100000000004"); !errors.Is(err, down) {
		t.Errorf("after: err %v", err)
	}
}

// A waiter whose client left returns at once; the lookup it started still
// answers the others (it runs on no request's cancellation).
func TestUserLoaderCancelledCaller(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	insertUsers(t, pool, "100000000001", "100000000002")
	g := &gatedDB{DBTX: pool, gate: make(chan struct{})}
	l := newUserLoader(NewRepo(g))

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() { _, err := l.UserByIIN(leaderCtx, "100000000001"); leader <- err }()
	waitLeader(t, g)
	waiterCtx, cancelWaiter := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	go func() { _, err := l.UserByIIN(waiterCtx, "100000000002"); waiter <- err }()
	other := make(chan lookup, 1)
	go func() {
		u, err := l.UserByIIN(context.Background(), "100000000002")
		other <- lookup{u, err}
	}()
	waitGathered(t, l, 2)
	cancelWaiter()
	if err := await.Recv(t, waiter, "the cancelled waiter's return"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	cancelLeader() // the leader's statement must not be cancelled with it
	close(g.gate)
	if err := await.Recv(t, leader, "the leader's answer"); err != nil {
		t.Errorf("leader: %v", err)
	}
	if r := await.Recv(t, other, "the other waiter's answer"); r.err != nil || r.u.IIN != "100000000002" {
		t.Errorf("other: %+v, %v", r.u, r.err)
	}
}

// panicOnce is a database whose first Query panics.
type panicOnce struct {
	db.DBTX
	mu   sync.Mutex
	done bool
}

func (p *panicOnce) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	p.mu.Lock()
	first := !p.done
	p.done = true
	p.mu.Unlock()
	if first {
		panic("driver bug")
	}
	return p.DBTX.Query(ctx, sql, args...)
}

// A panic in a lookup fails that batch with an error and leaves the loader
// usable (it must not stay "running" with nobody to run the next batch).
func TestUserLoaderSurvivesPanic(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	insertUsers(t, pool, "100000000001")
	l := newUserLoader(NewRepo(&panicOnce{DBTX: pool}))
	ctx := context.Background()
	if _, err := l.UserByIIN(ctx, "100000000001"); err == nil || !strings.Contains(err.Error(), "driver bug") {
		t.Fatalf("err %v, want the panic as an error", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if u, err := l.UserByIIN(ctx, "100000000001"); err != nil || u.IIN != "100000000001" {
		t.Fatalf("after the panic: %+v, %v", u, err)
	}
}
