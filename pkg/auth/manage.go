package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

var validID = regexp.MustCompile(`^[A-Za-z0-9._@-]+$`)

// DefaultRealm is the name of the realm of locally stored users.
const DefaultRealm = "NexusAuthorizingRealm"

// The methods below serve the REST API and the UI alike, so each checks the
// caller's privilege itself (nx-users-*, nx-roles-*, nx-settings-*): both
// front ends get one decision.

// requireSelfOr allows a signed-in caller acting on its own account, and
// others holding perm.
func (s *Service) requireSelfOr(ctx context.Context, id string, perm Privilege) error {
	if p := PrincipalFrom(ctx); p != nil && !p.Anonymous && p.UserID == id && !loginFailed(ctx) {
		return nil
	}
	return s.Require(ctx, perm)
}

// User returns the user id without a privilege check, for the engine's
// own lookups (the formats' user documents and publishers), or
// errs.NotFound.
func (s *Service) User(id string) (*meta.User, error) { return s.db.GetUser(id) }

// ListUsers returns the users whose ID starts with idPrefix, sorted by ID.
func (s *Service) ListUsers(ctx context.Context, idPrefix string) ([]*meta.User, error) {
	if err := s.Require(ctx, Application("users", "read")); err != nil {
		return nil, err
	}
	all, err := s.db.Users()
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, u := range all {
		if strings.HasPrefix(u.ID, idPrefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

// GetUser returns the user id (to itself, or to holders of nx-users-read),
// or errs.NotFound.
func (s *Service) GetUser(ctx context.Context, id string) (*meta.User, error) {
	if err := s.requireSelfOr(ctx, id, Application("users", "read")); err != nil {
		return nil, err
	}
	return s.db.GetUser(id)
}

// CreateUser validates and stores a new user with password. The stored
// record's source is "default"; PasswordHash and ReadOnly of u are ignored.
func (s *Service) CreateUser(ctx context.Context, u *meta.User, password string) error {
	if err := s.Require(ctx, Application("users", "create")); err != nil {
		return err
	}
	if !validID.MatchString(u.ID) {
		return errs.New(errs.Invalid, "userId must be non-empty and contain only letters, digits, '.', '_', '@' and '-'")
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	if err := s.checkUser(u); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	rec := *u
	rec.PasswordHash, rec.Source, rec.ReadOnly = hash, meta.SourceDefault, false
	if err := s.db.CreateUser(&rec); err != nil {
		return err
	}
	s.record(ctx, "security.user", "created", rec.ID, userAttrs(&rec))
	// The caller's record shows what was stored (its source), so that a
	// creator need not hold nx-users-read to answer with it.
	u.Source, u.ReadOnly = rec.Source, rec.ReadOnly
	return nil
}

// UpdateUser replaces the profile, status and roles of an existing user,
// keeping its password.
func (s *Service) UpdateUser(ctx context.Context, u *meta.User) error {
	if err := s.Require(ctx, Application("users", "update")); err != nil {
		return err
	}
	old, err := s.db.GetUser(u.ID)
	if err != nil {
		return err
	}
	if err := s.checkUser(u); err != nil {
		return err
	}
	rec := *u
	rec.PasswordHash, rec.Source, rec.ReadOnly = old.PasswordHash, old.Source, old.ReadOnly
	if err := s.db.PutUser(&rec); err != nil {
		return err
	}
	s.record(ctx, "security.user", "updated", rec.ID, userAttrs(&rec))
	return nil
}

// checkUser validates the status and role references of u.
func (s *Service) checkUser(u *meta.User) error {
	if u.Status != meta.UserActive && u.Status != meta.UserDisabled {
		return errs.New(errs.Invalid, "status must be %q or %q", meta.UserActive, meta.UserDisabled)
	}
	for _, r := range u.Roles {
		if _, err := s.db.GetRole(r); err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return errs.New(errs.Invalid, "role %q does not exist", r)
			}
			return err
		}
	}
	return nil
}

func checkPassword(password string) error {
	if password == "" {
		return errs.New(errs.Invalid, "password is required")
	}
	if len(password) > maxPasswordLen {
		return errs.New(errs.Invalid, "password must be at most %d bytes", maxPasswordLen)
	}
	return nil
}

// DeleteUser deletes a user. It refuses to delete the caller's own account
// and the user configured for anonymous access.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if err := s.Require(ctx, Application("users", "delete")); err != nil {
		return err
	}
	if p := PrincipalFrom(ctx); p != nil && !p.Anonymous && p.UserID == id {
		// Nexus's words: clients match them (go-nexus-client).
		return errs.New(errs.Invalid, "Can not delete currently signed in user")
	}
	set, err := s.db.Anonymous()
	if err != nil {
		return err
	}
	if set.UserID == id {
		return errs.New(errs.Invalid, "user %q is configured as the anonymous user and cannot be deleted", id)
	}
	if err := s.db.DeleteUser(id); err != nil {
		return err
	}
	// Its tokens went with it (meta.DeleteUser): this record stands for them too.
	s.record(ctx, "security.user", "deleted", id, map[string]string{"id": id})
	return nil
}

// ChangePassword sets the password of user id. Changing the admin password
// deletes the first-start password file, which is no longer valid.
func (s *Service) ChangePassword(ctx context.Context, id, password string) error {
	// Users may always change their own password.
	if err := s.requireSelfOr(ctx, id, Application("userschangepw", "")); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	u, err := s.db.GetUser(id)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = bcrypt.GenerateFromPassword([]byte(password), bcryptCost); err != nil {
		return err
	}
	// Writing the user moves the security generation on, which voids
	// cached logins with the old password.
	if err := s.db.PutUser(u); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password changed", "user", id)
	s.record(ctx, "security.user", "changed-password", id, map[string]string{"id": id})
	s.mu.Lock()
	dataDir := s.dataDir
	s.mu.Unlock()
	if id == AdminUser && dataDir != "" {
		file := filepath.Join(dataDir, AdminPasswordFile)
		if err := os.Remove(file); err == nil {
			s.log.InfoContext(ctx, "removed the initial admin password file", "file", file)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// ListRoles returns all roles sorted by ID.
func (s *Service) ListRoles(ctx context.Context) ([]*meta.Role, error) {
	if err := s.Require(ctx, Application("roles", "read")); err != nil {
		return nil, err
	}
	return s.db.Roles()
}

// GetRole returns the role id, or errs.NotFound.
func (s *Service) GetRole(ctx context.Context, id string) (*meta.Role, error) {
	if err := s.Require(ctx, Application("roles", "read")); err != nil {
		return nil, err
	}
	return s.db.GetRole(id)
}

// CreateRole validates and stores a new role. An empty name defaults to the
// ID; the source is "default", or "LDAP" for an external role mapping:
// a role whose ID is an LDAP group's name, held by that group's members.
func (s *Service) CreateRole(ctx context.Context, r *meta.Role) error {
	if err := s.Require(ctx, Application("roles", "create")); err != nil {
		return err
	}
	if !validID.MatchString(r.ID) {
		return errs.New(errs.Invalid, "id must be non-empty and contain only letters, digits, '.', '_', '@' and '-'")
	}
	rec := *r
	if rec.Source != meta.SourceLDAP {
		rec.Source = meta.SourceDefault
	}
	rec.ReadOnly = false
	if rec.Name == "" {
		rec.Name = rec.ID
	}
	if err := s.checkRole(&rec); err != nil {
		return err
	}
	if err := s.db.CreateRole(&rec); err != nil {
		return err
	}
	s.record(ctx, "security.role", "created", rec.ID, roleAttrs(&rec))
	*r = rec // what was stored (defaulted name, source), as CreateUser does
	return nil
}

// UpdateRole replaces an existing role. Read-only (built-in) roles cannot be
// changed.
func (s *Service) UpdateRole(ctx context.Context, r *meta.Role) error {
	if err := s.Require(ctx, Application("roles", "update")); err != nil {
		return err
	}
	old, err := s.db.GetRole(r.ID)
	if err != nil {
		return err
	}
	if old.ReadOnly {
		return errs.New(errs.Invalid, "role %q is read-only", r.ID)
	}
	rec := *r
	rec.Source, rec.ReadOnly = old.Source, false
	if rec.Name == "" {
		rec.Name = rec.ID
	}
	if err := s.checkRole(&rec); err != nil {
		return err
	}
	if err := s.db.PutRole(&rec); err != nil {
		return err
	}
	s.record(ctx, "security.role", "updated", rec.ID, roleAttrs(&rec))
	return nil
}

// DeleteRole deletes a role. Read-only (built-in) roles cannot be deleted.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	if err := s.Require(ctx, Application("roles", "delete")); err != nil {
		return err
	}
	r, err := s.db.GetRole(id)
	if err != nil {
		return err
	}
	if r.ReadOnly {
		return errs.New(errs.Invalid, "role %q is read-only", id)
	}
	if err := s.db.DeleteRole(id); err != nil {
		return err
	}
	s.record(ctx, "security.role", "deleted", id, map[string]string{"id": id})
	return nil
}

// checkRole validates privilege names and role references of r, and that
// storing r would not make a role contain itself.
func (s *Service) checkRole(r *meta.Role) error {
	for _, p := range r.Privileges {
		if err := s.privilegeKnown(p); err != nil {
			return err
		}
	}
	// Walk the roles r contains, seeing r itself as it is about to be stored.
	seen := map[string]bool{}
	queue := append([]string(nil), r.Roles...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if id == r.ID {
			return errs.New(errs.Invalid, "role %q would contain itself", r.ID)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := s.db.GetRole(id)
		if errs.KindOf(err) == errs.NotFound {
			return errs.New(errs.Invalid, "role %q does not exist", id)
		}
		if err != nil {
			return err
		}
		queue = append(queue, c.Roles...)
	}
	return nil
}

// Anonymous returns the anonymous access settings.
func (s *Service) Anonymous(ctx context.Context) (meta.AnonymousSettings, error) {
	if err := s.Require(ctx, Application("settings", "read")); err != nil {
		return meta.AnonymousSettings{}, err
	}
	return s.db.Anonymous()
}

// SetAnonymous stores the anonymous access settings and returns them as
// stored. The user must exist when access is enabled; an empty realm
// defaults to NexusAuthorizingRealm.
func (s *Service) SetAnonymous(ctx context.Context, set meta.AnonymousSettings) (meta.AnonymousSettings, error) {
	if err := s.Require(ctx, Application("settings", "update")); err != nil {
		return set, err
	}
	if set.UserID == "" {
		return set, errs.New(errs.Invalid, "userId is required")
	}
	if set.RealmName == "" {
		set.RealmName = DefaultRealm
	}
	if set.Enabled {
		if _, err := s.db.GetUser(set.UserID); err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return set, errs.New(errs.Invalid, "user %q does not exist", set.UserID)
			}
			return set, err
		}
	}
	if err := s.db.SetAnonymous(set); err != nil {
		return set, err
	}
	s.log.InfoContext(ctx, "anonymous access settings changed", "enabled", set.Enabled, "user", set.UserID)
	s.record(ctx, "security.anonymous", "updated", "anonymous", map[string]string{
		"enabled": strconv.FormatBool(set.Enabled), "userId": set.UserID, "realmName": set.RealmName})
	return set, nil
}
