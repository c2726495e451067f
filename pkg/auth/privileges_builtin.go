package auth

import (
	"fmt"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Privilege types, as the REST API names them.
const (
	TypeApplication     = "application"
	TypeRepositoryView  = "repository-view"
	TypeRepositoryAdmin = "repository-admin"
	TypeContentSelector = "repository-content-selector"
	TypeWildcard        = "wildcard"
	TypeScript          = "script"
)

// PrivilegeInfo is a privilege as the REST API shows it: a stored one, or
// a built-in one (ReadOnly), which cannot be changed or deleted.
type PrivilegeInfo struct {
	meta.Privilege
	ReadOnly bool
}

// RepositoryRef names a repository, for the per-repository built-in
// privileges.
type RepositoryRef struct{ Format, Name string }

// builtinFormats are the formats Nexus lists privileges for, whether or
// not this server serves them: clients look the names up (Terraform
// data sources), and a role may hold them.
var builtinFormats = []string{"apt", "bower", "cocoapods", "conan", "conda", "docker", "gitlfs", "go", "helm",
	"maven2", "npm", "nuget", "p2", "pypi", "r", "raw", "rubygems", "yum"}

// builtinDomains are Nexus's application privileges: the domain, its
// label in descriptions and its actions ("all" is nx-<domain>-all).
var builtinDomains = []struct {
	domain, label string
	actions       []string
}{
	{"analytics", "Analytics", []string{"all"}},
	{"apikey", "APIKey", []string{"all"}},
	{"atlas", "Atlas", []string{"all", "create", "read", "update", "delete"}},
	// Not Nexus's (its audit log has no REST endpoint): the one
	// /v1/audit checks.
	{"audit", "Audit", []string{"all", "read"}},
	{"blobstores", "Blob Stores", []string{"all", "create", "read", "update", "delete"}},
	{"bundles", "Bundles", []string{"all", "read"}},
	{"capabilities", "Capabilities", []string{"all", "create", "read", "update", "delete"}},
	// Not Nexus's (it has no privilege of its own for cleanup policies):
	// the one the cleanup policies endpoints check.
	{"cleanup", "Cleanup Policies", []string{"all", "create", "read", "update", "delete"}},
	{"component", "Component", []string{"upload"}},
	{"datastores", "Datastores", []string{"all", "create", "read", "update", "delete"}},
	{"healthcheck", "Healthcheck", []string{"read"}},
	{"ldap", "LDAP", []string{"all", "create", "read", "update", "delete"}},
	{"licensing", "Licensing", []string{"all", "create", "read", "uninstall"}},
	{"logging", "Logging", []string{"all", "read", "update"}},
	{"metrics", "Metrics", []string{"all", "read"}},
	{"privileges", "Privileges", []string{"all", "create", "read", "update", "delete"}},
	{"roles", "Roles", []string{"all", "create", "read", "update", "delete"}},
	{"search", "Search", []string{"read"}},
	{"selectors", "Content Selectors", []string{"all", "create", "read", "update", "delete"}},
	{"settings", "Settings", []string{"all", "read", "update"}},
	{"ssl-truststore", "SSL Truststore", []string{"all", "create", "read", "update", "delete"}},
	{"tasks", "Tasks", []string{"all", "create", "read", "update", "delete", "start", "stop", "run"}},
	{"users", "Users", []string{"all", "create", "read", "update", "delete"}},
	{"wonderland", "Wonderland", []string{"all"}},
}

// scriptActions are the built-in script privileges' actions.
var scriptActions = []string{"*", "browse", "read", "edit", "add", "delete", "run"}

var viewActionsAll = []string{"*", "browse", "read", "edit", "add", "delete"}

// builtinPrivileges lists Nexus's built-in privileges for repos, sorted
// as Nexus returns them (by name).
func builtinPrivileges(repos []RepositoryRef) []PrivilegeInfo {
	out := []PrivilegeInfo{{ReadOnly: true, Privilege: meta.Privilege{Name: AllPrivileges, Type: TypeWildcard,
		Description: "All permissions", Pattern: "nexus:*"}}}
	for _, d := range builtinDomains {
		for _, a := range d.actions {
			out = append(out, PrivilegeInfo{ReadOnly: true, Privilege: meta.Privilege{
				Name: "nx-" + d.domain + "-" + a, Type: TypeApplication, Domain: d.domain,
				Description: applicationDescription(a, d.label), Actions: impliedActions(a)}})
		}
	}
	out = append(out, PrivilegeInfo{ReadOnly: true, Privilege: meta.Privilege{Name: "nx-userschangepw",
		Type: TypeApplication, Domain: "userschangepw", Description: "Change password permission",
		Actions: []string{"CREATE", "READ"}}})
	for _, a := range scriptActions {
		out = append(out, PrivilegeInfo{ReadOnly: true, Privilege: meta.Privilege{
			Name: "nx-script-*-" + a, Type: TypeScript, ScriptName: Any,
			Description: applicationDescription(a, "Scripts"), Actions: impliedActions(a)}})
	}
	add := func(format, repo string) {
		for _, a := range viewActionsAll {
			for _, t := range []string{TypeRepositoryView, TypeRepositoryAdmin} {
				p := RepositoryView(format, repo, a)
				what := "repository views"
				if t == TypeRepositoryAdmin {
					p, what = RepositoryAdmin(format, repo, a), "repository administration"
				}
				out = append(out, PrivilegeInfo{ReadOnly: true, Privilege: meta.Privilege{
					Name: p.String(), Type: t, Format: format, Repository: repo,
					Description: fmt.Sprintf("%s privilege for %s %s", actionLabel(a), repositoryLabel(format, repo), what),
					Actions:     []string{actionName(a)}}})
			}
		}
	}
	add(Any, Any)
	for _, f := range builtinFormats {
		add(f, Any)
	}
	for _, r := range repos {
		add(r.Format, r.Name)
	}
	return out
}

// applicationDescription is Nexus's description: "All permissions for
// Users", "Read permission for Users".
func applicationDescription(action, label string) string {
	if action == "all" || action == Any {
		return "All permissions for " + label
	}
	return actionLabel(action) + " permission" + plural(label) + " for " + label
}

// plural: Nexus says "Add permissions for Scripts" but "Read permission
// for Users"; only the script privileges say "permissions".
func plural(label string) string {
	if label == "Scripts" {
		return "s"
	}
	return ""
}

func actionLabel(action string) string {
	if action == Any || action == "all" {
		return "All"
	}
	return strings.ToUpper(action[:1]) + action[1:]
}

func repositoryLabel(format, repo string) string {
	switch {
	case repo != Any:
		return "'" + repo + "'"
	case format == Any:
		return "all"
	}
	return "all '" + format + "'-format"
}

// actionName is an action as the REST API spells it: "*" is ALL.
func actionName(action string) string {
	if action == Any || action == "all" {
		return "ALL"
	}
	return strings.ToUpper(action)
}

// impliedActions are the actions a built-in application or script
// privilege lists: changing implies reading, as in Nexus.
func impliedActions(action string) []string {
	switch action {
	case "all", Any:
		return []string{"ALL"}
	case "read", "browse":
		return []string{actionName(action)}
	}
	return []string{actionName(action), "READ"}
}
