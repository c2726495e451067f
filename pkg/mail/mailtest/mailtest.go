// Package mailtest runs a real SMTP server for tests: Debian's aiosmtpd
// (python3-aiosmtpd) on 127.0.0.1 at a free port, keeping what it
// receives in a maildir, stopped when the test ends.
package mailtest

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// Server is a running aiosmtpd.
type Server struct {
	Host    string
	Port    int
	maildir string
}

// Received is a message the server got, its body decoded.
type Received struct {
	Header mail.Header
	Body   string
}

// Start runs aiosmtpd for the test, which is skipped without it unless
// NEXUS_GO_E2E_CLIENTS=required, which fails it.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t)
}

// StartTLS is Start offering STARTTLS with the PEM certificate and key in
// certFile and keyFile (not requiring it).
func StartTLS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	return start(t, "--tlscert", certFile, "--tlskey", keyFile, "--no-requiretls")
}

// StartSMTPS is Start speaking TLS from the first byte (SMTPS) with the
// PEM certificate and key in certFile and keyFile.
func StartSMTPS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	return start(t, "--smtpscert", certFile, "--smtpskey", keyFile)
}

func start(t testing.TB, args ...string) *Server {
	t.Helper()
	python := interpreter()
	if python == "" {
		if os.Getenv("NEXUS_GO_E2E_CLIENTS") == "required" {
			t.Fatal("aiosmtpd is missing (apt-get install python3-aiosmtpd) and NEXUS_GO_E2E_CLIENTS=required")
		}
		t.Skip("aiosmtpd is missing (apt-get install python3-aiosmtpd)")
	}
	maildir := filepath.Join(t.TempDir(), "maildir")
	port := testproc.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// -n: no setuid to nobody, which would fail to write the maildir.
	cmd := exec.Command(python, append(append([]string{"-m", "aiosmtpd", "-n", "-l", addr}, args...),
		"-c", "aiosmtpd.handlers.Mailbox", maildir)...)
	testproc.Start(t, "aiosmtpd", cmd, addr)
	return &Server{Host: "127.0.0.1", Port: port, maildir: maildir}
}

// interpreter is the first python3 that has aiosmtpd: the one on PATH may
// be another installation than Debian's, which the package installs into.
func interpreter() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path
		}
	}
	return ""
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages(t testing.TB) []Received {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.maildir, "new", "*"))
	if err != nil {
		t.Fatal(err)
	}
	// Maildir names start with the delivery time in seconds; ties are rare
	// in tests, which wait for each message.
	sort.Strings(files)
	var out []Received
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var body io.Reader = m.Body
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, Received{Header: m.Header, Body: string(text)})
	}
	return out
}

// Wait returns the messages once there are at least n, failing the test
// after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if got := s.Messages(t); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages did not arrive within %s", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
