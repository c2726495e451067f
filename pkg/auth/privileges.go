package auth

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/csel"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

func fieldError(field, message string) error { return &errs.FieldError{Field: field, Message: message} }

// privilegeState is the service's view of the repositories, whose
// built-in privileges it lists.
type privilegeState struct {
	mu    sync.Mutex
	repos func() []RepositoryRef
}

// SetRepositories gives the service the lister of existing repositories,
// for the per-repository built-in privileges (nx-repository-view-raw-x-read).
func (s *Service) SetRepositories(list func() []RepositoryRef) {
	s.privs.mu.Lock()
	s.privs.repos = list
	s.privs.mu.Unlock()
}

func (s *Service) builtins() []PrivilegeInfo {
	s.privs.mu.Lock()
	list := s.privs.repos
	s.privs.mu.Unlock()
	var repos []RepositoryRef
	if list != nil {
		repos = list()
	}
	return builtinPrivileges(repos)
}

// privilegeName is Nexus's rule for privilege and selector names.
var privilegeName = regexp.MustCompile(`^[a-zA-Z0-9\-][a-zA-Z0-9_\-.]*$`)

// ListPrivileges returns the built-in and the stored privileges, by name.
func (s *Service) ListPrivileges(ctx context.Context) ([]PrivilegeInfo, error) {
	if err := s.Require(ctx, Application("privileges", "read")); err != nil {
		return nil, err
	}
	out := s.builtins()
	stored, err := s.db.Privileges()
	if err != nil {
		return nil, err
	}
	for _, p := range stored {
		out = append(out, PrivilegeInfo{Privilege: *p})
	}
	slices.SortFunc(out, func(a, b PrivilegeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GetPrivilege returns the privilege name, or errs.NotFound.
func (s *Service) GetPrivilege(ctx context.Context, name string) (PrivilegeInfo, error) {
	if err := s.Require(ctx, Application("privileges", "read")); err != nil {
		return PrivilegeInfo{}, err
	}
	return s.privilege(name)
}

func (s *Service) privilege(name string) (PrivilegeInfo, error) {
	for _, b := range s.builtins() {
		if b.Name == name {
			return b, nil
		}
	}
	p, err := s.db.GetPrivilege(name)
	if err != nil {
		return PrivilegeInfo{}, err
	}
	return PrivilegeInfo{Privilege: *p}, nil
}

// CreatePrivilege validates and stores p; its name may be neither a
// built-in's nor a stored one's.
func (s *Service) CreatePrivilege(ctx context.Context, p *meta.Privilege) error {
	if err := s.Require(ctx, Application("privileges", "create")); err != nil {
		return err
	}
	if err := s.checkPrivilege(p); err != nil {
		return err
	}
	if _, err := s.privilege(p.Name); err == nil {
		return fieldError("name", "Privilege '"+p.Name+"' already exists, use a unique name")
	} else if errs.KindOf(err) != errs.NotFound {
		return err
	}
	// Names of the built-in pattern (nx-repository-view-raw-later-read)
	// stay theirs: one name must never mean two things once a repository
	// they name appears.
	if _, err := ParsePrivilege(p.Name); err == nil {
		return fieldError("name", "Privilege '"+p.Name+"' has the form of a built-in privilege's name, use another name")
	}
	if err := s.db.CreatePrivilege(p); err != nil {
		return err
	}
	s.record(ctx, "security.privilege", "created", p.Name, privilegeAttrs(p))
	return nil
}

// UpdatePrivilege replaces the stored privilege p.Name, which must keep
// its type. Built-in privileges cannot be changed. The security generation
// moves on, so principals holding it see the change.
func (s *Service) UpdatePrivilege(ctx context.Context, p *meta.Privilege) error {
	if err := s.Require(ctx, Application("privileges", "update")); err != nil {
		return err
	}
	old, err := s.privilege(p.Name)
	if err != nil {
		return err
	}
	if old.ReadOnly {
		return errs.New(errs.Invalid, "privilege %q is read-only", p.Name)
	}
	if old.Type != p.Type {
		return fieldError("type", "privilege "+p.Name+" is of type "+old.Type+", not "+p.Type)
	}
	if err := s.checkPrivilege(p); err != nil {
		return err
	}
	if err := s.db.PutPrivilege(p); err != nil {
		return err
	}
	s.record(ctx, "security.privilege", "updated", p.Name, privilegeAttrs(p))
	return nil
}

// DeletePrivilege deletes a stored privilege and removes it from the roles
// holding it, as Nexus does. Built-in privileges cannot be deleted.
func (s *Service) DeletePrivilege(ctx context.Context, name string) error {
	if err := s.Require(ctx, Application("privileges", "delete")); err != nil {
		return err
	}
	old, err := s.privilege(name)
	if err != nil {
		return err
	}
	if old.ReadOnly {
		return errs.New(errs.Invalid, "privilege %q is read-only", name)
	}
	if err := s.db.DeletePrivilege(name); err != nil {
		return err
	}
	s.record(ctx, "security.privilege", "deleted", name, map[string]string{"name": name, "type": old.Type})
	return nil
}

// Actions each privilege type takes, as the REST API spells them.
var typeActions = map[string][]string{
	TypeRepositoryView:  {"BROWSE", "READ", "EDIT", "ADD", "DELETE", "ALL"},
	TypeRepositoryAdmin: {"BROWSE", "READ", "EDIT", "ADD", "DELETE", "ALL"},
	TypeContentSelector: {"BROWSE", "READ", "EDIT", "ADD", "DELETE", "ALL"},
	TypeScript:          {"BROWSE", "READ", "EDIT", "ADD", "DELETE", "RUN", "ALL"},
}

// applicationAction: application actions are words (Nexus takes any).
var applicationAction = regexp.MustCompile(`^[A-Za-z]+$`)

// checkPrivilege validates p for its type, including that its content
// selector exists (the store checks that again as it writes), and
// normalizes its actions to upper case; fields other types use are
// cleared.
func (s *Service) checkPrivilege(p *meta.Privilege) error {
	if !privilegeName.MatchString(p.Name) {
		return fieldError("name", "Only letters, digits, underscores(_), hyphens(-), and dots(.) are allowed and may not start with underscore or dot.")
	}
	for i, a := range p.Actions {
		p.Actions[i] = strings.ToUpper(a)
	}
	checkActions := func() error {
		if len(p.Actions) == 0 {
			return fieldError("actions", "may not be empty")
		}
		allowed, fixed := typeActions[p.Type]
		for _, a := range p.Actions {
			if fixed && !slices.Contains(allowed, a) || !fixed && !applicationAction.MatchString(a) {
				return fieldError("actions", "unknown action "+a)
			}
		}
		return nil
	}
	rec := meta.Privilege{Name: p.Name, Type: p.Type, Description: p.Description, Actions: p.Actions}
	switch p.Type {
	case TypeApplication:
		if !domainField.MatchString(p.Domain) {
			return fieldError("domain", "must be a domain name such as users or blobstores")
		}
		rec.Domain = p.Domain
	case TypeRepositoryView, TypeRepositoryAdmin, TypeContentSelector:
		if !formatField.MatchString(p.Format) {
			return fieldError("format", "must be a format name or *")
		}
		if !repoField.MatchString(p.Repository) {
			return fieldError("repository", "must be a repository name or *")
		}
		rec.Format, rec.Repository = p.Format, p.Repository
		if p.Type == TypeContentSelector {
			if p.ContentSelector == "" {
				return fieldError("contentSelector", "may not be empty")
			}
			if _, err := s.db.GetContentSelector(p.ContentSelector); errs.KindOf(err) == errs.NotFound {
				return fieldError("contentSelector", "content selector "+p.ContentSelector+" does not exist")
			} else if err != nil {
				return err
			}
			rec.ContentSelector = p.ContentSelector
		}
	case TypeWildcard:
		if p.Pattern == "" {
			return fieldError("pattern", "may not be empty")
		}
		rec.Pattern, rec.Actions = p.Pattern, nil
		*p = rec
		return nil
	case TypeScript:
		if !repoField.MatchString(p.ScriptName) {
			return fieldError("scriptName", "must be a script name or *")
		}
		rec.ScriptName = p.ScriptName
	default:
		return fieldError("type", "unknown privilege type "+p.Type)
	}
	if err := checkActions(); err != nil {
		return err
	}
	*p = rec
	return nil
}

// privilegeKnown reports whether name may be held by a role: a stored
// privilege or a name ParsePrivilege takes.
func (s *Service) privilegeKnown(name string) error {
	if _, err := ParsePrivilege(name); err == nil {
		return nil
	}
	_, err := s.db.GetPrivilege(name)
	if errs.KindOf(err) == errs.NotFound {
		return errs.New(errs.Invalid, "privilege %q does not exist", name)
	}
	return err
}

// ListContentSelectors returns the content selectors by name.
func (s *Service) ListContentSelectors(ctx context.Context) ([]*meta.ContentSelector, error) {
	if err := s.Require(ctx, Application("selectors", "read")); err != nil {
		return nil, err
	}
	return s.db.ContentSelectors()
}

// GetContentSelector returns the selector name, or errs.NotFound.
func (s *Service) GetContentSelector(ctx context.Context, name string) (*meta.ContentSelector, error) {
	if err := s.Require(ctx, Application("selectors", "read")); err != nil {
		return nil, err
	}
	return s.db.GetContentSelector(name)
}

// CreateContentSelector validates (the name, the CSEL expression) and
// stores sel.
func (s *Service) CreateContentSelector(ctx context.Context, sel *meta.ContentSelector) error {
	if err := s.Require(ctx, Application("selectors", "create")); err != nil {
		return err
	}
	if !privilegeName.MatchString(sel.Name) {
		return fieldError("name", "Only letters, digits, underscores(_), hyphens(-), and dots(.) are allowed and may not start with underscore or dot.")
	}
	if err := checkExpression(sel.Expression); err != nil {
		return err
	}
	if _, err := s.db.GetContentSelector(sel.Name); err == nil {
		return fieldError("name", "Content selector '"+sel.Name+"' already exists")
	}
	if err := s.db.CreateContentSelector(sel); err != nil {
		return err
	}
	s.record(ctx, "security.selector", "created", sel.Name, selectorAttrs(sel))
	return nil
}

// UpdateContentSelector replaces the description and expression of the
// selector sel.Name; the privileges using it select by the new one at
// once (the security generation moves on).
func (s *Service) UpdateContentSelector(ctx context.Context, sel *meta.ContentSelector) error {
	if err := s.Require(ctx, Application("selectors", "update")); err != nil {
		return err
	}
	if err := checkExpression(sel.Expression); err != nil {
		return err
	}
	if err := s.db.PutContentSelector(sel); err != nil {
		return err
	}
	s.record(ctx, "security.selector", "updated", sel.Name, selectorAttrs(sel))
	return nil
}

// DeleteContentSelector deletes the selector name; one in use by a
// privilege is refused (errs.Invalid).
func (s *Service) DeleteContentSelector(ctx context.Context, name string) error {
	if err := s.Require(ctx, Application("selectors", "delete")); err != nil {
		return err
	}
	if err := s.db.DeleteContentSelector(name); err != nil {
		return err
	}
	s.record(ctx, "security.selector", "deleted", name, map[string]string{"name": name})
	return nil
}

func checkExpression(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return fieldError("expression", "may not be empty")
	}
	if _, err := csel.Parse(expr); err != nil {
		return fieldError("expression", "Invalid CSEL: "+err.Error())
	}
	return nil
}
