package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// listen serves handshakes with r's configuration on 127.0.0.1 until the
// test ends and returns the address.
func listen(t *testing.T, r *Reloader) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tl := tls.NewListener(l, r.Config())
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte("ok")) // a client certificate is refused only after the client's Finished
				}
			}()
		}
	}()
	return l.Addr().String()
}

// handshake connects anew and returns the serial of the server's
// certificate, or the error of the handshake (including the server's
// refusal of the client, which TLS 1.3 reports at the first read).
func handshake(addr string, roots *x509.CertPool, client *tls.Certificate) (string, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil {
		return "", err
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16), nil
}

func pool(cas ...*tlstest.CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

func TestReloadSwapsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	certFile, keyFile, first := ca.Server(t, dir, "server")
	var logs bytes.Buffer
	r, err := New("main port", Files{Cert: certFile, Key: keyFile}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, r)
	roots := pool(ca)
	if got, err := handshake(addr, roots, nil); err != nil || got != first.SerialNumber.Text(16) {
		t.Fatalf("first handshake: serial %s, %v; want %s", got, err, first.SerialNumber.Text(16))
	}
	if r.Config().MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", r.Config().MinVersion)
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Errorf("a TLS 1.1 handshake succeeded")
	}

	// New files in place: the listener keeps serving the old certificate
	// until Reload, then new connections get the new one.
	_, _, second := ca.Server(t, dir, "server")
	if got, _ := handshake(addr, roots, nil); got != first.SerialNumber.Text(16) {
		t.Errorf("before Reload: serial %s, want still %s", got, first.SerialNumber.Text(16))
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, err := handshake(addr, roots, nil); err != nil || got != second.SerialNumber.Text(16) {
		t.Fatalf("after Reload: serial %s, %v; want %s", got, err, second.SerialNumber.Text(16))
	}
	if !strings.Contains(logs.String(), "serial="+second.SerialNumber.Text(16)) {
		t.Errorf("the log does not name the new serial:\n%s", logs.String())
	}
}

func TestReloadKeepsCertificateOnBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	certFile, keyFile, good := ca.Server(t, dir, "server")
	_, otherKey, _ := ca.Server(t, dir, "other")
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := New("main port", Files{Cert: certFile, Key: keyFile}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, r)
	roots := pool(ca)

	bad := map[string]func(){
		"garbage certificate": func() { os.WriteFile(certFile, []byte("not a certificate"), 0o644) },
		"truncated key":       func() { os.WriteFile(keyFile, keyPEM[:len(keyPEM)/2], 0o600) },
		"key of another":      func() { data, _ := os.ReadFile(otherKey); os.WriteFile(keyFile, data, 0o600) },
		"missing certificate": func() { os.Remove(certFile) },
	}
	for name, breakIt := range bad {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			breakIt()
			if err := r.Reload(); err == nil {
				t.Fatal("Reload succeeded")
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "TLS reload failed") {
				t.Errorf("no error logged:\n%s", logs.String())
			}
			if got, err := handshake(addr, roots, nil); err != nil || got != good.SerialNumber.Text(16) {
				t.Errorf("after the failed reload: serial %s, %v; want the old %s", got, err, good.SerialNumber.Text(16))
			}
			// Put the good files back for the next case.
			_, _, restored := ca.Server(t, dir, "server")
			if err := r.Reload(); err != nil {
				t.Fatal(err)
			}
			good = restored
			keyPEM, _ = os.ReadFile(keyFile)
		})
	}
}

func TestNewRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	certFile, keyFile, _ := ca.Server(t, dir, "server")
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("# no certificates\n"), 0o644)
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	for name, files := range map[string]Files{
		"missing key":        {Cert: certFile, Key: filepath.Join(dir, "nope.key")},
		"key as certificate": {Cert: keyFile, Key: keyFile},
		"empty client CAs":   {Cert: certFile, Key: keyFile, ClientCAs: []string{empty}},
		"missing client CAs": {Cert: certFile, Key: keyFile, ClientCAs: []string{filepath.Join(dir, "nope.pem")}},
	} {
		if _, err := New("main port", files, log); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if !strings.Contains(err.Error(), "main port TLS") {
			t.Errorf("%s: error %q does not say which listener", name, err)
		}
	}
}

func TestClientCAs(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "other CA")
	certFile, keyFile, _ := serverCA.Server(t, dir, "server")
	caFile := clientCA.WriteCA(t, dir, "clients.pem")
	r, err := New("main port", Files{Cert: certFile, Key: keyFile, ClientCAs: []string{caFile}}, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, r)
	roots := pool(serverCA)
	load := func(ca *tlstest.CA, name string) *tls.Certificate {
		c, k, _ := ca.Client(t, dir, name)
		pair, err := tls.LoadX509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return &pair
	}
	alice, mallory := load(clientCA, "alice"), load(otherCA, "mallory")

	if _, err := handshake(addr, roots, nil); err == nil {
		t.Error("a client without a certificate got through")
	}
	if _, err := handshake(addr, roots, mallory); err == nil {
		t.Error("a client certificate of another CA got through")
	}
	if _, err := handshake(addr, roots, alice); err != nil {
		t.Errorf("the client certificate of the client CA: %v", err)
	}

	// The authorities are reloaded too: after switching to the other CA,
	// only its certificates get in.
	otherCA.WriteCA(t, dir, "clients.pem")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(addr, roots, alice); err == nil {
		t.Error("after the reload, the old CA's client got through")
	}
	if _, err := handshake(addr, roots, mallory); err != nil {
		t.Errorf("after the reload, the new CA's client: %v", err)
	}
	// A broken CA file keeps the authorities in use.
	os.WriteFile(caFile, []byte("garbage"), 0o644)
	if err := r.Reload(); err == nil {
		t.Fatal("Reload with a garbage CA file succeeded")
	}
	if _, err := handshake(addr, roots, mallory); err != nil {
		t.Errorf("after the failed reload: %v", err)
	}
}
