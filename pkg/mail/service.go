package mail

import (
	"context"
	"crypto/x509"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Authorizer checks the caller's privileges (auth.Service).
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// TrustPool is the truststore as a configuration with
// nexusTrustStoreEnabled sees it (truststore.Store).
type TrustPool interface {
	Pool() (*x509.CertPool, uint64)
}

// Service is the email configuration and the sending with it. Its
// configuration methods check nx-settings-read or -update, as Nexus's do.
type Service struct {
	db    *meta.DB
	authz Authorizer
	trust TrustPool  // nil: the system's roots only
	audit *audit.Log // records configuration changes (UseAudit), or is nil
}

// UseAudit makes the service record configuration changes with l; call it
// before serving.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// auditAttrs describe c without its password; passwordChanged tells
// whether the change set one.
func auditAttrs(c meta.MailSettings, passwordChanged bool) map[string]string {
	return map[string]string{"enabled": strconv.FormatBool(c.Enabled), "host": c.Host, "port": strconv.Itoa(c.Port),
		"username": c.Username, "fromAddress": c.FromAddress, "startTlsEnabled": strconv.FormatBool(c.StartTLSEnabled),
		"startTlsRequired": strconv.FormatBool(c.StartTLSRequired), "sslOnConnectEnabled": strconv.FormatBool(c.SSLOnConnectEnabled),
		"passwordChanged": strconv.FormatBool(passwordChanged)}
}

// New returns the service over db; trust may be nil.
func New(db *meta.DB, authz Authorizer, trust TrustPool) *Service {
	return &Service{db: db, authz: authz, trust: trust}
}

// Config returns the configuration without its password, which is never
// shown.
func (s *Service) Config(ctx context.Context) (meta.MailSettings, error) {
	if err := s.authz.Require(ctx, auth.Application("settings", "read")); err != nil {
		return meta.MailSettings{}, err
	}
	c, err := s.db.Mail()
	c.Password = ""
	return c, err
}

// SetConfig stores c; a nil password keeps the stored one, as Nexus does
// (a client never gets it back to send again).
func (s *Service) SetConfig(ctx context.Context, c meta.MailSettings, password *string) error {
	if err := s.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	if err := validate(c); err != nil {
		return err
	}
	err := s.db.UpdateMail(func(stored meta.MailSettings) (meta.MailSettings, error) {
		c.Password = stored.Password
		if password != nil {
			c.Password = *password
		}
		return c, nil
	})
	if err == nil {
		s.audit.Record(ctx, "email", "updated", "email", auditAttrs(c, password != nil))
	}
	return err
}

// Reset puts back the default configuration (disabled).
func (s *Service) Reset(ctx context.Context) error {
	if err := s.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	err := s.db.UpdateMail(func(meta.MailSettings) (meta.MailSettings, error) { return meta.DefaultMail, nil })
	if err == nil {
		s.audit.Record(ctx, "email", "deleted", "email", auditAttrs(meta.DefaultMail, false))
	}
	return err
}

// Verify sends a test message to the address to with the stored
// configuration, enabled or not (checking it is the point); the error is
// why it could not be sent (a *SendError). A malformed address is errs.Invalid.
func (s *Service) Verify(ctx context.Context, to string) error {
	if err := s.authz.Require(ctx, auth.Application("settings", "update")); err != nil {
		return err
	}
	if _, err := ParseAddress(to); err != nil {
		return errs.New(errs.Invalid, "invalid email address %q", to)
	}
	c, err := s.db.Mail()
	if err != nil {
		return err
	}
	if err := Send(ctx, c, s.roots(c), Message{To: to, Subject: "Email configuration verification", Body: "Verification successful\n"}); err != nil {
		return &SendError{Err: err}
	}
	return nil
}

// SendError is a message that could not be sent; its text is why.
type SendError struct{ Err error }

func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *SendError) Unwrap() error { return e.Err }

// Alert sends m as the server when email is enabled, and does nothing
// otherwise; it checks no privilege (task alerts are the server's own).
func (s *Service) Alert(ctx context.Context, m Message) error {
	c, err := s.db.Mail()
	if err != nil || !c.Enabled {
		return err
	}
	return Send(ctx, c, s.roots(c), m)
}

func (s *Service) roots(c meta.MailSettings) *x509.CertPool {
	if !c.NexusTrustStoreEnabled || s.trust == nil {
		return nil
	}
	pool, _ := s.trust.Pool()
	return pool
}

func fieldErr(field, message string) error { return &errs.FieldError{Field: field, Message: message} }

// validate checks c as Nexus does, and refuses line breaks anywhere they
// would reach the SMTP exchange or a header.
func validate(c meta.MailSettings) error {
	switch {
	case c.Port < 1 || c.Port > 65535:
		return fieldErr("port", "must be a port from 1 to 65535")
	case c.Enabled && c.Host == "":
		return fieldErr("host", "may not be empty when email is enabled")
	case strings.ContainsAny(c.Host, " \t\r\n/"):
		return fieldErr("host", "must be a host name or address")
	case strings.ContainsAny(c.Username, "\r\n"):
		return fieldErr("username", "may not contain line breaks")
	case strings.ContainsAny(c.SubjectPrefix, "\r\n"):
		return fieldErr("subjectPrefix", "may not contain line breaks")
	case c.Enabled && c.FromAddress == "":
		return fieldErr("fromAddress", "may not be empty when email is enabled")
	}
	if c.FromAddress != "" {
		if _, err := ParseAddress(c.FromAddress); err != nil {
			return fieldErr("fromAddress", "must be an email address")
		}
	}
	return nil
}
