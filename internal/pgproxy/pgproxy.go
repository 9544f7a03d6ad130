// Package pgproxy is a TCP proxy between a server and PostgreSQL for fault
// tests: it reads the frontend protocol far enough to spot a COMMIT (a
// simple Query or an extended-protocol Parse) and can drop the connection
// right after forwarding it, so the transaction commits while its
// acknowledgement is lost; and it can play a database that went away
// (every connection cut, new ones closed at once). It is real TCP between
// the real pgx driver and the real PostgreSQL: nothing is mocked.
package pgproxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections from its address to a PostgreSQL server.
type Proxy struct {
	ln     net.Listener
	target string

	dropped atomic.Int32 // statements dropped so far

	mu    sync.Mutex
	drops []func(sql string) bool // armed: each drops the next statement it matches
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pgproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// DropNextCommit arms the proxy: the next COMMIT any client sends is
// forwarded to PostgreSQL, then that client's connection is closed before
// the answer reaches it (the server side is closed once PostgreSQL has
// answered, so the commit certainly ran).
func (p *Proxy) DropNextCommit() { p.DropAfter(IsCommit) }

// DropAfter arms the proxy for the next statement whose SQL match accepts:
// a simple Query is dropped right after it is forwarded, an extended-protocol
// Execute after the Sync that ends it (when PostgreSQL commits an implicit
// transaction), as DropNextCommit describes.
func (p *Proxy) DropAfter(match func(sql string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops = append(p.drops, match)
}

// Dropped is the number of statements dropped so far.
func (p *Proxy) Dropped() int { return int(p.dropped.Load()) }

// SetDown(true) cuts every connection and closes new ones at once, as a
// crashed database would; SetDown(false) forwards again.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.SetDown(true)
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// track registers c for SetDown; false when the proxy is down.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) serve(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.untrack(server)

	done := make(chan struct{})
	go func() {
		// Server → client, unparsed. After a dropped COMMIT the write to
		// the closed client fails once PostgreSQL has answered; then the
		// server side closes too.
		_, _ = io.Copy(client, server)
		client.Close()
		close(done)
	}()
	if err := p.frontend(client, server); err != nil {
		// Client gone (or the proxy cut it): end the server side, unless
		// a dropped COMMIT is waiting for PostgreSQL's answer.
		if !errors.Is(err, errDropped) {
			server.Close()
		}
	}
	<-done
}

var errDropped = errors.New("pgproxy: commit dropped")

// Frontend message codes (PostgreSQL protocol 3).
const (
	sslRequestCode  = 80877103
	gssEncRequest   = 80877104
	msgQuery        = 'Q'
	msgParse        = 'P'
	msgBind         = 'B'
	msgExecute      = 'E'
	msgSync         = 'S'
	maxMessageBytes = 64 << 20
)

// frontend forwards client messages to server one at a time, watching for COMMIT.
func (p *Proxy) frontend(client, server net.Conn) error {
	// Untyped start: SSL/GSS requests (answered with one byte, which the
	// server pump forwards) and then the startup message.
	for {
		msg, err := readMessage(client, false)
		if err != nil {
			return err
		}
		if _, err := server.Write(msg); err != nil {
			return err
		}
		code := binary.BigEndian.Uint32(msg[4:8])
		if code != sslRequestCode && code != gssEncRequest {
			break
		}
	}
	stmts := map[string]string{}   // prepared statement name → SQL
	portals := map[string]string{} // portal name → SQL
	dropAtSync := false
	for {
		msg, err := readMessage(client, true)
		if err != nil {
			return err
		}
		if _, err := server.Write(msg); err != nil {
			return err
		}
		body := string(msg[5:])
		drop := false
		switch msg[0] {
		case msgQuery:
			sql, _, _ := strings.Cut(body, "\x00")
			drop = p.take(sql)
		case msgParse:
			name, rest, _ := strings.Cut(body, "\x00")
			stmts[name], _, _ = strings.Cut(rest, "\x00")
		case msgBind:
			portal, rest, _ := strings.Cut(body, "\x00")
			stmt, _, _ := strings.Cut(rest, "\x00")
			portals[portal] = stmts[stmt]
		case msgExecute:
			portal, _, _ := strings.Cut(body, "\x00")
			dropAtSync = dropAtSync || p.take(portals[portal])
		case msgSync:
			drop, dropAtSync = dropAtSync, false
		}
		if drop {
			p.dropped.Add(1)
			client.Close()
			return errDropped
		}
	}
}

// take consumes the first armed drop that matches sql.
func (p *Proxy) take(sql string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, match := range p.drops {
		if match(sql) {
			p.drops = append(p.drops[:i], p.drops[i+1:]...)
			return true
		}
	}
	return false
}

// readMessage reads one whole message: typed (1-byte code, int32 length
// including itself, body) or, before the startup completes, untyped.
func readMessage(r io.Reader, typed bool) ([]byte, error) {
	head := 4
	if typed {
		head = 5
	}
	buf := make([]byte, head, head+64)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(buf[head-4:]))
	if n < 4 || n > maxMessageBytes {
		return nil, fmt.Errorf("pgproxy: bad message length %d", n)
	}
	buf = append(buf, make([]byte, n-4)...)
	if _, err := io.ReadFull(r, buf[head:]); err != nil {
		return nil, err
	}
	if !typed && n < 8 {
		return nil, fmt.Errorf("pgproxy: short startup message")
	}
	return buf, nil
}

// IsCommit reports whether sql is COMMIT (or one of its synonyms).
func IsCommit(sql string) bool {
	sql = strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(sql), ";")))
	switch sql {
	case "commit", "commit transaction", "commit work", "end", "end transaction":
		return true
	}
	return false
}
