// Package tcpfault is a protocol-blind TCP proxy for fault tests (the S3
// store's, where internal/pgproxy speaks PostgreSQL's protocol): it forwards
// connections to a server, or plays the server refusing connections (its
// listener closed, so a dial fails at once) or hanging (connections
// accepted, never answered), as a crashed or stuck object store would. It
// is real TCP between the real client library and the real server.
package tcpfault

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Mode is how the proxy treats connections.
type Mode int

const (
	Forward Mode = iota // pass bytes both ways
	Refuse              // listener closed: new connections are refused
	Hang                // accept, read nothing, answer nothing
)

func (m Mode) String() string {
	return [...]string{"forward", "refuse", "hang"}[m]
}

// Proxy forwards connections from its loopback address to a target.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	mode  Mode
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tcpfault: listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// Addr is the proxy's host:port; it stays the same across modes.
func (p *Proxy) Addr() string { return p.addr }

// Set switches the mode. Every open connection is cut, so a client's pooled
// connections meet the new mode too (a refusing store's connections are
// gone; a hanging store's new connections are never answered). Leaving
// Refuse listens again on the same address.
func (p *Proxy) Set(mode Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	switch {
	case mode == Refuse && p.ln != nil:
		p.ln.Close()
		p.ln = nil
	case mode != Refuse && p.ln == nil:
		// The port was ours a moment ago; another process may take it in
		// between, so retry briefly.
		var err error
		for range 50 {
			var ln net.Listener
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				p.ln = ln
				p.serve(ln)
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("tcpfault: listen again on %s: %w", p.addr, err)
	}
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Set(Refuse) or Close
			}
			p.mu.Lock()
			mode := p.mode
			p.conns[c] = struct{}{}
			p.mu.Unlock()
			if mode == Forward {
				p.wg.Add(1)
				go p.forward(c)
			} // Hang: held open, untouched, until Set or Close
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	defer p.drop(c)
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok { // cut meanwhile
		p.mu.Unlock()
		s.Close()
		return
	}
	p.conns[s] = struct{}{}
	p.mu.Unlock()
	defer p.drop(s)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
	<-done // either side ending ends both
	c.Close()
	s.Close()
	<-done
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mode = Refuse
	p.mu.Unlock()
	p.wg.Wait()
}
