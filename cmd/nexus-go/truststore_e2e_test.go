package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// sslCertificate is Nexus's ApiCertificate, as go-nexus-client reads it.
type sslCertificate struct {
	ID                string `json:"id"`
	Fingerprint       string `json:"fingerprint"`
	SerialNumber      string `json:"serialNumber"`
	IssuerCommonName  string `json:"issuerCommonName"`
	SubjectCommonName string `json:"subjectCommonName"`
	Pem               string `json:"pem"`
	IssuedOn          int64  `json:"issuedOn"`
	ExpiresOn         int64  `json:"expiresOn"`
}

// A proxy of an HTTPS upstream whose CA is private fetches only while the
// CA is in the truststore (useTrustStore on), from the request after each
// change on; the server's certificate is read through the REST API.
func TestTrustStoreProxy(t *testing.T) {
	s := startServer(t)
	ca := tlstest.NewCA(t, "team CA")
	certFile, keyFile, _ := ca.Server(t, t.TempDir(), "upstream")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret content of "+r.URL.Path)
	}))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	up.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	up.StartTLS()
	t.Cleanup(up.Close)
	upURL, _ := url.Parse(up.URL)

	s.createRepo("proxy", `{"name":"tls-p","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
 "proxy":{"remoteUrl":"`+up.URL+`/","contentMaxAge":1440,"metadataMaxAge":1440},
 "negativeCache":{"enabled":false,"timeToLive":1440},
 "httpClient":{"blocked":false,"autoBlock":false,"connection":{"timeout":20,"useTrustStore":true,"retries":0}}}`)
	var cfg struct {
		HTTPClient struct {
			Connection map[string]any `json:"connection"`
		} `json:"httpClient"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/proxy/tls-p", s.admin(), nil, &cfg)
	if c := cfg.HTTPClient.Connection; c["timeout"] != 20.0 || c["useTrustStore"] != true || c["retries"] != 0.0 {
		t.Errorf("connection = %v", c)
	}

	n := 0
	fetch := func() int {
		n++
		return s.do(http.MethodGet, fmt.Sprintf("/repository/tls-p/f%d.txt", n), s.admin(), nil, nil).status
	}
	if st := fetch(); st != http.StatusBadGateway {
		t.Fatalf("before the CA is trusted: status %d, want 502", st)
	}

	var leaf sslCertificate
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/ssl?host=127.0.0.1&port="+upURL.Port(), s.admin(), nil, &leaf)
	if leaf.SubjectCommonName != "upstream" || leaf.IssuerCommonName != "team CA" || leaf.ID != leaf.Fingerprint || leaf.ExpiresOn <= leaf.IssuedOn {
		t.Errorf("fetched certificate = %+v", leaf)
	}

	var added sslCertificate
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/ssl/truststore", s.admin(), string(ca.PEM), &added)
	if added.SubjectCommonName != "team CA" || !strings.Contains(added.Pem, "BEGIN CERTIFICATE") {
		t.Errorf("added = %+v", added)
	}
	if res := s.doJSON(http.MethodPost, "/v1/security/ssl/truststore", s.admin(), string(ca.PEM), nil); res.status != http.StatusConflict {
		t.Errorf("adding it twice: %d %s", res.status, res.body)
	}
	if res := s.doJSON(http.MethodPost, "/v1/security/ssl/truststore", s.admin(), "not a certificate", nil); res.status != http.StatusBadRequest {
		t.Errorf("adding garbage: %d %s", res.status, res.body)
	}
	var list []sslCertificate
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/ssl/truststore", s.admin(), nil, &list)
	if len(list) != 1 || list[0].ID != added.ID {
		t.Errorf("truststore = %+v", list)
	}
	if st := fetch(); st != http.StatusOK {
		t.Fatalf("with the CA trusted: status %d", st)
	}

	s.createUser("nobody", "nobody-pw-1")
	if res := s.doJSON(http.MethodGet, "/v1/security/ssl/truststore", &creds{"nobody", "nobody-pw-1"}, nil, nil); res.status != http.StatusForbidden {
		t.Errorf("truststore listed without nx-ssl-truststore-read: %d", res.status)
	}
	s.createRole("ts-reader", "nx-ssl-truststore-read")
	s.createUser("reader", "reader-pw-1", "ts-reader")
	reader := &creds{"reader", "reader-pw-1"}
	if res := s.doJSON(http.MethodGet, "/v1/security/ssl/truststore", reader, nil, nil); res.status != http.StatusOK {
		t.Errorf("truststore with nx-ssl-truststore-read: %d %s", res.status, res.body)
	}
	if res := s.doJSON(http.MethodDelete, "/v1/security/ssl/truststore/"+url.QueryEscape(added.ID), reader, nil, nil); res.status != http.StatusForbidden {
		t.Errorf("removal with only nx-ssl-truststore-read: %d", res.status)
	}

	// go-nexus-client escapes the id's colons.
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/security/ssl/truststore/"+url.QueryEscape(added.ID), s.admin(), nil, nil)
	s.mustJSON(http.StatusNotFound, http.MethodDelete, "/v1/security/ssl/truststore/"+url.QueryEscape(added.ID), s.admin(), nil, nil)
	if st := fetch(); st != http.StatusBadGateway {
		t.Errorf("after the CA left the truststore: status %d, want 502", st)
	}
}
