package ldap

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"log/slog"
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

// Directory is the LDAP realm: the configured servers and the users found
// in them.
type Directory struct {
	db   *meta.DB
	auth *auth.Service
	log  *slog.Logger
	now  func() time.Time

	mu sync.Mutex
	// servers are the stored servers in order, decoded for one security
	// generation (every change of them moves it on).
	gen     uint64
	valid   bool
	servers []Server
	// users caches Lookup's answers (see lookupTTL).
	users map[string]cachedUser
	// health counts each server's connection failures (by ID).
	health map[string]*health
	// trust is the truststore servers with useTrustStore verify against
	// (SetTrustStore), or nil: then they verify like the others.
	trust TrustPool
	// audit records the servers' changes (UseAudit), or is nil.
	audit *audit.Log
}

// UseAudit makes the directory record its servers' changes with l; call
// it before serving.
func (d *Directory) UseAudit(l *audit.Log) { d.audit = l }

// auditAttrs describe s by where it connects and as whom, never with its
// password.
func auditAttrs(s Server) map[string]string {
	return map[string]string{"name": s.Name, "protocol": s.Protocol, "host": s.Host, "port": strconv.Itoa(s.Port),
		"useTrustStore": strconv.FormatBool(s.UseTrustStore), "searchBase": s.SearchBase,
		"authScheme": s.AuthScheme, "authUsername": s.AuthUsername}
}

// TrustPool is the truststore as LDAPS connections with useTrustStore see
// it (truststore.Store).
type TrustPool interface {
	// Pool returns the roots to trust, the system's and the truststore's,
	// and their generation.
	Pool() (*x509.CertPool, uint64)
}

// SetTrustStore makes servers with useTrustStore verify their
// certificates against p, from their next connection on.
func (d *Directory) SetTrustStore(p TrustPool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.trust = p
}

// roots are the CAs a connection to s verifies against: nil (the
// system's) unless s uses the truststore.
func (d *Directory) roots(s Server) *x509.CertPool {
	d.mu.Lock()
	trust := d.trust
	d.mu.Unlock()
	if !s.UseTrustStore || trust == nil {
		return nil
	}
	pool, _ := trust.Pool()
	return pool
}

// New returns the LDAP realm over db; authn checks the privileges of its
// management methods.
func New(db *meta.DB, authn *auth.Service, log *slog.Logger) *Directory {
	return &Directory{db: db, auth: authn, log: log, now: time.Now,
		users: map[string]cachedUser{}, health: map[string]*health{}}
}

// stored returns the servers in the order they are tried.
func (d *Directory) stored() ([]Server, error) {
	gen := d.db.SecurityGeneration()
	d.mu.Lock()
	if d.valid && d.gen == gen {
		defer d.mu.Unlock()
		return d.servers, nil
	}
	d.mu.Unlock()
	raw, err := d.db.LDAPServers()
	if err != nil {
		return nil, err
	}
	servers, err := decode(raw)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.gen, d.valid, d.servers = gen, true, servers
	// A change of the servers may change who their users are.
	clear(d.users)
	d.mu.Unlock()
	return servers, nil
}

func decode(raw json.RawMessage) ([]Server, error) {
	var servers []Server
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &servers); err != nil {
			return nil, err
		}
	}
	return servers, nil
}

// update changes the stored list with fn in one transaction and numbers
// the result's order afresh.
func (d *Directory) update(fn func([]Server) ([]Server, error)) error {
	return d.db.UpdateLDAPServers(func(raw json.RawMessage) (json.RawMessage, error) {
		servers, err := decode(raw)
		if err != nil {
			return nil, err
		}
		if servers, err = fn(servers); err != nil {
			return nil, err
		}
		for i := range servers {
			servers[i].Order = i
		}
		return json.Marshal(servers)
	})
}

func indexOf(servers []Server, name string) int {
	return slices.IndexFunc(servers, func(s Server) bool { return s.Name == name })
}

func notFound(name string) error { return errs.New(errs.NotFound, "LDAP server %q not found", name) }

// List returns the servers in order, without passwords (nx-ldap-read).
func (d *Directory) List(ctx context.Context) ([]Server, error) {
	if err := d.auth.Require(ctx, auth.Application("ldap", "read")); err != nil {
		return nil, err
	}
	servers, err := d.stored()
	out := make([]Server, len(servers))
	for i, s := range servers {
		out[i] = s.public()
	}
	return out, err
}

// Get returns the server name without its password (nx-ldap-read).
func (d *Directory) Get(ctx context.Context, name string) (Server, error) {
	if err := d.auth.Require(ctx, auth.Application("ldap", "read")); err != nil {
		return Server{}, err
	}
	servers, err := d.stored()
	if err != nil {
		return Server{}, err
	}
	i := indexOf(servers, name)
	if i < 0 {
		return Server{}, notFound(name)
	}
	return servers[i].public(), nil
}

// Create validates s and stores it last in the order (nx-ldap-create).
func (d *Directory) Create(ctx context.Context, s Server) error {
	if err := d.auth.Require(ctx, auth.Application("ldap", "create")); err != nil {
		return err
	}
	if err := s.normalize(); err != nil {
		return err
	}
	id := make([]byte, 16)
	rand.Read(id)
	s.ID = hex.EncodeToString(id)
	err := d.update(func(servers []Server) ([]Server, error) {
		if indexOf(servers, s.Name) >= 0 {
			return nil, invalid("name", "an LDAP server named %q already exists", s.Name)
		}
		return append(servers, s), nil
	})
	if err == nil {
		d.log.InfoContext(ctx, "LDAP server created", "name", s.Name, "host", s.Host)
		d.audit.Record(ctx, "security.ldap", "created", s.Name, auditAttrs(s))
	}
	return err
}

// Update replaces the server name with s, which may rename it
// (nx-ldap-update). An empty password keeps the stored one, so that a
// client can send back what it read.
func (d *Directory) Update(ctx context.Context, name string, s Server) error {
	if err := d.auth.Require(ctx, auth.Application("ldap", "update")); err != nil {
		return err
	}
	err := d.update(func(servers []Server) ([]Server, error) {
		i := indexOf(servers, name)
		if i < 0 {
			return nil, notFound(name)
		}
		if s.Name != name && indexOf(servers, s.Name) >= 0 {
			return nil, invalid("name", "an LDAP server named %q already exists", s.Name)
		}
		old := servers[i]
		// The stored password is kept only for the same account on the
		// same server: else an update could send it to any host.
		if s.AuthPassword == "" && s.AuthUsername == old.AuthUsername && s.Protocol == old.Protocol &&
			s.Host == old.Host && s.Port == old.Port {
			s.AuthPassword = old.AuthPassword
		}
		if err := s.normalize(); err != nil {
			return nil, err
		}
		s.ID = old.ID
		servers[i] = s
		return servers, nil
	})
	if err == nil {
		d.forget(s.ID)
		d.log.InfoContext(ctx, "LDAP server updated", "name", s.Name, "host", s.Host)
		attrs := auditAttrs(s)
		attrs["previousName"] = name
		d.audit.Record(ctx, "security.ldap", "updated", s.Name, attrs)
	}
	return err
}

// Delete removes the server name (nx-ldap-delete).
func (d *Directory) Delete(ctx context.Context, name string) error {
	if err := d.auth.Require(ctx, auth.Application("ldap", "delete")); err != nil {
		return err
	}
	err := d.update(func(servers []Server) ([]Server, error) {
		i := indexOf(servers, name)
		if i < 0 {
			return nil, notFound(name)
		}
		d.forget(servers[i].ID)
		return slices.Delete(servers, i, i+1), nil
	})
	if err == nil {
		d.log.InfoContext(ctx, "LDAP server deleted", "name", name)
		d.audit.Record(ctx, "security.ldap", "deleted", name, map[string]string{"name": name})
	}
	return err
}

// ChangeOrder makes names the first servers tried, in that order; the
// others follow in their order (nx-ldap-update).
func (d *Directory) ChangeOrder(ctx context.Context, names []string) error {
	if err := d.auth.Require(ctx, auth.Application("ldap", "update")); err != nil {
		return err
	}
	var order []string
	err := d.update(func(servers []Server) ([]Server, error) {
		out := make([]Server, 0, len(servers))
		for _, name := range names {
			i := indexOf(servers, name)
			if i < 0 {
				return nil, invalid("order", "no LDAP server named %q", name)
			}
			if indexOf(out, name) >= 0 {
				return nil, invalid("order", "%q is listed twice", name)
			}
			out = append(out, servers[i])
		}
		for _, s := range servers {
			if indexOf(out, s.Name) < 0 {
				out = append(out, s)
			}
		}
		order = order[:0]
		for _, s := range out {
			order = append(order, s.Name)
		}
		return out, nil
	})
	if err == nil {
		d.audit.Record(ctx, "security.ldap", "changed-order", "order", map[string]string{"order": strings.Join(order, ",")})
	}
	return err
}

// forget drops what is known of a changed server's connections.
func (d *Directory) forget(id string) {
	d.mu.Lock()
	delete(d.health, id)
	d.mu.Unlock()
}
