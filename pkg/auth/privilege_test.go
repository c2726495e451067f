package auth

import (
	"strings"
	"testing"
)

func TestParsePrivilege(t *testing.T) {
	tests := []struct {
		name string
		want Privilege
	}{
		{"nx-all", Privilege{Kind: KindAll}},
		{"nx-repository-view-raw-raw-h-read", RepositoryView("raw", "raw-h", "read")},
		{"nx-repository-view-raw-raw-h-*", RepositoryView("raw", "raw-h", Any)},
		{"nx-repository-view-*-*-browse", RepositoryView(Any, Any, "browse")},
		{"nx-repository-view-docker-a-b-c-d-delete", RepositoryView("docker", "a-b-c-d", "delete")},
		{"nx-repository-admin-maven2-releases-edit", RepositoryAdmin("maven2", "releases", "edit")},
		{"nx-users-read", Application("users", "read")},
		{"nx-metrics-all", Application("metrics", "all")},
		{"nx-roles-*", Application("roles", Any)},
		{"nx-userschangepw", Application("userschangepw", "")},
		{"nx-ldap-settings-read", Application("ldap-settings", "read")},
		{"nx-script-*-browse", Script(Any, "browse")},
		{"nx-script-set-up.v2-run", Script("set-up.v2", "run")},
		{"nx-script-*-*", Script(Any, Any)},
	}
	for _, tt := range tests {
		got, err := ParsePrivilege(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("ParsePrivilege(%q) = %+v, %v; want %+v", tt.name, got, err, tt.want)
			continue
		}
		if got.String() != tt.name {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tt.name)
		}
	}
	for _, bad := range []string{
		"", "nx-", "all", "priv-a", "nx-repository-view-raw-read", "nx-repository-view-raw",
		"nx-repository-view-Raw-r-read", "nx-repository-view-raw-raw-*-read", "nx-repository-view-raw-r-Read",
		"nx-repository-view-raw-.r-read", "nx-repository-other-raw-r-read", "nx-*", "nx-users-re*d",
		"nx-Users-read", "nx-users--read", "nx-repository-view-raw-r-read ", "nx-users-", "nx-0-0-",
		"nx-script-x", "nx-script--read", "nx-script-_x-read", "nx-script-x-Run",
	} {
		if p, err := ParsePrivilege(bad); err == nil {
			t.Errorf("ParsePrivilege(%q) = %+v, want an error", bad, p)
		}
	}
}

// TestPrivilegeMatchingIsStructural is the reported defect: a grant on
// repository raw-h must not cover raw-h-secret, although the one name is a
// prefix of the other and "-" may appear in repository names.
func TestPrivilegeMatchingIsStructural(t *testing.T) {
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"nx-repository-view-raw-raw-h-*", "nx-repository-view-raw-raw-h-read", true},
		{"nx-repository-view-raw-raw-h-*", "nx-repository-view-raw-raw-h-secret-read", false},
		{"nx-repository-view-raw-raw-h-read", "nx-repository-view-raw-raw-h-secret-read", false},
		{"nx-repository-admin-raw-raw-h-*", "nx-repository-admin-raw-raw-h-secret-edit", false},
		{"nx-repository-view-raw-raw-*", "nx-repository-view-raw-raw-h-read", false},
		{"nx-repository-view-raw-*-read", "nx-repository-view-raw-raw-h-read", true},
		{"nx-repository-view-raw-*-read", "nx-repository-view-docker-raw-h-read", false},
		{"nx-repository-view-*-raw-h-read", "nx-repository-view-docker-raw-h-read", true},
		{"nx-repository-view-*-*-*", "nx-repository-view-docker-d-delete", true},
		{"nx-repository-view-*-*-*", "nx-repository-admin-docker-d-delete", false},
		{"nx-repository-admin-*-*-*", "nx-repository-view-docker-d-read", false},
		{"nx-all", "nx-repository-admin-docker-d-delete", true},
		{"nx-users-all", "nx-users-delete", true},
		{"nx-users-*", "nx-users-delete", true},
		{"nx-users-read", "nx-users-delete", false},
		{"nx-users-all", "nx-userschangepw", false},
		{"nx-userschangepw", "nx-userschangepw", true},
		{"nx-healthcheck-read", "nx-metrics-read", false},
		{"nx-metrics-all", "nx-metrics-read", true},
		{"nx-search-read", "nx-search-read", true},
		{"nx-repository-view-raw-h-read", "nx-repository-view-raw-h-secret-read", false},
		{"nx-script-a-*", "nx-script-a-b-read", false},
		{"nx-script-*-read", "nx-script-a-b-read", true},
		{"nx-script-a-read", "nx-script-a-edit", false},
		{"nx-script-*-*", "nx-repository-view-raw-r-read", false},
	}
	for _, tt := range tests {
		g, err1 := ParsePrivilege(tt.granted)
		w, err2 := ParsePrivilege(tt.wanted)
		if err1 != nil || err2 != nil {
			t.Fatalf("parse %q, %q: %v, %v", tt.granted, tt.wanted, err1, err2)
		}
		if got := g.Grants(w); got != tt.want {
			t.Errorf("%s grants %s = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}

// FuzzPrivilege checks the matcher's invariants on any pair of names:
// parsing round-trips, a grant without wildcards covers exactly itself,
// and widening a field to "*" never loses a permission.
func FuzzPrivilege(f *testing.F) {
	for _, s := range [][2]string{
		{"nx-repository-view-raw-raw-h-*", "nx-repository-view-raw-raw-h-secret-read"},
		{"nx-repository-admin-*-a-b-*", "nx-repository-admin-docker-a-b-edit"},
		{"nx-users-all", "nx-users-read"},
		{"nx-all", "nx-userschangepw"},
		{"nx-repository-view-raw--*", "nx-repository-view-raw---read"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, granted, wanted string) {
		g, err := ParsePrivilege(granted)
		if err != nil {
			return
		}
		if back, err := ParsePrivilege(g.String()); err != nil || back != g {
			t.Fatalf("%q parses to %+v, whose name %q parses to %+v, %v", granted, g, g.String(), back, err)
		}
		w, err := ParsePrivilege(wanted)
		if err != nil || strings.Contains(wanted, Any) || w.Action == "all" || w.Kind == KindAll {
			return // required privileges are concrete
		}
		grants := g.Grants(w)
		concrete := g.Kind != KindAll && !strings.Contains(granted, Any) && g.Action != "all"
		if concrete && grants != (g == w) {
			t.Fatalf("concrete %q grants %q = %v", granted, wanted, grants)
		}
		if grants && g.Kind != KindAll && g.Kind != w.Kind {
			t.Fatalf("%q grants %q of another kind", granted, wanted)
		}
		if grants && (g.Kind == KindRepositoryView || g.Kind == KindRepositoryAdmin) {
			for _, f := range [][2]string{{g.Format, w.Format}, {g.Repo, w.Repo}, {g.Action, w.Action}} {
				if f[0] != Any && f[0] != f[1] {
					t.Fatalf("%q grants %q although field %q differs from %q", granted, wanted, f[0], f[1])
				}
			}
		}
		for _, widened := range []Privilege{
			{Kind: g.Kind, Format: Any, Repo: g.Repo, Domain: g.Domain, Action: g.Action},
			{Kind: g.Kind, Format: g.Format, Repo: Any, Domain: g.Domain, Action: g.Action},
			{Kind: g.Kind, Format: g.Format, Repo: g.Repo, Domain: g.Domain, Action: Any},
		} {
			if g.Kind == KindApplication || g.Kind == KindAll {
				break
			}
			if grants && !widened.Grants(w) {
				t.Fatalf("widening %q to %s loses %q", granted, widened, wanted)
			}
		}
	})
}
