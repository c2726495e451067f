package auth

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// dummyHash is what unknown user names are checked against, so that they
// cost the same bcrypt comparison as known ones. It is made once per
// process, by the first New, so that no login pays for making it.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcryptCost)
	if err != nil {
		panic(err) // only fails for a bad cost or a long input, both constant here
	}
	return h
})

// checkLogin is one login attempt that the login cache did not answer: it
// is counted, waits as long as the throttle says, and has its password
// verified. It fails with errLogin, or with ctx's error when the request
// went away while it waited.
func (s *Service) checkLogin(ctx context.Context, user, password, client string, gen uint64) (*Principal, error) {
	name := logName(user)
	a := s.throttle.begin(user, clientOf(client), s.now())
	for _, kind := range a.throttled {
		s.log.WarnContext(ctx, "too many failed logins; delaying further attempts", "key", kind,
			"user", name, "client", client, "delay", a.wait)
	}
	if a.refused {
		s.log.InfoContext(ctx, "login refused unchecked; too many attempts waiting", "user", name, "client", client)
		s.recordFailedLogin(ctx, name)
		return nil, errLogin
	}
	failed := func(err error) (*Principal, error) {
		s.log.InfoContext(ctx, "login failed", "user", name, "client", client, "delay", a.wait)
		// A request gone while it waited, or a database error, is no
		// failed sign-in.
		if errs.KindOf(err) == errs.Unauthorized {
			s.recordFailedLogin(ctx, name)
		}
		return nil, err
	}
	if a.wait > 0 {
		if err := s.sleep(ctx, a.wait); err != nil {
			return failed(err)
		}
	}
	p, err := s.login(ctx, user, password)
	if err != nil {
		return failed(err)
	}
	s.throttle.succeeded(a)
	s.logins.put(p.UserID, password, gen, p, s.now())
	return p, nil
}

// login asks the active password realms in their order. A user stored
// here is the local realm's alone (while it is active), so that no
// directory entry of the same name can sign in as, say, admin; any other
// name is the LDAP realm's. When no realm checked a password, bcrypt
// still runs once, so the time of a failure tells nothing.
func (s *Service) login(ctx context.Context, user, password string) (*Principal, error) {
	u, err := s.db.GetUser(user)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return nil, err
	}
	checked := false
	for _, realm := range s.activeRealms() {
		switch {
		case realm == LocalRealm && u != nil:
			checked = true
			switch ok, err := s.verifyPassword(ctx, u, password); {
			case err != nil:
				return nil, err
			case !ok:
				return nil, errLogin
			}
			g, err := s.grantsOf(u.Roles)
			if err != nil {
				return nil, err
			}
			return &Principal{UserID: u.ID, grants: g}, nil
		case realm == LDAPRealm && (u == nil || !s.realmOn(LocalRealm)):
			dir := s.ldapRealm()
			if dir == nil {
				continue
			}
			checked = true
			eu, err := dir.Authenticate(ctx, user, password)
			if err != nil {
				return nil, s.externalFailure(ctx, user, err)
			}
			return s.externalPrincipal(eu)
		}
	}
	if !checked {
		if _, err := s.verifyPassword(ctx, nil, password); err != nil {
			return nil, err
		}
	}
	return nil, errLogin
}

// recordFailedLogin records a refused sign-in as user (as logged), from
// the client in ctx: every way of signing in with a password comes here
// (Basic credentials on any port, so the Docker token realm too, the web
// UI, npm login). Identical attempts at once are one (see Authenticate).
// It is counted too, as a refused password.
func (s *Service) recordFailedLogin(ctx context.Context, user string) {
	s.meter.LoginFailed(CredentialPassword)
	s.record(ctx, "security.login", "failed", user, map[string]string{"userId": user})
}

// logName is user as logged: a guessed name may be any length.
func logName(user string) string {
	const maxLogged = 128
	if len(user) > maxLogged {
		return user[:maxLogged] + "..."
	}
	return user
}

// verifyPassword reports whether password is that of u, an active user (u
// is nil for an unknown name). Every call costs exactly one bcrypt
// comparison at bcryptCost, whether the user is unknown or disabled or the
// password too long, so that the time of a failure reveals nothing. The
// comparisons share a semaphore as wide as the CPUs: guessing cannot take
// every CPU from the rest of the server, and a waiting caller gives up
// with its request's context.
func (s *Service) verifyPassword(ctx context.Context, u *meta.User, password string) (bool, error) {
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	// bcrypt reads no further than maxPasswordLen; such a password was
	// never stored, so it is checked for the time and then refused.
	candidate := []byte(password)
	tooLong := len(candidate) > maxPasswordLen
	if tooLong {
		candidate = candidate[:maxPasswordLen]
	}
	if err := s.hashing.Acquire(ctx, 1); err != nil {
		return false, err
	}
	match := s.compare(hash, candidate) == nil
	s.hashing.Release(1)
	return match && u != nil && u.Status == meta.UserActive && !tooLong, nil
}

// sleepContext waits for d or until ctx ends, whichever is first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
