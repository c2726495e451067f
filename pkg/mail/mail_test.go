package mail_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/mail/mailtest"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// pool is a TrustPool of fixed roots.
type pool struct{ roots *x509.CertPool }

func (p pool) Pool() (*x509.CertPool, uint64) { return p.roots, 1 }

func settings(srv *mailtest.Server) meta.MailSettings {
	return meta.MailSettings{Enabled: true, Host: srv.Host, Port: srv.Port, FromAddress: "Nexus <nexus@example.org>", SubjectPrefix: "[nexus] "}
}

func newService(t *testing.T, s meta.MailSettings, trust mail.TrustPool) *mail.Service {
	t.Helper()
	svc := mail.New(repotest.NewStorage(t).DB, repotest.AllowAll{}, trust)
	if err := svc.SetConfig(t.Context(), s, nil); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestVerifyDelivers(t *testing.T) {
	srv := mailtest.Start(t)
	svc := newService(t, settings(srv), nil)
	if err := svc.Verify(t.Context(), "admin@example.org"); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 5*time.Second)[0]
	if s := got.Header.Get("Subject"); s != "[nexus] Email configuration verification" {
		t.Errorf("subject = %q", s)
	}
	if f, to := got.Header.Get("From"), got.Header.Get("To"); f != `"Nexus" <nexus@example.org>` || to != "<admin@example.org>" {
		t.Errorf("from %q, to %q", f, to)
	}
	// The envelope, as aiosmtpd records it.
	if f, to := got.Header.Get("X-MailFrom"), got.Header.Get("X-RcptTo"); f != "nexus@example.org" || to != "admin@example.org" {
		t.Errorf("envelope from %q, to %q", f, to)
	}
	if !strings.Contains(got.Body, "Verification successful") {
		t.Errorf("body = %q", got.Body)
	}
}

func TestVerifyClosedPort(t *testing.T) {
	s := meta.MailSettings{Host: "127.0.0.1", Port: testproc.FreePort(t), FromAddress: "nexus@example.org"}
	svc := newService(t, s, nil)
	err := svc.Verify(t.Context(), "admin@example.org")
	var se *mail.SendError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "refused") {
		t.Fatalf("verify = %v; want a SendError (connection refused)", err)
	}
	if err := svc.Verify(t.Context(), "not an address"); err == nil || errors.As(err, &se) {
		t.Errorf("verify of a bad address = %v; want invalid input", err)
	}
}

// A server that accepts and never greets holds a sender only until its
// deadline.
func TestSendSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s := meta.MailSettings{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, FromAddress: "nexus@example.org"}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := mail.Send(ctx, s, nil, mail.Message{To: "admin@example.org", Subject: "s", Body: "b"}); err == nil {
		t.Fatal("send to a silent server succeeded")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("send took %s", d)
	}
}

func TestSendStartTLSWithTrustStore(t *testing.T) {
	ca := tlstest.NewCA(t, "mail CA")
	cert, key, _ := ca.Server(t, t.TempDir(), "smtp")
	srv := mailtest.StartTLS(t, cert, key)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	s := settings(srv)
	s.StartTLSEnabled, s.StartTLSRequired, s.SSLServerIdentityCheckEnabled, s.NexusTrustStoreEnabled = true, true, true, true
	if err := newService(t, s, pool{roots}).Verify(t.Context(), "admin@example.org"); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 5*time.Second)
	// Without the truststore the server's CA is unknown.
	s.NexusTrustStoreEnabled = false
	err := newService(t, s, pool{roots}).Verify(t.Context(), "admin@example.org")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("verify without the truststore = %v; want a certificate error", err)
	}
	// Without the identity check the chain is still verified...
	s.SSLServerIdentityCheckEnabled = false
	if err := newService(t, s, pool{roots}).Verify(t.Context(), "admin@example.org"); err == nil {
		t.Error("verify against an unknown CA without the identity check succeeded")
	}
	// ...but not the name: the certificate is for 127.0.0.1 only.
	s.Host, s.NexusTrustStoreEnabled = "localhost", true
	if err := newService(t, s, pool{roots}).Verify(t.Context(), "admin@example.org"); err != nil {
		t.Errorf("verify of another name without the identity check: %v", err)
	}
	s.SSLServerIdentityCheckEnabled = true
	if err := newService(t, s, pool{roots}).Verify(t.Context(), "admin@example.org"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("verify of another name with the identity check = %v; want a certificate error", err)
	}
}

func TestSendSSLOnConnect(t *testing.T) {
	ca := tlstest.NewCA(t, "mail CA")
	cert, key, _ := ca.Server(t, t.TempDir(), "smtps")
	srv := mailtest.StartSMTPS(t, cert, key)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	s := settings(srv)
	s.SSLOnConnectEnabled, s.SSLServerIdentityCheckEnabled = true, true
	if err := mail.Send(t.Context(), s, roots, mail.Message{To: "admin@example.org", Subject: "over TLS", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Wait(t, 1, 5*time.Second); got[0].Header.Get("Subject") != "[nexus] over TLS" {
		t.Errorf("received %+v", got)
	}
	// Plain SMTP against it fails (bounded), it does not hang.
	s.SSLOnConnectEnabled = false
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := mail.Send(ctx, s, roots, mail.Message{To: "admin@example.org", Subject: "s", Body: "b"}); err == nil {
		t.Error("plain SMTP to an SMTPS server succeeded")
	}
}

func TestSendStartTLSRequired(t *testing.T) {
	srv := mailtest.Start(t)
	s := settings(srv)
	s.StartTLSEnabled, s.StartTLSRequired = true, true
	err := mail.Send(t.Context(), s, nil, mail.Message{To: "admin@example.org", Subject: "s", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("send = %v; want STARTTLS refused", err)
	}
	// Only enabled, it goes in clear.
	s.StartTLSRequired = false
	if err := mail.Send(t.Context(), s, nil, mail.Message{To: "admin@example.org", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 5*time.Second)
}

func TestSendRefusesHeaderInjection(t *testing.T) {
	s := meta.MailSettings{Host: "127.0.0.1", Port: 25, FromAddress: "nexus@example.org"}
	for _, m := range []mail.Message{
		{To: "admin@example.org\r\nBcc: other@example.org", Subject: "s"},
		{To: "admin@example.org", Subject: "s\r\nBcc: other@example.org"},
	} {
		if err := mail.Send(t.Context(), s, nil, m); err == nil || !strings.Contains(err.Error(), "line breaks") {
			t.Errorf("send %+v = %v; want line breaks refused", m, err)
		}
	}
	s.SubjectPrefix = "p\n"
	if err := mail.New(repotest.NewStorage(t).DB, repotest.AllowAll{}, nil).SetConfig(t.Context(), s, nil); err == nil {
		t.Error("a subject prefix with a line break was stored")
	}
}

// A disabled configuration sends no alert (and does not fail).
func TestAlertDisabled(t *testing.T) {
	srv := mailtest.Start(t)
	s := settings(srv)
	s.Enabled = false
	svc := newService(t, s, nil)
	if err := svc.Alert(t.Context(), mail.Message{To: "admin@example.org", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	s.Enabled = true
	if err := svc.SetConfig(t.Context(), s, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.Alert(t.Context(), mail.Message{To: "admin@example.org", Subject: "second", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].Header.Get("Subject") != "[nexus] second" {
		t.Errorf("received %+v", got)
	}
}
