package auth

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind is the type of a privilege, as Nexus types its privileges.
type Kind uint8

// Privilege kinds.
const (
	// KindAll is nx-all: every permission.
	KindAll Kind = iota + 1
	// KindRepositoryView is nx-repository-view-<format>-<repository>-<action>:
	// content (browse, read, add, edit, delete).
	KindRepositoryView
	// KindRepositoryAdmin is nx-repository-admin-<format>-<repository>-<action>:
	// configuration (read, add, edit, delete).
	KindRepositoryAdmin
	// KindApplication is nx-<domain>-<action> (nx-users-read,
	// nx-metrics-all), or nx-<domain> for the few without an action
	// (nx-userschangepw).
	KindApplication
	// KindScript is nx-script-<script>-<action>: the stored scripts of
	// the script API (browse, read, add, edit, delete, run; this server
	// runs none, so run allows nothing).
	KindScript
)

// Any is the wildcard of a privilege field.
const Any = "*"

// AllPrivileges is the privilege that grants every permission.
const AllPrivileges = "nx-all"

// Privilege is a privilege name taken apart into its fields. Granted
// privileges may have Any in a field; a required one only does to ask for
// every value of it (listing all scripts needs nx-script-*-browse), which
// only a granted Any covers. Matching compares field by field, so "-"
// inside a repository name can never let a privilege for one repository
// cover another (raw-h against raw-h-secret).
type Privilege struct {
	Kind   Kind
	Format string // repository kinds
	Repo   string // repository kinds
	Domain string // application kind
	Script string // script kind
	Action string // "" only for application privileges without an action
}

const (
	viewPrefix   = "nx-repository-view-"
	adminPrefix  = "nx-repository-admin-"
	scriptPrefix = "nx-script-"
)

var (
	// formatField: format names are lower-case words without '-'.
	formatField = regexp.MustCompile(`^([a-z0-9]+|\*)$`)
	// repoField: repository names as the engine allows them, or Any;
	// script names follow the same rule.
	repoField = regexp.MustCompile(`^([A-Za-z0-9-][A-Za-z0-9._-]*|\*)$`)
	// actionField: a lower-case action word, or Any.
	actionField = regexp.MustCompile(`^([a-z]+|\*)$`)
	// domainField: an application domain, words joined by '-'.
	domainField = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// RepositoryView is the content privilege for action on a repository.
func RepositoryView(format, repo, action string) Privilege {
	return Privilege{Kind: KindRepositoryView, Format: format, Repo: repo, Action: action}
}

// RepositoryAdmin is the configuration privilege for action on a repository.
func RepositoryAdmin(format, repo, action string) Privilege {
	return Privilege{Kind: KindRepositoryAdmin, Format: format, Repo: repo, Action: action}
}

// Application is the privilege nx-<domain>-<action>, or nx-<domain> when
// action is empty.
func Application(domain, action string) Privilege {
	return Privilege{Kind: KindApplication, Domain: domain, Action: action}
}

// Script is the privilege for action on the stored script name.
func Script(name, action string) Privilege {
	return Privilege{Kind: KindScript, Script: name, Action: action}
}

// ParsePrivilege takes a privilege name apart. Repository privileges have
// exactly a format (no '-'), a repository name and an action, each of which
// may be "*"; script privileges a script name and an action; application
// privileges have a domain and, after its last '-', an action ("all" and
// "*" mean every action).
func ParsePrivilege(name string) (Privilege, error) {
	if name == AllPrivileges {
		return Privilege{Kind: KindAll}, nil
	}
	for _, k := range []struct {
		prefix string
		kind   Kind
	}{{viewPrefix, KindRepositoryView}, {adminPrefix, KindRepositoryAdmin}} {
		prefix, kind := k.prefix, k.kind
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		format, rest, ok1 := strings.Cut(rest, "-")
		i := strings.LastIndexByte(rest, '-')
		if !ok1 || i < 0 {
			return Privilege{}, fmt.Errorf("privilege %q: want %s<format>-<repository>-<action>", name, prefix)
		}
		p := Privilege{Kind: kind, Format: format, Repo: rest[:i], Action: rest[i+1:]}
		if !formatField.MatchString(p.Format) || !repoField.MatchString(p.Repo) || !actionField.MatchString(p.Action) {
			return Privilege{}, fmt.Errorf("privilege %q: format, repository and action must each be a name or *", name)
		}
		return p, nil
	}
	if rest, ok := strings.CutPrefix(name, scriptPrefix); ok {
		i := strings.LastIndexByte(rest, '-')
		if i < 0 || !repoField.MatchString(rest[:i]) || !actionField.MatchString(rest[i+1:]) {
			return Privilege{}, fmt.Errorf("privilege %q: want %s<script>-<action>, each a name or *", name, scriptPrefix)
		}
		return Script(rest[:i], rest[i+1:]), nil
	}
	rest, ok := strings.CutPrefix(name, "nx-")
	if strings.HasPrefix(rest, "repository-") {
		return Privilege{}, fmt.Errorf("privilege %q: repository privileges are nx-repository-view-… or nx-repository-admin-…", name)
	}
	p := Application(rest, "")
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		p = Application(rest[:i], rest[i+1:])
	}
	// An action-less name has no '-' after the prefix, so it reads back
	// the same (nx-userschangepw); a trailing '-' names no action.
	if !ok || !domainField.MatchString(p.Domain) || (strings.Contains(rest, "-") && !actionField.MatchString(p.Action)) {
		return Privilege{}, fmt.Errorf("privilege %q is not a privilege name", name)
	}
	return p, nil
}

// String is the privilege's name; ParsePrivilege(p.String()) gives p back.
func (p Privilege) String() string {
	switch p.Kind {
	case KindAll:
		return AllPrivileges
	case KindRepositoryView:
		return viewPrefix + p.Format + "-" + p.Repo + "-" + p.Action
	case KindRepositoryAdmin:
		return adminPrefix + p.Format + "-" + p.Repo + "-" + p.Action
	case KindScript:
		return scriptPrefix + p.Script + "-" + p.Action
	case KindApplication:
		if p.Action == "" {
			return "nx-" + p.Domain
		}
		return "nx-" + p.Domain + "-" + p.Action
	}
	return ""
}

// Grants reports whether holding p gives the permission want: same kind,
// and each field equal or "*" in p.
func (p Privilege) Grants(want Privilege) bool {
	switch {
	case p.Kind == KindAll:
		return true
	case p.Kind != want.Kind:
		return false
	case p.Kind == KindApplication:
		return p.Domain == want.Domain &&
			(p.Action == want.Action || ((p.Action == Any || p.Action == "all") && want.Action != ""))
	case p.Kind == KindScript:
		return field(p.Script, want.Script) && field(p.Action, want.Action)
	}
	return field(p.Format, want.Format) && field(p.Repo, want.Repo) && field(p.Action, want.Action)
}

func field(granted, wanted string) bool { return granted == Any || granted == wanted }
