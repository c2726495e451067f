// Package mail sends the server's email (task alerts, the verification
// message) over SMTP with the stored email configuration, and serves that
// configuration (Nexus's /v1/email).
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Timeout bounds a whole exchange with the SMTP server, connecting
// included, as Nexus bounds a verification to 30 seconds: a server that
// stops answering must not hold a sender for ever.
const Timeout = 30 * time.Second

// Message is an email to one recipient; the subject gets the configured
// prefix.
type Message struct {
	To      string
	Subject string
	Body    string
}

// ParseAddress parses one address (a bare addr-spec or "Name <addr>"),
// refusing line breaks, which would let it add headers.
func ParseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("an address may not contain line breaks")
	}
	return mail.ParseAddress(s)
}

// Send delivers m with the configuration s within Timeout (or ctx's end,
// if sooner). roots are the CAs to verify the server with: nil for the
// system's.
func Send(ctx context.Context, s meta.MailSettings, roots *x509.CertPool, m Message) error {
	from, err := ParseAddress(s.FromAddress)
	if err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	to, err := ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	subject := s.SubjectPrefix + m.Subject
	if strings.ContainsAny(subject, "\r\n") {
		return errors.New("a subject may not contain line breaks")
	}
	body, err := compose(from, to, subject, m.Body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer raw.Close()
	// The deadline bounds every read and write after the dial; closing the
	// connection when ctx ends covers a cancellation before it.
	raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	conn := raw
	tlsConf := tlsConfig(s, roots)
	if s.SSLOnConnectEnabled {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	if (s.StartTLSEnabled || s.StartTLSRequired) && !s.SSLOnConnectEnabled {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return err
			}
		} else if s.StartTLSRequired {
			return errors.New("the server does not offer STARTTLS, which is required")
		}
	}
	if s.Username != "" {
		// PlainAuth refuses to send the password over an unencrypted
		// connection to any host but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to.Address); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// tlsConfig verifies the server against roots; with the identity check
// off (Nexus's sslServerIdentityCheckEnabled false) the chain is still
// verified, only not against the host name, as JavaMail does.
func tlsConfig(s meta.MailSettings, roots *x509.CertPool) *tls.Config {
	conf := &tls.Config{ServerName: s.Host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	if s.SSLServerIdentityCheckEnabled {
		return conf
	}
	conf.InsecureSkipVerify = true
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
	return conf
}

// compose renders the message: headers from parsed addresses and a
// subject without line breaks (so nothing can add headers), and a
// quoted-printable body (any text, any line length). net/smtp's data
// writer turns its line ends into CRLF and escapes leading dots.
func compose(from, to *mail.Address, subject, text string) ([]byte, error) {
	id := make([]byte, 12)
	rand.Read(id)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n",
		from, to, mime.QEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z), hex.EncodeToString(id), from.Address[strings.LastIndex(from.Address, "@")+1:])
	b.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}
