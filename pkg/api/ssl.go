package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/truststore"
)

// WithTrustStore serves /v1/security/ssl over ts.
func (a *API) WithTrustStore(ts *truststore.Store) *API {
	a.trust = ts
	return a
}

// registerSSL mounts Nexus's truststore endpoints, when there is one.
func (a *API) registerSSL(g *echo.Group) {
	if a.trust == nil {
		return
	}
	g.GET("/v1/security/ssl", a.fetchCertificate)
	g.GET("/v1/security/ssl/truststore", a.listCertificates)
	g.POST("/v1/security/ssl/truststore", a.addCertificate)
	g.DELETE("/v1/security/ssl/truststore/:id", a.removeCertificate)
}

// fetchCertificate shows the certificate of ?host=&port= (default 443);
// protocolHint, Nexus's choice between HTTPS and LDAPS, changes nothing
// here: both start with the TLS handshake.
func (a *API) fetchCertificate(c echo.Context) error {
	host := c.QueryParam("host")
	if host == "" {
		return fail(c, a.log, invalid("host", "may not be empty"))
	}
	port := 443
	if raw := c.QueryParam("port"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 65535 {
			return fail(c, a.log, invalid("port", "must be a port from 1 to 65535"))
		}
		port = n
	}
	switch strings.ToLower(c.QueryParam("protocolHint")) {
	case "", "https", "ldaps":
	default:
		return fail(c, a.log, invalid("protocolHint", "must be HTTPS or LDAPS"))
	}
	cert, err := a.trust.Fetch(c.Request().Context(), host, port)
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, cert)
}

func (a *API) listCertificates(c echo.Context) error {
	certs, err := a.trust.List(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, certs)
}

// addCertificate takes the PEM text as the body, as Nexus does; a JSON
// string of it is accepted too.
func (a *API) addCertificate(c echo.Context) error {
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return fail(c, a.log, err)
	}
	text := strings.TrimSpace(string(raw))
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal([]byte(text), &text); err != nil {
			return fail(c, a.log, invalid("body", "malformed JSON string: "+err.Error()))
		}
	}
	cert, err := a.trust.Add(c.Request().Context(), text)
	if err != nil {
		return fail(c, a.log, err)
	}
	return c.JSON(http.StatusCreated, cert)
}

func (a *API) removeCertificate(c echo.Context) error {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return fail(c, a.log, invalid("id", "malformed"))
	}
	if err := a.trust.Remove(c.Request().Context(), id); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
