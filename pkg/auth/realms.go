package auth

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Realm IDs, as Nexus names them. A realm is one way of proving who a
// caller is; only the active ones are used, in their stored order.
const (
	// LocalRealm checks the passwords of the users stored here.
	LocalRealm = "NexusAuthenticatingRealm"
	// DockerRealm issues and accepts the signed Bearer tokens of Docker
	// clients (IssueToken, VerifyToken).
	DockerRealm = "DockerToken"
	// LDAPRealm checks passwords against the configured LDAP servers.
	LDAPRealm = "LdapRealm"
	// NpmRealm (apitoken.go) accepts the stored tokens of npm clients.
)

// Realm is an available realm: its ID and the name Nexus shows.
type Realm struct {
	ID   string
	Name string
}

// availableRealms are the realms this server implements.
var availableRealms = []Realm{
	{LocalRealm, "Local Authenticating Realm"},
	{DockerRealm, "Docker Bearer Token Realm"},
	{LDAPRealm, "LDAP Realm"},
	{NpmRealm, "npm Bearer Token Realm"},
}

// defaultRealms are active until an administrator chooses: what worked
// before realms could be chosen (local users, Docker and npm tokens).
var defaultRealms = []string{LocalRealm, DockerRealm, NpmRealm}

// ExternalUser is a user of a directory outside this database (LDAP), as
// its realm found it.
type ExternalUser struct {
	ID string
	// Name is the user's real name.
	Name  string
	Email string
	// Groups are the user's groups in the directory; each names the role
	// of the same ID, if there is one (external role mapping).
	Groups []string
}

// ExternalRealm authenticates users of an outside directory. Both methods
// answer errs.Unauthorized for a user they do not know or a wrong
// password, and another error when the directory cannot be asked.
type ExternalRealm interface {
	Authenticate(ctx context.Context, user, password string) (*ExternalUser, error)
	// Lookup finds a user who proved who they are before (the holder of a
	// token or a session), without a password. It may answer with the
	// same *ExternalUser while that answer holds, never changing it: the
	// service then reuses the principal it built from it.
	Lookup(ctx context.Context, user string) (*ExternalUser, error)
}

// realmState is the Service's view of the realms: the active list,
// cached for one security generation, and the LDAP realm's directory.
type realmState struct {
	mu     sync.Mutex
	gen    uint64
	valid  bool
	active []string
	ldap   ExternalRealm
}

// SetLDAP plugs in the directory of the LDAP realm.
func (s *Service) SetLDAP(r ExternalRealm) {
	s.realms.mu.Lock()
	s.realms.ldap = r
	s.realms.mu.Unlock()
}

// activeRealms returns the active realm IDs in order.
func (s *Service) activeRealms() []string {
	gen := s.db.SecurityGeneration()
	s.realms.mu.Lock()
	if s.realms.valid && s.realms.gen == gen {
		defer s.realms.mu.Unlock()
		return s.realms.active
	}
	s.realms.mu.Unlock()
	ids, ok, err := s.db.ActiveRealms()
	if err != nil {
		// Failing closed would lock everyone out over a read error; the
		// defaults are what a fresh install runs with.
		s.log.Error("cannot read the active realms; using the defaults", "err", err)
		return defaultRealms
	}
	if !ok {
		ids = defaultRealms
	}
	s.realms.mu.Lock()
	s.realms.gen, s.realms.valid, s.realms.active = gen, true, ids
	s.realms.mu.Unlock()
	return ids
}

// realmOn reports whether realm is active: the one check every way of
// signing in passes (passwords, Docker and npm tokens).
func (s *Service) realmOn(realm string) bool {
	return slices.Contains(s.activeRealms(), realm)
}

// RealmActive reports whether realm is active, for front ends that offer
// a realm's sign-in only while it is (Docker's token challenge).
func (s *Service) RealmActive(realm string) bool { return s.realmOn(realm) }

// ldapRealm returns the LDAP directory when the LDAP realm is active.
func (s *Service) ldapRealm() ExternalRealm {
	if !s.realmOn(LDAPRealm) {
		return nil
	}
	s.realms.mu.Lock()
	defer s.realms.mu.Unlock()
	return s.realms.ldap
}

// AvailableRealms lists the realms that can be activated (nx-settings-read).
func (s *Service) AvailableRealms(ctx context.Context) ([]Realm, error) {
	if err := s.Require(ctx, Application("settings", "read")); err != nil {
		return nil, err
	}
	return slices.Clone(availableRealms), nil
}

// ActiveRealms returns the active realm IDs in order (nx-settings-read).
func (s *Service) ActiveRealms(ctx context.Context) ([]string, error) {
	if err := s.Require(ctx, Application("settings", "read")); err != nil {
		return nil, err
	}
	return slices.Clone(s.activeRealms()), nil
}

// SetActiveRealms stores the active realms in the order they are tried
// (nx-settings-update). Unknown and repeated IDs are refused, and so is a
// list without a realm that checks passwords.
func (s *Service) SetActiveRealms(ctx context.Context, ids []string) error {
	if err := s.Require(ctx, Application("settings", "update")); err != nil {
		return err
	}
	for i, id := range ids {
		if !slices.ContainsFunc(availableRealms, func(r Realm) bool { return r.ID == id }) {
			return errs.New(errs.Invalid, "unknown realm %q", id)
		}
		if slices.Contains(ids[:i], id) {
			return errs.New(errs.Invalid, "realm %q is listed twice", id)
		}
	}
	// Without a password realm nobody could sign in again to undo it.
	if !slices.Contains(ids, LocalRealm) && !slices.Contains(ids, LDAPRealm) {
		return errs.New(errs.Invalid, "%s or %s must be active, or nobody can sign in", LocalRealm, LDAPRealm)
	}
	if err := s.db.SetActiveRealms(ids); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "active realms changed", "realms", ids)
	s.record(ctx, "security.realm", "updated", "active", map[string]string{"realms": list(ids)})
	return nil
}

// externalPrincipal is the principal of a directory user: the roles whose
// IDs are the user's group names, matched like a local user's.
//
// A directory user whose ID, as the directory spells it, is that of a
// local user is refused: it would act as that user (its own account's
// password, tokens), and the local user wins.
func (s *Service) externalPrincipal(u *ExternalUser) (*Principal, error) {
	switch _, err := s.db.GetUser(u.ID); {
	case err == nil:
		return nil, errLogin
	case errs.KindOf(err) != errs.NotFound:
		return nil, err
	}
	g, err := s.grantsOf(u.Groups)
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: u.ID, grants: g, external: true}, nil
}

// externalFailure is what a directory's error becomes: errLogin. A
// directory that cannot be asked is logged (never a password), and
// the caller is refused as for a wrong password, not failed with a 500:
// local users keep working while LDAP is down. A request that went away
// keeps its context error.
func (s *Service) externalFailure(ctx context.Context, user string, err error) error {
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return err
	case errs.KindOf(err) != errs.Unauthorized:
		s.log.WarnContext(ctx, "LDAP realm could not check a user", "user", logName(user), "err", err)
	}
	return errLogin
}

// DirectoryUser returns the LDAP user id and the IDs of the roles its
// groups map to (nx-users-read), or errs.NotFound when the LDAP realm is
// inactive or no server knows id.
func (s *Service) DirectoryUser(ctx context.Context, id string) (*ExternalUser, []string, error) {
	if err := s.Require(ctx, Application("users", "read")); err != nil {
		return nil, nil, err
	}
	dir := s.ldapRealm()
	if dir == nil {
		return nil, nil, errs.New(errs.NotFound, "user %q not found", id)
	}
	u, err := dir.Lookup(ctx, id)
	if err != nil {
		if errs.KindOf(err) == errs.Unauthorized {
			return nil, nil, errs.New(errs.NotFound, "user %q not found", id)
		}
		return nil, nil, err
	}
	var roles []string
	for _, g := range u.Groups {
		if _, err := s.db.GetRole(g); err == nil {
			roles = append(roles, g)
		}
	}
	return u, roles, nil
}
