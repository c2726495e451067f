// Package truststore is the server's truststore: the certificates, beyond
// the system's roots, that proxies with useTrustStore trust. It stores them
// in pkg/meta, keeps the pool proxies verify with (repo.TrustPool) in step
// with every change, and fetches a server's certificate for an admin to
// add. Every method checks the caller's privileges.
package truststore

import (
	"cmp"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Authorizer checks the caller's privileges (auth.Service).
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// Privileges of the truststore, as Nexus names them.
var (
	privRead   = auth.Application("ssl-truststore", "read")
	privCreate = auth.Application("ssl-truststore", "create")
	privDelete = auth.Application("ssl-truststore", "delete")
)

// fetchTimeout bounds Fetch: connecting and the TLS handshake.
const fetchTimeout = 10 * time.Second

// Certificate is a certificate as Nexus's REST API shows it
// (ApiCertificate); times are milliseconds since the epoch.
type Certificate struct {
	ID                        string `json:"id"`
	Fingerprint               string `json:"fingerprint"`
	SerialNumber              string `json:"serialNumber"`
	IssuerCommonName          string `json:"issuerCommonName"`
	IssuerOrganization        string `json:"issuerOrganization"`
	IssuerOrganizationalUnit  string `json:"issuerOrganizationalUnit"`
	SubjectCommonName         string `json:"subjectCommonName"`
	SubjectOrganization       string `json:"subjectOrganization"`
	SubjectOrganizationalUnit string `json:"subjectOrganizationalUnit"`
	PEM                       string `json:"pem"`
	IssuedOn                  int64  `json:"issuedOn"`
	ExpiresOn                 int64  `json:"expiresOn"`
}

// Store is the truststore.
type Store struct {
	db     *meta.DB
	authz  Authorizer
	system func() (*x509.CertPool, error)

	mu    sync.RWMutex
	certs map[string]*x509.Certificate // by ID
	pool  *x509.CertPool
	gen   uint64

	audit *audit.Log // records additions and removals (UseAudit), or is nil
}

// UseAudit makes the store record the certificates added and removed with
// l; call it before serving.
func (s *Store) UseAudit(l *audit.Log) { s.audit = l }

// auditAttrs name a certificate by what its listing shows, not its PEM.
func auditAttrs(d Certificate) map[string]string {
	return map[string]string{"id": d.ID, "subjectCommonName": d.SubjectCommonName,
		"issuerCommonName": d.IssuerCommonName, "serialNumber": d.SerialNumber,
		"expiresOn": time.UnixMilli(d.ExpiresOn).UTC().Format(time.RFC3339)}
}

// Open loads the stored certificates.
func Open(db *meta.DB, authz Authorizer) (*Store, error) {
	s := &Store{db: db, authz: authz, system: x509.SystemCertPool}
	stored, err := db.TrustedCertificates()
	if err != nil {
		return nil, err
	}
	certs := map[string]*x509.Certificate{}
	for id, raw := range stored {
		c, err := parse(string(raw))
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "stored truststore certificate %s", id)
		}
		certs[id] = c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swap(certs)
	return s, nil
}

// Pool returns the roots proxies with useTrustStore verify with, the
// system's and the truststore's, and a generation that changes with them.
func (s *Store) Pool() (*x509.CertPool, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pool, s.gen
}

// swap makes certs the truststore's; s.mu is held.
func (s *Store) swap(certs map[string]*x509.Certificate) {
	pool, err := s.system()
	if err != nil {
		pool = x509.NewCertPool() // no system roots on this machine
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	s.certs, s.pool = certs, pool
	s.gen++
}

// List returns the truststore's certificates, by subject then ID.
func (s *Store) List(ctx context.Context) ([]Certificate, error) {
	if err := s.authz.Require(ctx, privRead); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Certificate, 0, len(s.certs))
	for _, c := range s.certs {
		out = append(out, describe(c))
	}
	sortCertificates(out)
	return out, nil
}

// Add puts the certificate in pemText into the truststore; from the next
// request on, proxies with useTrustStore trust it.
func (s *Store) Add(ctx context.Context, pemText string) (Certificate, error) {
	if err := s.authz.Require(ctx, privCreate); err != nil {
		return Certificate{}, err
	}
	c, err := parse(pemText)
	if err != nil {
		return Certificate{}, err
	}
	d := describe(c)
	if err := s.add(d, c); err != nil {
		return Certificate{}, err
	}
	s.audit.Record(ctx, "security.sslcertificate", "created", d.ID, auditAttrs(d))
	return d, nil
}

func (s *Store) add(d Certificate, c *x509.Certificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.AddTrustedCertificate(d.ID, []byte(d.PEM)); err != nil {
		return err
	}
	certs := make(map[string]*x509.Certificate, len(s.certs)+1)
	for id, old := range s.certs {
		certs[id] = old
	}
	certs[d.ID] = c
	s.swap(certs)
	return nil
}

// Remove takes certificate id out of the truststore.
func (s *Store) Remove(ctx context.Context, id string) error {
	if err := s.authz.Require(ctx, privDelete); err != nil {
		return err
	}
	gone, err := s.remove(id)
	if err != nil {
		return err
	}
	s.audit.Record(ctx, "security.sslcertificate", "deleted", id, auditAttrs(describe(gone)))
	return nil
}

// remove takes certificate id out and returns it.
func (s *Store) remove(id string) (*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.RemoveTrustedCertificate(id); err != nil {
		return nil, err
	}
	gone := s.certs[id]
	certs := make(map[string]*x509.Certificate, len(s.certs))
	for cid, c := range s.certs {
		if cid != id {
			certs[cid] = c
		}
	}
	s.swap(certs)
	return gone, nil
}

// Fetch connects to host:port over TLS and returns the certificate the
// server presents (the leaf, as Nexus does), trusted or not: it is shown
// to decide whether to trust it. It needs the read privilege, as it makes
// the server connect where the caller says.
func (s *Store) Fetch(ctx context.Context, host string, port int) (Certificate, error) {
	if err := s.authz.Require(ctx, privRead); err != nil {
		return Certificate{}, err
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return Certificate{}, errs.New(errs.Invalid, "host must be a host name or address")
	}
	if port < 1 || port > 65535 {
		return Certificate{}, errs.New(errs.Invalid, "port must be from 1 to 65535")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{
		ServerName: host,
		// Nothing is trusted or sent over this connection: the
		// certificate is only read, whoever signed it.
		InsecureSkipVerify: true,
	}}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Certificate{}, errs.New(errs.Upstream, "could not retrieve the certificate of %s:%d: %v", host, port, err)
	}
	defer conn.Close()
	chain := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return Certificate{}, errs.New(errs.Upstream, "%s:%d presented no certificate", host, port)
	}
	return describe(chain[0]), nil
}

// parse reads the one certificate of a PEM text.
func parse(pemText string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errs.New(errs.Invalid, "the body must be a PEM-encoded certificate")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errs.New(errs.Invalid, "the body must hold one certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errs.New(errs.Invalid, "the certificate cannot be parsed: %v", err)
	}
	return c, nil
}

// describe is c in Nexus's shape; its ID is its fingerprint, the SHA-1 of
// its DER bytes in colon-separated upper-case hex.
func describe(c *x509.Certificate) Certificate {
	sum := sha1.Sum(c.Raw)
	hexed := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(hexed); i += 2 {
		parts = append(parts, hexed[i:i+2])
	}
	fp := strings.Join(parts, ":")
	return Certificate{
		ID: fp, Fingerprint: fp, SerialNumber: c.SerialNumber.String(),
		IssuerCommonName: c.Issuer.CommonName, IssuerOrganization: first(c.Issuer.Organization),
		IssuerOrganizationalUnit: first(c.Issuer.OrganizationalUnit),
		SubjectCommonName:        c.Subject.CommonName, SubjectOrganization: first(c.Subject.Organization),
		SubjectOrganizationalUnit: first(c.Subject.OrganizationalUnit),
		PEM:                       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
		IssuedOn:                  c.NotBefore.UnixMilli(), ExpiresOn: c.NotAfter.UnixMilli(),
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func sortCertificates(cs []Certificate) {
	slices.SortFunc(cs, func(a, b Certificate) int {
		return cmp.Or(cmp.Compare(a.SubjectCommonName, b.SubjectCommonName), cmp.Compare(a.ID, b.ID))
	})
}
