package server

import (
	"net"
	"sync"
)

// limitConnections caps the connections open at once on l (n <= 0: no
// cap). Clients past the cap wait in the listen backlog, unserved, until a
// connection closes.
//
// netutil.LimitListener does the same, but its connections hide the
// *net.TCPConn they wrap, and with it ReadFrom: net/http then copies every
// download through a buffer instead of sending the file with sendfile.
func limitConnections(l net.Listener, n int) net.Listener {
	if n <= 0 {
		return l
	}
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Accept waits for a free slot, then for a connection; the slot is freed
// when the connection closes.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	release := sync.OnceFunc(func() { <-l.slots })
	if tc, ok := c.(*net.TCPConn); ok {
		return &limitedTCPConn{TCPConn: tc, release: release}, nil
	}
	return &limitedConn{Conn: c, release: release}, nil
}

// Close also ends Accepts waiting for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitedTCPConn keeps *net.TCPConn's methods, ReadFrom (sendfile) among
// them, and frees its slot on Close.
type limitedTCPConn struct {
	*net.TCPConn
	release func()
}

func (c *limitedTCPConn) Close() error {
	defer c.release()
	return c.TCPConn.Close()
}

// limitedConn is a connection of another kind, freeing its slot on Close.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	defer c.release()
	return c.Conn.Close()
}
