package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Built-in role and user IDs.
const (
	AdminRole     = "nx-admin"
	AnonymousRole = "nx-anonymous"
	AdminUser     = "admin"
	AnonymousUser = "anonymous"
)

// AdminPasswordFile is the name, inside the data directory, of the file that
// holds the generated first-start admin password.
const AdminPasswordFile = "admin.password"

// bcryptCost is the work factor of stored password hashes (~50ms a check).
const bcryptCost = 10

// maxPasswordLen is bcrypt's limit; longer passwords would be truncated.
const maxPasswordLen = 72

// Service authenticates callers and manages users, roles and anonymous access.
type Service struct {
	db  *meta.DB
	log *slog.Logger
	// now, sleep and compare are the clock, the wait of a throttled login
	// and bcrypt's check, replaceable in tests.
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	compare func(hash, password []byte) error
	// hashing bounds concurrent password checks (see verifyPassword).
	hashing *semaphore.Weighted
	// checks joins identical login attempts made at once.
	checks singleflight.Group

	throttle throttle
	logins   loginCache
	// principals caches PrincipalOf per user for one security generation.
	principals principalCache
	// tokens caches verified access tokens.
	tokens tokenCache
	// web holds the pending web logins (see StartWebLogin).
	web webLogins
	// realms are the active realms and the LDAP directory (realms.go).
	realms realmState
	// privs lists the repositories for the built-in privileges.
	privs privilegeState
	// dummyHash is compared against when the user is unknown, so that the
	// response time does not reveal which user names exist.
	dummyHash []byte
	// audit records changes, tokens and failed sign-ins (UseAuditor), or is nil.
	audit Auditor
	// meter counts failed logins (see UseLoginMeter).
	meter LoginMeter

	mu      sync.Mutex
	dataDir string // set by Bootstrap; where admin.password lives
	secret  []byte // the token signing key, loaded once
	// anon caches the anonymous principal for one security generation.
	anon struct {
		valid bool
		gen   uint64
		p     *Principal
	}
}

// UseClock makes the service read the time from now, before it serves:
// tests that count login attempts freeze it, so that a slow machine's
// allowance refill does not decide them.
func (s *Service) UseClock(now func() time.Time) { s.now = now }

// Credentials of failed logins, as LoginMeter.LoginFailed names them.
const (
	// CredentialPassword is a user name and password: Basic credentials
	// on any port, a web UI or npm sign-in, Docker's token realm.
	CredentialPassword = "password"
	// CredentialToken is a stored token (Bearer npm_…).
	CredentialToken = "token"
)

// LoginMeter counts failed logins, for metrics (pkg/metrics): the one
// count whatever the port or protocol the attempt came by.
type LoginMeter interface {
	// LoginFailed tells of one refused login with a credential of the
	// given kind (CredentialPassword, CredentialToken).
	LoginFailed(credential string)
}

type nopLoginMeter struct{}

func (nopLoginMeter) LoginFailed(string) {}

// UseLoginMeter makes the service tell m of every failed login; call it
// before the service serves.
func (s *Service) UseLoginMeter(m LoginMeter) { s.meter = m }

// New returns a Service storing its records in db.
func New(db *meta.DB, log *slog.Logger) *Service {
	return &Service{
		db:        db,
		log:       log,
		now:       time.Now,
		sleep:     sleepContext,
		compare:   bcrypt.CompareHashAndPassword,
		hashing:   semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0))),
		dummyHash: dummyHash(),
		meter:     nopLoginMeter{},
	}
}

// Bootstrap runs at every start. When the database has no users it creates
// the built-in roles nx-admin and nx-anonymous, the user "admin" with a random
// password written to <dataDir>/admin.password (mode 0600), and the user
// "anonymous", with anonymous access disabled. It returns the password file
// path and whether the admin user was created now.
func (s *Service) Bootstrap(ctx context.Context, dataDir string) (passwordFile string, created bool, err error) {
	passwordFile = filepath.Join(dataDir, AdminPasswordFile)
	s.mu.Lock()
	s.dataDir = dataDir
	s.mu.Unlock()

	n, err := s.db.UserCount()
	if err != nil || n > 0 {
		return passwordFile, false, err
	}
	builtins := []*meta.Role{
		{ID: AdminRole, Name: AdminRole, Description: "Administrator role", Source: meta.SourceDefault,
			Privileges: []string{AllPrivileges}, ReadOnly: true},
		{ID: AnonymousRole, Name: AnonymousRole, Description: "Anonymous role", Source: meta.SourceDefault,
			Privileges: []string{
				RepositoryView(Any, Any, "browse").String(),
				RepositoryView(Any, Any, "read").String(),
				"nx-search-read",
				"nx-healthcheck-read",
			}, ReadOnly: true},
	}
	for _, r := range builtins {
		// A start interrupted after creating roles may leave them behind.
		_, err := s.db.GetRole(r.ID)
		if errs.KindOf(err) == errs.NotFound {
			err = s.db.CreateRole(r)
		}
		if err != nil {
			return passwordFile, false, err
		}
	}

	// rand.Text gives 26 URL-safe base32 characters (128 bits).
	password := rand.Text()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return passwordFile, false, err
	}
	// The file is written before the user exists: an admin whose password
	// nobody knows would lock everyone out.
	if err := writeSecret(passwordFile, password+"\n"); err != nil {
		return passwordFile, false, err
	}
	admin := &meta.User{ID: AdminUser, FirstName: "Administrator", LastName: "User", Email: "admin@example.org",
		Status: meta.UserActive, PasswordHash: hash, Roles: []string{AdminRole}, Source: meta.SourceDefault}
	if err := s.db.CreateUser(admin); err != nil {
		os.Remove(passwordFile)
		return passwordFile, false, err
	}
	// The anonymous user never logs in with a password: its hash is of a
	// random secret that is thrown away.
	anonHash, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcryptCost)
	if err != nil {
		return passwordFile, true, err
	}
	anon := &meta.User{ID: AnonymousUser, FirstName: "Anonymous", LastName: "User", Email: "anonymous@example.org",
		Status: meta.UserActive, PasswordHash: anonHash, Roles: []string{AnonymousRole}, Source: meta.SourceDefault}
	if err := s.db.CreateUser(anon); err != nil {
		return passwordFile, true, err
	}
	if err := s.db.SetAnonymous(meta.AnonymousSettings{Enabled: false, UserID: AnonymousUser, RealmName: DefaultRealm}); err != nil {
		return passwordFile, true, err
	}
	s.log.InfoContext(ctx, "created initial admin user; its password is in the password file", "user", AdminUser, "file", passwordFile)
	return passwordFile, true, nil
}

// writeSecret writes content to path readable by the owner only.
func writeSecret(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// OpenFile keeps the mode of an existing file.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// errLogin is the one answer to every failed login, whatever the reason.
var errLogin = errs.New(errs.Unauthorized, "authentication required")

// Authenticate checks the password of user, a login from client (an
// address, with or without port). A recently verified password is answered
// from the login cache; any other attempt is throttled (see throttle) and
// then costs one bcrypt comparison, whatever the reason it fails. Every
// failure is errs.Unauthorized with the same message.
func (s *Service) Authenticate(ctx context.Context, user, password, client string) (*Principal, error) {
	for {
		gen := s.db.SecurityGeneration()
		if p := s.logins.principal(user, password, gen, s.now()); p != nil {
			return p, nil
		}
		// Identical attempts at once, such as a client's parallel requests
		// before its first login is cached, share one check: they count as
		// one attempt and cost one comparison.
		key := keyOf(user, clientOf(client), password)
		shared := s.checks.DoChan(string(key[:]), func() (any, error) {
			return s.checkLogin(ctx, user, password, client, gen)
		})
		var r singleflight.Result
		select {
		case <-ctx.Done():
			return nil, errLogin
		case r = <-shared:
		}
		switch {
		case r.Err == nil:
			return r.Val.(*Principal), nil
		case errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded):
			if ctx.Err() != nil {
				return nil, errLogin
			}
			// The request whose check this was went away; this one has not.
		default:
			return nil, r.Err
		}
	}
}

// clientOf is what a client's attempts are counted against: its host
// without the port, so that each connection counts alike, and for IPv6
// its /64, the block one site usually holds, so that hopping addresses
// inside it gains nothing.
func clientOf(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	block, _ := ip.Prefix(64) // cannot fail for an IPv6 address
	return block.String()
}

// AnonymousPrincipal returns the principal of callers without credentials
// and true when anonymous access is enabled and its user is usable.
func (s *Service) AnonymousPrincipal(ctx context.Context) (*Principal, bool, error) {
	gen := s.db.SecurityGeneration()
	s.mu.Lock()
	if s.anon.valid && s.anon.gen == gen {
		p := s.anon.p
		s.mu.Unlock()
		return p, p != nil, nil
	}
	s.mu.Unlock()
	p, ok, err := s.anonymousPrincipal(ctx)
	if err == nil {
		s.mu.Lock()
		s.anon.valid, s.anon.gen, s.anon.p = true, gen, p
		s.mu.Unlock()
	}
	return p, ok, err
}

// anonymousPrincipal reads the anonymous principal from the database.
func (s *Service) anonymousPrincipal(ctx context.Context) (*Principal, bool, error) {
	set, err := s.db.Anonymous()
	if err != nil || !set.Enabled {
		return nil, false, err
	}
	u, err := s.db.GetUser(set.UserID)
	if errs.KindOf(err) == errs.NotFound || (err == nil && u.Status != meta.UserActive) {
		s.log.WarnContext(ctx, "anonymous access is enabled but its user is missing or disabled", "user", set.UserID)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	g, err := s.grantsOf(u.Roles)
	if err != nil {
		return nil, false, err
	}
	return &Principal{UserID: u.ID, Anonymous: true, grants: g}, true, nil
}

// PrincipalOf returns the principal of an active user, with the
// privileges its roles hold now, without checking a password: for callers
// that already proved who they are, such as the holder of a token this
// service signed. errs.Unauthorized when the user is gone or disabled. The
// answer is cached until any user, role or setting changes, and for a
// directory user also only while the directory gives the same answer.
func (s *Service) PrincipalOf(ctx context.Context, userID string) (*Principal, error) {
	gen := s.db.SecurityGeneration()
	cached := s.principals.get(userID, gen)
	if cached.p != nil && cached.from == nil {
		return cached.p, nil
	}
	p, from, err := s.principalOf(ctx, userID, cached)
	if err == nil {
		s.principals.put(userID, gen, cachedPrincipal{p, from})
	}
	return p, err
}

// principalOf resolves userID: a local user, or else, while the LDAP
// realm is active, a user of the directory (from is its answer, which
// builds no new principal when it is cached's).
func (s *Service) principalOf(ctx context.Context, userID string, cached cachedPrincipal) (p *Principal, from *ExternalUser, err error) {
	u, err := s.db.GetUser(userID)
	if errs.KindOf(err) == errs.NotFound {
		if dir := s.ldapRealm(); dir != nil {
			// Asked on every request (the realm caches briefly), so that
			// group changes reach token and session holders.
			eu, err := dir.Lookup(ctx, userID)
			if err != nil {
				return nil, nil, s.externalFailure(ctx, userID, err)
			}
			if eu == cached.from {
				return cached.p, eu, nil
			}
			p, err := s.externalPrincipal(eu)
			return p, eu, err
		}
	}
	// Without the local realm its users' sessions and tokens end too.
	if errs.KindOf(err) == errs.NotFound || (err == nil && (u.Status != meta.UserActive || !s.realmOn(LocalRealm))) {
		return nil, nil, errLogin
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := s.grantsOf(u.Roles)
	if err != nil {
		return nil, nil, err
	}
	return &Principal{UserID: u.ID, grants: g}, nil, nil
}

// Middleware resolves the caller of each request with Resolve.
func (s *Service) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req, err := s.Resolve(c.Request())
			if err != nil {
				return err
			}
			c.SetRequest(req)
			return next(c)
		}
	}
}

// Resolve returns req with its caller in the context: Basic credentials are
// checked with Authenticate, stored tokens (CreateToken) as Bearer tokens
// against the database; other Bearer tokens are left to the realm that
// issued them; without credentials the anonymous principal is
// used when anonymous access is enabled. A failed login leaves no principal
// and a marker that makes Require answer Unauthorized. Logins are
// throttled by the client address the server recorded for req (see
// clientip). Plain net/http servers (the Docker connectors) call it
// directly.
func (s *Service) Resolve(req *http.Request) (*http.Request, error) {
	ctx := req.Context()
	// withCaller records the outcome of checking credentials.
	withCaller := func(p *Principal, err error) error {
		switch {
		case err == nil:
			ctx = WithPrincipal(ctx, p)
		case errs.KindOf(err) == errs.Unauthorized:
			ctx = withLoginFailed(ctx)
		default:
			return fmt.Errorf("authenticate: %w", err)
		}
		return nil
	}
	if user, password, ok := req.BasicAuth(); ok {
		if err := withCaller(s.Authenticate(ctx, user, password, clientip.Of(req))); err != nil {
			return nil, err
		}
	} else if token, ok := storedToken(req); ok {
		p, err := s.tokenPrincipal(ctx, token, clientip.Of(req))
		if errs.KindOf(err) == errs.Unauthorized {
			s.meter.LoginFailed(CredentialToken)
		}
		if err := withCaller(p, err); err != nil {
			return nil, err
		}
	} else if !hasBearer(req) {
		// A Bearer token speaks for itself (its realm checks it); other
		// callers without credentials are anonymous.
		p, ok, err := s.AnonymousPrincipal(ctx)
		if err != nil {
			return nil, fmt.Errorf("anonymous principal: %w", err)
		}
		if ok {
			ctx = WithPrincipal(ctx, p)
		}
	}
	return req.WithContext(ctx), nil
}

func hasBearer(req *http.Request) bool {
	h := req.Header.Get("Authorization")
	return len(h) > 7 && strings.EqualFold(h[:7], "bearer ")
}

// Require returns nil if the principal in ctx has perm. It returns
// errs.Unauthorized when the login failed, when there is no principal, or
// when the anonymous principal lacks perm (so that clients are challenged to
// log in), and errs.Forbidden when an authenticated user lacks perm.
func (s *Service) Require(ctx context.Context, perm Privilege) error {
	if loginFailed(ctx) {
		return errLogin
	}
	p := PrincipalFrom(ctx)
	switch {
	case p.Has(perm):
		return nil
	case p == nil || p.Anonymous:
		return errLogin
	default:
		return errs.New(errs.Forbidden, "user %q lacks privilege %s", p.UserID, perm)
	}
}
