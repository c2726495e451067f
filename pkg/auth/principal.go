// Package auth authenticates callers and checks their privileges, following
// the Nexus Repository 3 security model: users hold roles, roles hold
// privileges and other roles, and a privilege is a name such as
// "nx-repository-view-maven2-releases-read", matched field by field (see
// Privilege); "nx-all" grants everything.
package auth

import "context"

// Principal is the caller of a request.
type Principal struct {
	// UserID is the user the caller authenticated as, or the configured
	// anonymous user.
	UserID string
	// Anonymous is true when the caller sent no credentials.
	Anonymous bool

	// grants are the granted privileges and content selector grants,
	// resolved from the user's roles when the principal was created.
	grants
	// readOnly restricts them to reading (a read-only token).
	readOnly bool
	// external is set for a user of the LDAP directory, not a local one.
	external bool
	// format, for the principal of a stored token, restricts them to the
	// content of repositories of the format its realm serves: an npm
	// token is no key to the REST API or to other formats.
	format string
	// system marks System's principal, which no user can be.
	system bool
}

// Has reports whether the principal was granted perm. A nil principal has
// no permissions.
func (p *Principal) Has(perm Privilege) bool {
	if p == nil || p.readOnly && !reads(perm) || p.format != "" && (perm.Kind != KindRepositoryView || perm.Format != p.format) {
		return false
	}
	for _, g := range p.privs {
		if g.Grants(perm) {
			return true
		}
	}
	return false
}

// reads reports whether perm only reads: browse and read of content,
// read of configuration and of application domains.
func reads(perm Privilege) bool {
	switch perm.Kind {
	case KindRepositoryView, KindScript:
		return perm.Action == "browse" || perm.Action == "read"
	case KindRepositoryAdmin, KindApplication:
		return perm.Action == "read"
	}
	return false
}

// System is the server itself, for what it does on its own rather than for
// a caller (creating a first start's default repositories): it holds every
// privilege, and no request can carry it.
func System() *Principal {
	return &Principal{UserID: "*system", grants: grants{privs: []Privilege{{Kind: KindAll}}}, system: true}
}

// IsSystem reports whether p is System's principal: the server acting on
// its own (the audit log names it "system").
func (p *Principal) IsSystem() bool { return p != nil && p.system }

type ctxKey int

const (
	principalKey ctxKey = iota
	loginFailedKey
)

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal stored in ctx, or nil if there is none.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// withLoginFailed marks ctx as belonging to a request whose credentials were
// rejected, so Require challenges it even when anonymous access is enabled.
func withLoginFailed(ctx context.Context) context.Context {
	return context.WithValue(ctx, loginFailedKey, true)
}

func loginFailed(ctx context.Context) bool {
	failed, _ := ctx.Value(loginFailedKey).(bool)
	return failed
}
