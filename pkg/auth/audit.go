package auth

import (
	"context"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Auditor records security events (audit.Log, which imports this package
// to name the caller of a context: hence an interface here). Attributes
// never hold a password or a token.
type Auditor interface {
	Record(ctx context.Context, domain, typ, subject string, attrs map[string]string)
}

// UseAuditor makes the service record its changes, the tokens it creates
// and revokes, and failed sign-ins with a; call it before serving.
func (s *Service) UseAuditor(a Auditor) { s.audit = a }

// record records an event with the auditor, if there is one.
func (s *Service) record(ctx context.Context, domain, typ, subject string, attrs map[string]string) {
	if s.audit != nil {
		s.audit.Record(ctx, domain, typ, subject, attrs)
	}
}

// list is how a record's attributes show a list: Nexus's comma-joined.
func list(items []string) string { return strings.Join(items, ",") }

// userAttrs describe a user: its profile and roles, never its password hash.
func userAttrs(u *meta.User) map[string]string {
	return map[string]string{"id": u.ID, "firstName": u.FirstName, "lastName": u.LastName, "email": u.Email,
		"source": u.Source, "status": u.Status, "roles": list(u.Roles)}
}

func roleAttrs(r *meta.Role) map[string]string {
	return map[string]string{"id": r.ID, "name": r.Name, "description": r.Description, "source": r.Source,
		"privileges": list(r.Privileges), "roles": list(r.Roles)}
}

// privilegeAttrs are a privilege's fields that its type uses.
func privilegeAttrs(p *meta.Privilege) map[string]string {
	out := map[string]string{"name": p.Name, "type": p.Type, "description": p.Description}
	for k, v := range map[string]string{"actions": list(p.Actions), "domain": p.Domain, "format": p.Format,
		"repository": p.Repository, "contentSelector": p.ContentSelector, "pattern": p.Pattern, "scriptName": p.ScriptName} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func selectorAttrs(sel *meta.ContentSelector) map[string]string {
	return map[string]string{"name": sel.Name, "description": sel.Description, "expression": sel.Expression}
}

// tokenAttrs describe a stored token by what its listings show: its
// prefix, never the token nor its hash (which revokes it).
func tokenAttrs(t *meta.Token) map[string]string {
	return map[string]string{"userId": t.UserID, "realm": t.Realm, "prefix": t.Prefix,
		"readOnly": strconv.FormatBool(t.ReadOnly), "cidrs": list(t.CIDRs)}
}
