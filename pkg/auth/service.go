package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

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
	// now is the clock, replaceable in tests.
	now func() time.Time

	throttle throttle
	logins   loginCache
	// principals caches PrincipalOf per user for one security generation.
	principals principalCache
	// dummyHash is compared against when the user is unknown, so that the
	// response time does not reveal which user names exist.
	dummyHash func() []byte

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

// New returns a Service storing its records in db.
func New(db *meta.DB, log *slog.Logger) *Service {
	return &Service{
		db:  db,
		log: log,
		now: time.Now,
		dummyHash: sync.OnceValue(func() []byte {
			h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcryptCost)
			if err != nil {
				panic(err) // only fails for bad cost or long input, both constant here
			}
			return h
		}),
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

// Authenticate checks the password of user. Failures are throttled (see
// maxFailures); every failure, including a locked-out attempt, is
// errs.Unauthorized with the same message.
func (s *Service) Authenticate(ctx context.Context, user, password, remoteAddr string) (*Principal, error) {
	now := s.now()
	host := hostOf(remoteAddr)
	pairKey, addrKey, userKey := "pair:"+user+"@"+host, "addr:"+host, "user:"+user
	if s.throttle.blocked(pairKey, now) || s.throttle.blocked(addrKey, now) || s.throttle.blocked(userKey, now) {
		return nil, errLogin
	}
	gen := s.db.SecurityGeneration()
	if p := s.logins.principal(user, password, gen, now); p != nil {
		return p, nil
	}
	u, err := s.db.GetUser(user)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return nil, err
	}
	ok := false
	switch {
	case u == nil:
		// Spend the same time as a real check.
		bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
	case len(password) > maxPasswordLen:
		// bcrypt would compare only a prefix; such a password was never stored.
	default:
		ok = bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) == nil
	}
	if ok && u.Status != meta.UserActive {
		ok = false
	}
	if !ok {
		lockedPair := s.throttle.fail(pairKey, maxFailures, now)
		lockedAddr := s.throttle.fail(addrKey, maxAddressFailures, now)
		lockedUser := s.throttle.fail(userKey, maxUserFailures, now)
		s.log.InfoContext(ctx, "login failed", "user", user, "remote", remoteAddr)
		if lockedPair || lockedAddr || lockedUser {
			s.log.WarnContext(ctx, "too many failed logins; locking out", "user", user, "remote", remoteAddr,
				"userAtAddressLocked", lockedPair, "addressLocked", lockedAddr, "userLocked", lockedUser, "for", lockoutPeriod)
		}
		return nil, errLogin
	}
	// Only the user's own counts are reset: an attacker with one valid
	// account must not be able to clear the counter of their address.
	s.throttle.reset(pairKey)
	s.throttle.reset(userKey)
	privs, err := s.privileges(u.Roles)
	if err != nil {
		return nil, err
	}
	p := &Principal{UserID: u.ID, privileges: privs}
	s.logins.put(u.ID, password, gen, p, now)
	return p, nil
}

// hostOf strips the port from a remote address, so that each connection of
// one client counts against the same address.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
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
	privs, err := s.privileges(u.Roles)
	if err != nil {
		return nil, false, err
	}
	return &Principal{UserID: u.ID, Anonymous: true, privileges: privs}, true, nil
}

// PrincipalOf returns the principal of an active user, with the
// privileges its roles hold now, without checking a password: for callers
// that already proved who they are, such as the holder of a token this
// service signed. errs.Unauthorized when the user is gone or disabled. The
// answer is cached until any user, role or setting changes.
func (s *Service) PrincipalOf(ctx context.Context, userID string) (*Principal, error) {
	gen := s.db.SecurityGeneration()
	if p := s.principals.get(userID, gen); p != nil {
		return p, nil
	}
	p, err := s.principalOf(userID)
	if err == nil {
		s.principals.put(userID, gen, p)
	}
	return p, err
}

func (s *Service) principalOf(userID string) (*Principal, error) {
	u, err := s.db.GetUser(userID)
	if errs.KindOf(err) == errs.NotFound || (err == nil && u.Status != meta.UserActive) {
		return nil, errLogin
	}
	if err != nil {
		return nil, err
	}
	privs, err := s.privileges(u.Roles)
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: u.ID, privileges: privs}, nil
}

// privileges returns the union of the privileges of roles and, recursively,
// of the roles they contain. Missing roles are skipped and each role is
// visited once, so dangling references and cycles are harmless; a stored
// name that is not a privilege (written before names were checked) grants
// nothing.
func (s *Service) privileges(roles []string) ([]Privilege, error) {
	seen := map[string]bool{}
	var privs []Privilege
	queue := append([]string(nil), roles...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := s.db.GetRole(id)
		if errs.KindOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, name := range r.Privileges {
			p, err := ParsePrivilege(name)
			if err != nil {
				s.log.Warn("role grants an invalid privilege; ignored", "role", id, "err", err)
				continue
			}
			privs = append(privs, p)
		}
		queue = append(queue, r.Roles...)
	}
	return privs, nil
}

// Middleware resolves the caller of each request with Resolve.
func (s *Service) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req, err := s.Resolve(c.Request(), s.remoteAddr(c))
			if err != nil {
				return err
			}
			c.SetRequest(req)
			return next(c)
		}
	}
}

// Resolve returns req with its caller in the context: Basic credentials are
// checked with Authenticate; without credentials the anonymous principal is
// used when anonymous access is enabled. A failed login leaves no principal
// and a marker that makes Require answer Unauthorized. remoteAddr is the
// client address used for throttling. Plain net/http servers (the Docker
// connectors) call it directly.
func (s *Service) Resolve(req *http.Request, remoteAddr string) (*http.Request, error) {
	ctx := req.Context()
	if user, password, ok := req.BasicAuth(); ok {
		p, err := s.Authenticate(ctx, user, password, remoteAddr)
		switch {
		case err == nil:
			ctx = WithPrincipal(ctx, p)
		case errs.KindOf(err) == errs.Unauthorized:
			ctx = withLoginFailed(ctx)
		default:
			return nil, fmt.Errorf("authenticate: %w", err)
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

// remoteAddr is the client address used for throttling. Forwarding headers
// are trusted only when the server configured an IP extractor for its
// proxies; otherwise any client could pick a fresh address per attempt.
func (s *Service) remoteAddr(c echo.Context) string {
	if c.Echo().IPExtractor != nil {
		return c.RealIP()
	}
	return c.Request().RemoteAddr
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
