package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// WithMail serves /v1/email over m.
func (a *API) WithMail(m *mail.Service) *API {
	a.mail = m
	return a
}

// registerEmail mounts Nexus's email configuration endpoints, when there
// is a mail service.
func (a *API) registerEmail(g *echo.Group) {
	if a.mail == nil {
		return
	}
	g.GET("/v1/email", a.emailConfig)
	g.PUT("/v1/email", a.setEmailConfig)
	g.DELETE("/v1/email", a.resetEmailConfig)
	g.POST("/v1/email/verify", a.verifyEmail)
}

// emailJSON is Nexus's ApiEmailConfiguration. The password is write-only:
// always null in answers, kept when a PUT leaves it out (or null).
type emailJSON struct {
	Enabled                       bool    `json:"enabled"`
	Host                          string  `json:"host"`
	Port                          int     `json:"port"`
	Username                      string  `json:"username"`
	Password                      *string `json:"password"`
	FromAddress                   string  `json:"fromAddress"`
	SubjectPrefix                 string  `json:"subjectPrefix"`
	StartTLSEnabled               bool    `json:"startTlsEnabled"`
	StartTLSRequired              bool    `json:"startTlsRequired"`
	SSLOnConnectEnabled           bool    `json:"sslOnConnectEnabled"`
	SSLServerIdentityCheckEnabled bool    `json:"sslServerIdentityCheckEnabled"`
	NexusTrustStoreEnabled        bool    `json:"nexusTrustStoreEnabled"`
}

func (a *API) emailConfig(c echo.Context) error {
	s, err := a.mail.Config(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, emailJSON{Enabled: s.Enabled, Host: s.Host, Port: s.Port, Username: s.Username,
		FromAddress: s.FromAddress, SubjectPrefix: s.SubjectPrefix, StartTLSEnabled: s.StartTLSEnabled,
		StartTLSRequired: s.StartTLSRequired, SSLOnConnectEnabled: s.SSLOnConnectEnabled,
		SSLServerIdentityCheckEnabled: s.SSLServerIdentityCheckEnabled, NexusTrustStoreEnabled: s.NexusTrustStoreEnabled})
}

func (a *API) setEmailConfig(c echo.Context) error {
	var in emailJSON
	if err := decodeBody(c, &in); err != nil {
		return fail(c, a.log, err)
	}
	s := meta.MailSettings{Enabled: in.Enabled, Host: strings.TrimSpace(in.Host), Port: in.Port, Username: in.Username,
		FromAddress: strings.TrimSpace(in.FromAddress), SubjectPrefix: in.SubjectPrefix, StartTLSEnabled: in.StartTLSEnabled,
		StartTLSRequired: in.StartTLSRequired, SSLOnConnectEnabled: in.SSLOnConnectEnabled,
		SSLServerIdentityCheckEnabled: in.SSLServerIdentityCheckEnabled, NexusTrustStoreEnabled: in.NexusTrustStoreEnabled}
	if err := a.mail.SetConfig(c.Request().Context(), s, in.Password); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) resetEmailConfig(c echo.Context) error {
	if err := a.mail.Reset(c.Request().Context()); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// emailValidation is Nexus's ApiEmailValidation.
type emailValidation struct {
	Success bool   `json:"success"`
	Reason  string `json:"reason,omitempty"`
}

// verifyEmail sends a test message to the address that is the body (a
// JSON string, or the bare text), and answers whether it went (200 either
// way, as Nexus does).
func (a *API) verifyEmail(c echo.Context) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 4096))
	if err != nil {
		return fail(c, a.log, err)
	}
	to := strings.TrimSpace(string(raw))
	if strings.HasPrefix(to, `"`) {
		if err := json.Unmarshal([]byte(to), &to); err != nil {
			return fail(c, a.log, invalid("body", "malformed JSON string: "+err.Error()))
		}
	}
	if err := a.mail.Verify(c.Request().Context(), to); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) {
			return a.ok(c, emailValidation{Reason: err.Error()})
		}
		return fail(c, a.log, err)
	}
	return a.ok(c, emailValidation{Success: true})
}
