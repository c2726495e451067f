package repo

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Connection is the "httpClient.connection" section of a proxy: how its
// upstream client behaves (see upstreamClients). Nil fields are unset and
// keep the defaults; they are shown as they were sent.
type Connection struct {
	// Retries is how often an idempotent request that failed to connect,
	// timed out or got a 5xx is sent again (0..10).
	Retries *int `json:"retries,omitempty"`
	// UserAgentSuffix is appended to the User-Agent of every request.
	UserAgentSuffix string `json:"userAgentSuffix,omitempty"`
	// Timeout, in seconds, bounds each exchange (1..3600) instead of
	// proxy.timeout.
	Timeout *int `json:"timeout,omitempty"`
	// EnableCircularRedirects lets a redirect chain visit a URL twice.
	EnableCircularRedirects *bool `json:"enableCircularRedirects,omitempty"`
	// EnableCookies keeps the upstream's cookies, in a jar of the proxy's.
	EnableCookies *bool `json:"enableCookies,omitempty"`
	// UseTrustStore trusts the truststore's certificates besides the
	// system's roots.
	UseTrustStore *bool `json:"useTrustStore,omitempty"`
}

// Authentication types of Nexus's httpClient.authentication.type.
const (
	AuthUsername    = "username"
	AuthBearerToken = "bearerToken"
	AuthNTLM        = "ntlm"
)

// Bounds of the connection settings, as Nexus's.
const (
	maxRetries        = 10
	maxTimeoutSeconds = 3600
)

// validateHTTPClient checks a proxy's "httpClient" section and spells its
// authentication type as Nexus does.
func validateHTTPClient(hc *HTTPClient) error {
	if c := hc.Connection; c != nil {
		if c.Retries != nil && (*c.Retries < 0 || *c.Retries > maxRetries) {
			return fieldErr("httpClient.connection.retries", "must be from 0 to %d", maxRetries)
		}
		if c.Timeout != nil && (*c.Timeout < 1 || *c.Timeout > maxTimeoutSeconds) {
			return fieldErr("httpClient.connection.timeout", "must be from 1 to %d seconds", maxTimeoutSeconds)
		}
		if strings.ContainsAny(c.UserAgentSuffix, "\r\n") {
			return fieldErr("httpClient.connection.userAgentSuffix", "may not contain line breaks")
		}
	}
	a := hc.Authentication
	if a == nil {
		return nil
	}
	switch {
	case strings.EqualFold(a.Type, AuthUsername):
		a.Type = AuthUsername
		a.BearerToken, a.NTLMHost, a.NTLMDomain = "", "", ""
		if a.Username == "" {
			return fieldErr("httpClient.authentication.username", "may not be empty")
		}
	case strings.EqualFold(a.Type, AuthBearerToken):
		a.Type = AuthBearerToken
		a.Username, a.Password, a.NTLMHost, a.NTLMDomain = "", "", "", ""
		if a.BearerToken == "" {
			return fieldErr("httpClient.authentication.bearerToken", "may not be empty")
		}
		if strings.ContainsAny(a.BearerToken, "\r\n") {
			return fieldErr("httpClient.authentication.bearerToken", "may not contain line breaks")
		}
	case strings.EqualFold(a.Type, AuthNTLM):
		a.Type = AuthNTLM
		a.BearerToken = ""
		if a.Username == "" {
			return fieldErr("httpClient.authentication.username", "may not be empty")
		}
	default:
		return fieldErr("httpClient.authentication.type", "must be username, bearerToken or ntlm")
	}
	return nil
}

// errNTLM is why a proxy configured for NTLM does not fetch: its settings
// are kept, so that a configuration from Nexus round-trips, but nexus-go
// does not speak NTLM.
func errNTLM(name string) error {
	return errs.New(errs.Upstream, "proxy %s is configured for NTLM authentication, which nexus-go does not support", name)
}

// unusable is why p cannot ask its upstream at all, whatever the path.
func (p *proxyRepo) unusable() error {
	if hc := p.cfg.HTTPClient; hc != nil && hc.Authentication != nil && hc.Authentication.Type == AuthNTLM {
		return errNTLM(p.cfg.Name)
	}
	return nil
}

// withoutUpstream is why p may not ask its upstream now, nil when it may;
// without it, a proxy serves what it has cached, however old.
func (p *proxyRepo) withoutUpstream() error {
	if err := p.unusable(); err != nil {
		return err
	}
	if err := p.frozen.refuseFrozen(); err != nil {
		// Read-only: what is cached is served as it is (confirming it
		// would be a write), and nothing new is fetched, as it could not
		// be cached.
		return err
	}
	if blocked, _ := p.blocked(); blocked {
		// The reason (upstream address, network error) is for admins, in
		// the repository status, not for every client.
		return errs.New(errs.Upstream, "upstream of %s is blocked", p.cfg.Name)
	}
	return nil
}

// authenticate adds the configured credentials to an upstream request.
func (p *proxyRepo) authenticate(req *http.Request) {
	hc := p.cfg.HTTPClient
	if hc == nil || hc.Authentication == nil {
		return
	}
	switch a := hc.Authentication; a.Type {
	case AuthUsername:
		req.SetBasicAuth(a.Username, a.Password)
	case AuthBearerToken:
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	}
}

// keepUpstreamPassword keeps the stored upstream password (or bearer token)
// when an update leaves it out for the same kind of authentication, the
// same user and the same upstream origin: the REST API never shows it, so a
// GET-edit-PUT round trip must not erase it, but it must not go to a server
// it was not meant for either.
func keepUpstreamPassword(cfg *Config, old Config) {
	if cfg.HTTPClient == nil || old.HTTPClient == nil || cfg.Proxy == nil || old.Proxy == nil {
		return
	}
	na, oa := cfg.HTTPClient.Authentication, old.HTTPClient.Authentication
	if na == nil || oa == nil || !strings.EqualFold(na.Type, oa.Type) || na.Username != oa.Username {
		return
	}
	nu, err1 := url.Parse(cfg.Proxy.RemoteURL)
	ou, err2 := url.Parse(old.Proxy.RemoteURL)
	if err1 != nil || err2 != nil || Origin(nu) != Origin(ou) {
		return
	}
	if na.Password == "" {
		na.Password = oa.Password
	}
	if na.BearerToken == "" {
		na.BearerToken = oa.BearerToken
	}
}
