package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// lookupTTL is how long Lookup's answers are kept: token and session
// holders are looked up on every request, and group changes in the
// directory show within it. Failures are never kept.
const (
	lookupTTL      = time.Minute
	maxCachedUsers = 1024
)

type cachedUser struct {
	user    *auth.ExternalUser
	expires time.Time
}

// health is a server's run of connection failures: after
// maxIncidentsCount of them it rests for connectionRetryDelaySeconds,
// so that a server that is down does not cost every login its timeout.
type health struct {
	incidents int
	until     time.Time
}

// errUnknown is the answer for a user no server knows or whose password
// is wrong; auth.Service turns it into its one login failure.
var errUnknown = errs.New(errs.Unauthorized, "unknown LDAP user or wrong password")

// Authenticate finds user in the servers, in order, and verifies password
// by binding as the user's entry.
func (d *Directory) Authenticate(ctx context.Context, user, password string) (*auth.ExternalUser, error) {
	// An empty password is an unauthenticated bind (RFC 4513 5.1.2),
	// which servers accept for any DN.
	if password == "" {
		return nil, errUnknown
	}
	return d.each(ctx, user, &password)
}

// Lookup finds user in the servers without a password, for callers who
// proved who they are before.
func (d *Directory) Lookup(ctx context.Context, user string) (*auth.ExternalUser, error) {
	if _, err := d.stored(); err != nil {
		return nil, err
	}
	now := d.now()
	d.mu.Lock()
	c, ok := d.users[user]
	d.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.user, nil
	}
	u, err := d.each(ctx, user, nil)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.users) >= maxCachedUsers {
		clear(d.users)
	}
	d.users[user] = cachedUser{user: u, expires: now.Add(lookupTTL)}
	d.mu.Unlock()
	return u, nil
}

// each asks the servers in order until one knows user (and, when
// password is given, accepts it). It fails with errUnknown when every
// server that answered refused, else with the last connection failure.
func (d *Directory) each(ctx context.Context, user string, password *string) (*auth.ExternalUser, error) {
	servers, err := d.stored()
	if err != nil {
		return nil, err
	}
	if user == "" {
		return nil, errUnknown
	}
	var failure error
	answered := false
	for _, s := range servers {
		if !d.usable(s) {
			failure = errs.New(errs.Upstream, "LDAP server %q is resting after connection failures", s.Name)
			continue
		}
		u, err := d.ask(ctx, s, user, password)
		switch {
		case err == nil:
			d.answered(s)
			return u, nil
		case errs.KindOf(err) == errs.Unauthorized:
			d.answered(s)
			answered = true
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			d.failed(s)
			failure = err
		}
	}
	if answered || failure == nil {
		return nil, errUnknown
	}
	return nil, failure
}

func (d *Directory) usable(s Server) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.health[s.ID]
	return h == nil || !d.now().Before(h.until)
}

func (d *Directory) answered(s Server) {
	d.mu.Lock()
	delete(d.health, s.ID)
	d.mu.Unlock()
}

func (d *Directory) failed(s Server) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.health[s.ID]
	if h == nil {
		h = &health{}
		d.health[s.ID] = h
	}
	h.incidents++
	if s.MaxIncidentsCount > 0 && h.incidents >= s.MaxIncidentsCount {
		h.incidents, h.until = 0, d.now().Add(time.Duration(s.ConnectionRetryDelaySeconds)*time.Second)
		d.log.Warn("LDAP server unreachable; resting it", "name", s.Name, "host", s.Host,
			"seconds", s.ConnectionRetryDelaySeconds)
	}
}

// ask is one server's answer, within its connection timeout in all.
func (d *Directory) ask(ctx context.Context, s Server, user string, password *string) (*auth.ExternalUser, error) {
	timeout := time.Duration(s.ConnectionTimeoutSeconds) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, s, timeout, d.roots(s))
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: connect", s.Name)
	}
	defer conn.Close()
	// Whatever the connection waits for ends with the request or the timeout.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if err := bindService(conn, s); err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: bind as %q", s.Name, s.AuthUsername)
	}
	entry, err := findUser(conn, s, user)
	if err != nil {
		return nil, err
	}
	if password != nil {
		switch err := conn.Bind(entry.DN, *password); {
		case goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials):
			return nil, errUnknown
		case err != nil:
			return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: bind as the user", s.Name)
		}
		// Groups are read with the server's own account: users often may
		// not read them.
		if err := bindService(conn, s); err != nil {
			return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: bind as %q", s.Name, s.AuthUsername)
		}
	}
	groups, err := groupsOf(conn, s, entry, user)
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: group search", s.Name)
	}
	return &auth.ExternalUser{ID: idOf(entry, s, user),
		Name:  entry.GetAttributeValue(s.UserRealNameAttribute),
		Email: entry.GetAttributeValue(s.UserEmailAddressAttribute), Groups: groups}, nil
}

// idOf is the user's ID as the directory spells it: the value of the ID
// attribute that matched user (attributes such as uid match ignoring case).
func idOf(entry *goldap.Entry, s Server, user string) string {
	for _, v := range entry.GetAttributeValues(s.UserIDAttribute) {
		if strings.EqualFold(v, user) {
			return v
		}
	}
	return user
}

// dial connects to s; LDAPS verifies the server's certificate for its
// host against roots (nil: the system's).
func dial(ctx context.Context, s Server, timeout time.Duration, roots *x509.CertPool) (*goldap.Conn, error) {
	dialer := &net.Dialer{Timeout: timeout}
	if dl, ok := ctx.Deadline(); ok {
		dialer.Deadline = dl
	}
	scheme, opts := "ldap", []goldap.DialOpt{goldap.DialWithDialer(dialer)}
	if s.Protocol == ProtocolLDAPS {
		scheme = "ldaps"
		opts = append(opts, goldap.DialWithTLSConfig(&tls.Config{ServerName: s.Host, RootCAs: roots, MinVersion: tls.VersionTLS12}))
	}
	conn, err := goldap.DialURL(scheme+"://"+net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), opts...)
	if err != nil {
		return nil, err
	}
	conn.SetTimeout(timeout)
	return conn, nil
}

func bindService(conn *goldap.Conn, s Server) error {
	if s.AuthScheme == AuthSimple {
		return conn.Bind(s.AuthUsername, s.AuthPassword)
	}
	return conn.UnauthenticatedBind("")
}

// findUser searches the one entry of user. No entry, or more than one,
// is errUnknown: an ambiguous name signs nobody in.
func findUser(conn *goldap.Conn, s Server, user string) (*goldap.Entry, error) {
	filter := "(" + s.UserIDAttribute + "=" + goldap.EscapeFilter(user) + ")"
	if s.UserObjectClass != "" {
		filter += "(objectClass=" + s.UserObjectClass + ")"
	}
	if s.UserLDAPFilter != "" {
		filter += wrapFilter(s.UserLDAPFilter)
	}
	attrs := []string{s.UserIDAttribute}
	for _, a := range []string{s.UserRealNameAttribute, s.UserEmailAddressAttribute, s.UserMemberOfAttribute} {
		if a != "" {
			attrs = append(attrs, a)
		}
	}
	res, err := conn.Search(goldap.NewSearchRequest(under(s.UserBaseDN, s.SearchBase), scope(s.UserSubtree),
		goldap.NeverDerefAliases, 2, 0, false, "(&"+filter+")", attrs, nil))
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded),
		goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return nil, errUnknown
	case err != nil:
		return nil, errs.Wrap(errs.Upstream, err, "LDAP server %q: user search", s.Name)
	case len(res.Entries) != 1:
		return nil, errUnknown
	}
	return res.Entries[0], nil
}

// groupsOf returns the names of the groups of entry: with STATIC groups
// those whose member attribute names the user (by DN or name), with
// DYNAMIC ones the first RDN value of each DN in the user's memberOf
// attribute.
func groupsOf(conn *goldap.Conn, s Server, entry *goldap.Entry, user string) ([]string, error) {
	if !s.LDAPGroupsAsRoles {
		return nil, nil
	}
	if s.GroupType == GroupsDynamic {
		var out []string
		for _, dn := range entry.GetAttributeValues(s.UserMemberOfAttribute) {
			if name := firstRDN(dn); name != "" {
				out = append(out, name)
			}
		}
		return out, nil
	}
	member := strings.NewReplacer("${dn}", entry.DN, "${username}", idOf(entry, s, user)).
		Replace(s.GroupMemberFormat)
	filter := "(&(objectClass=" + s.GroupObjectClass + ")(" + s.GroupMemberAttribute + "=" + goldap.EscapeFilter(member) + "))"
	res, err := conn.Search(goldap.NewSearchRequest(under(s.GroupBaseDN, s.SearchBase), scope(s.GroupSubtree),
		goldap.NeverDerefAliases, 0, 0, false, filter, []string{s.GroupIDAttribute}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range res.Entries {
		if name := e.GetAttributeValue(s.GroupIDAttribute); name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

func firstRDN(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return ""
	}
	return parsed.RDNs[0].Attributes[0].Value
}

func scope(subtree bool) int {
	if subtree {
		return goldap.ScopeWholeSubtree
	}
	return goldap.ScopeSingleLevel
}
