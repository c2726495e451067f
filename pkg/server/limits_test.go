package server

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// promptly is how soon "at once" must happen: generous for a loaded
// machine, and far below the hours a trickling client would take.
const promptly = 5 * time.Second

// bodyIdle is the http.body-idle-timeout of the tests of slow bodies.
const bodyIdle = time.Second

// startLimitServer is a test server, with an HTTPS main port, with a
// connection cap and a body idle timeout.
func startLimitServer(t *testing.T, maxConns int, bodyIdle time.Duration) *testServer {
	t.Helper()
	return startHTTPSTestServer(t, func(c *config.Config) { c.MaxConnections, c.BodyIdleTimeout = maxConns, bodyIdle })
}

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
}

// rawConn is a client that writes requests byte by byte as told, so a
// body can trickle or stall; nothing on the client side times out.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, promptly)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// dial connects to one of the server's ports, with TLS to the HTTPS main
// port; the handshake is done before it returns.
func (s *testServer) dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	if addr != s.https {
		return dial(t, addr)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: promptly}, "tcp", addr, &tls.Config{RootCAs: s.roots})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// head writes a request line and headers; extra holds whole header lines.
func (r *rawConn) head(method, target, extra string) {
	r.t.Helper()
	if _, err := fmt.Fprintf(r.c, "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, target, r.c.RemoteAddr(), extra); err != nil {
		r.t.Fatal(err)
	}
}

// trickle sends n bytes of body, one every interval, in the background,
// until the server closes the connection.
func (r *rawConn) trickle(n int, interval time.Duration) {
	go func() {
		for range n {
			if _, err := r.c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(interval)
		}
	}()
}

// response reads one response, waiting at most within.
func (r *rawConn) response(within time.Duration) (*http.Response, []byte, error) {
	r.c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// closedByServer reports whether the server closes the connection within d
// (reading nothing more from it).
func (r *rawConn) closedByServer(d time.Duration) bool {
	r.c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, r.br)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

// A request with a body and nobody to answer for it is refused with 401
// before its body is read, and its connection is dropped: a client
// trickling 100,000 bytes at one a second gets its answer at once, on the
// main port and on a connector.
func TestBodiesWithoutACallerAreRefusedAtOnce(t *testing.T) {
	t.Parallel()
	// The idle timeout is far longer than "at once": a refusal must not
	// wait for it.
	s := startLimitServer(t, 0, time.Hour)
	wrong := basic("intruder", "guess") // not admin: failures lock the name out
	cases := []struct {
		name, addr, method, target, headers string
		usersOnly                           bool // refused even with anonymous access on
	}{
		{"REST without credentials", s.main, "POST", "/service/rest/v1/security/users", "", true},
		{"REST with failed credentials", s.main, "POST", "/service/rest/v1/security/users", wrong, true},
		{"REST chunked", s.main, "POST", "/service/rest/v1/security/users", "Transfer-Encoding: chunked\r\n", true},
		{"REST with a Bearer token", s.main, "PUT", "/service/rest/v1/security/anonymous", "Authorization: Bearer x.y.z\r\n", true},
		{"raw upload without credentials", s.main, "PUT", "/repository/raw-h/a.bin", "", false},
		{"raw upload with failed credentials", s.main, "PUT", "/repository/raw-h/a.bin", wrong, true},
		{"main-port Docker upload without credentials", s.main, "POST", "/v2/docker-h/app/blobs/uploads/", "", false},
		{"connector upload without credentials", s.connector, "POST", "/v2/app/blobs/uploads/", "", false},
		{"connector upload with failed credentials", s.connector, "PATCH", "/v2/app/blobs/uploads/x", wrong, true},
		{"connector chunked", s.connector, "POST", "/v2/app/blobs/uploads/", "Transfer-Encoding: chunked\r\n", false},
		{"HTTPS REST without credentials", s.https, "POST", "/service/rest/v1/security/users", "", true},
		{"HTTPS raw upload with failed credentials", s.https, "PUT", "/repository/raw-h/a.bin", wrong, true},
		{"HTTPS Docker upload without credentials", s.https, "POST", "/v2/docker-h/app/blobs/uploads/", "", false},
	}
	run := func(t *testing.T, anonymous bool) {
		for _, c := range cases {
			if anonymous && !c.usersOnly {
				continue // the anonymous principal may write where a repository lets it
			}
			t.Run(c.name, func(t *testing.T) {
				conn := s.dial(t, c.addr)
				headers := c.headers
				if !strings.Contains(headers, "chunked") {
					headers += "Content-Length: 100000\r\n"
				}
				conn.head(c.method, c.target, headers)
				if strings.Contains(headers, "chunked") {
					fmt.Fprint(conn.c, "186a0\r\n")
				}
				conn.trickle(100000, time.Second)
				resp, body, err := conn.response(promptly)
				if err != nil {
					t.Fatalf("no answer within %v: %v", promptly, err)
				}
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
				}
				if !conn.closedByServer(promptly) {
					t.Fatalf("the server kept the connection, reading the refused body")
				}
			})
		}
	}
	t.Run("anonymous access off", func(t *testing.T) { run(t, false) })
	if err := setAnonymous(s, true); err != nil {
		t.Fatal(err)
	}
	t.Run("anonymous access on", func(t *testing.T) { run(t, true) })
}

func setAnonymous(s *testServer, on bool) error {
	body := fmt.Sprintf(`{"enabled":%v,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`, on)
	req, err := http.NewRequest(http.MethodPut, "http://"+s.main+"/service/rest/v1/security/anonymous", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", s.adminPW)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("setting anonymous access: status %d", resp.StatusCode)
	}
	return nil
}

// An authenticated upload that stalls for longer than the body idle
// timeout is cut off and frees its connection; one that keeps sending,
// however slowly, completes; a body the handler does not read costs at
// most one idle period before the answer.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	s := startLimitServer(t, 0, bodyIdle)
	admin := basic("admin", s.adminPW)
	get := func(t *testing.T, path string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.main+path, nil)
		req.SetBasicAuth("admin", s.adminPW)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// startUpload opens a resumable upload on the connector and returns its URL.
	startUpload := func(t *testing.T) string {
		t.Helper()
		conn := dial(t, s.connector)
		conn.head("POST", "/v2/app/blobs/uploads/", admin+"Content-Length: 0\r\n")
		resp, body, err := conn.response(promptly)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("starting an upload: %v %v %s", resp, err, body)
		}
		return resp.Header.Get("Location")
	}
	// stalled sends a few bytes of a longer body, then nothing: the server
	// must give up within a few idle periods, answering or closing.
	stalled := func(t *testing.T, addr, method, target string) {
		t.Helper()
		conn := s.dial(t, addr)
		conn.head(method, target, admin+"Content-Length: 1000\r\n")
		fmt.Fprint(conn.c, "0123456789")
		if !conn.closedByServer(promptly) {
			t.Fatalf("%s %s: a stalled body held its connection for %v (idle timeout %v)", method, target, promptly, bodyIdle)
		}
	}
	// steady sends 12 bytes with pauses a fifth of the idle timeout,
	// taking more than two idle periods in all.
	steady := func(t *testing.T, addr, method, target string, want int) {
		t.Helper()
		conn := s.dial(t, addr)
		conn.head(method, target, admin+"Content-Length: 12\r\n")
		conn.trickle(12, bodyIdle/5)
		resp, body, err := conn.response(promptly + 12*bodyIdle/5)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s %s sent steadily: %v %v %s; want %d", method, target, resp, err, body, want)
		}
	}

	for _, l := range []struct{ name, addr, suffix string }{{"main port", s.main, ""}, {"HTTPS main port", s.https, "-tls"}} {
		t.Run(l.name+" stalled", func(t *testing.T) {
			p := "/repository/raw-h/stalled" + l.suffix + ".bin"
			stalled(t, l.addr, "PUT", p)
			if st := get(t, p); st != http.StatusNotFound {
				t.Fatalf("the cut-off upload was stored: GET answers %d", st)
			}
		})
		t.Run(l.name+" steady", func(t *testing.T) {
			p := "/repository/raw-h/steady" + l.suffix + ".bin"
			steady(t, l.addr, "PUT", p, http.StatusCreated)
			if st := get(t, p); st != http.StatusOK {
				t.Fatalf("the steady upload: GET answers %d", st)
			}
		})
	}
	t.Run("main port unread body", func(t *testing.T) {
		conn := dial(t, s.main)
		conn.head("PUT", "/repository/no-such-repo/x.bin", admin+"Content-Length: 1000\r\n")
		fmt.Fprint(conn.c, "0123456789")
		resp, body, err := conn.response(promptly)
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a stalled body the handler did not read: %v %v %s; want 404 within %v", resp, err, body, promptly)
		}
	})
	t.Run("connector stalled", func(t *testing.T) {
		stalled(t, s.connector, "PATCH", startUpload(t))
	})
	t.Run("connector steady", func(t *testing.T) {
		steady(t, s.connector, "PATCH", startUpload(t), http.StatusAccepted)
	})
}

// Past max-connections, further clients wait unserved until a connection
// closes, on the main port and on connectors.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	const maxConns = 2
	s := startLimitServer(t, maxConns, time.Minute)
	for _, c := range []struct{ name, addr, target string }{
		{"main port", s.main, "/service/rest/v1/status"},
		{"connector", s.connector, "/v2/"},
		{"HTTPS main port", s.https, "/service/rest/v1/status"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var open []*rawConn
			for range maxConns {
				conn := s.dial(t, c.addr)
				conn.head("GET", c.target, "")
				if _, _, err := conn.response(promptly); err != nil {
					t.Fatalf("a connection under the cap: %v", err)
				}
				open = append(open, conn) // kept alive, holding its slot
			}
			// The next client is not served while the cap is full (over
			// TLS its handshake waits too), and is once a slot frees.
			raw, err := net.DialTimeout("tcp", c.addr, promptly)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			extra := raw
			if c.addr == s.https {
				extra = tls.Client(raw, &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1"})
			}
			extra.SetDeadline(time.Now().Add(time.Second + 2*promptly))
			served := make(chan error, 1)
			go func() {
				_, err := fmt.Fprintf(extra, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", c.target, c.addr)
				if err == nil {
					var resp *http.Response
					if resp, err = http.ReadResponse(bufio.NewReader(extra), nil); err == nil {
						resp.Body.Close()
					}
				}
				served <- err
			}()
			select {
			case err := <-served:
				t.Fatalf("connection %d was served (%v) while %d were open", maxConns+1, err, maxConns)
			case <-time.After(time.Second):
			}
			open[0].c.Close()
			if err := <-served; err != nil {
				t.Fatalf("connection %d not served after one closed: %v", maxConns+1, err)
			}
		})
	}
}

// Once a body has been read to its end, the idle deadline is gone: the
// server's watch for the client leaving must not time out, cancelling the
// request, while the handler still works on what it received (a commit
// that takes longer than the idle timeout), even if it reads again.
func TestIdleDeadlineEndsWithTheBody(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	ctxErr := make(chan error, 1)
	srv := httptest.NewServer(guardBodies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
		if n, err := r.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("a Read past the end = %d, %v", n, err)
		}
		time.Sleep(5 * idle)
		ctxErr <- r.Context().Err()
	}), idle))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("the whole body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-ctxErr; err != nil {
		t.Fatalf("the request was cancelled after its body was read: %v", err)
	}
}

// Capped connections keep what lets net/http send files with sendfile,
// and free their slot when closed, however often Close is called: with a
// cap of one, each next connection is accepted once the last is closed.
func TestLimitedConnectionsKeepSendfile(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := limitConnections(l, 1)
	defer ll.Close()
	for range 3 {
		client, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		var c net.Conn
		repotest.Within(t, promptly, "accepting within the cap", func() { c, err = ll.Accept() })
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(io.ReaderFrom); !ok {
			t.Fatalf("accepted connection %T has no ReadFrom", c)
		}
		c.Close()
		c.Close()
		client.Close()
	}
}
