package main

// Content selector privileges on every route that reads, writes, lists or
// deletes content, for every format in accessFormats: a user whose only
// content privilege is a selector on the "team" area of one repository
// works there and finds nothing of the rest.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

func TestContentSelectorRoutes(t *testing.T) {
	s := startServer(t)
	for _, f := range accessFormats {
		t.Run(f.name, func(t *testing.T) {
			// The subtests run one after another: the server's helpers
			// fail the one running.
			parent := s.t
			s.t = t
			defer func() { s.t = parent }()
			repo := "sel-" + f.name
			mustCreate(s, f, "hosted", f.hosted(t, repo))
			if status, _ := f.store(t, s, s.admin(), repo, "other"); status/100 != 2 {
				t.Fatalf("admin storing the other area: %d", status)
			}
			team := f.areaPrefix("team")
			sel := map[string]string{"name": "sel-" + f.name, "description": "team area",
				"expression": `format == "` + f.name + `" and path =^ "` + team + `"`}
			s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/security/content-selectors", s.admin(), sel, nil)
			priv := map[string]any{"name": "priv-" + f.name, "description": "team area of " + repo,
				"actions": []string{"BROWSE", "READ", "ADD", "EDIT", "DELETE"}, "format": f.name,
				"repository": repo, "contentSelector": sel["name"]}
			s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/privileges/repository-content-selector", s.admin(), priv, nil)
			// nx-search-read grants no content: it lets search be checked.
			s.createRole("team-"+f.name, "priv-"+f.name, "nx-search-read")
			s.createUser("team-"+f.name, "team-Passw0rd", "team-"+f.name)
			user := &creds{"team-" + f.name, "team-Passw0rd"}

			inTeam := func(p string) bool { return strings.HasPrefix("/"+p, team) }
			status, teamPath := f.store(t, s, user, repo, "team")
			if status/100 != 2 {
				t.Fatalf("storing in the team area: %d", status)
			}
			if status, _ := f.store(t, s, user, repo, "outside"); status/100 == 2 {
				t.Errorf("storing outside the team area: %d, want a refusal", status)
			}
			all := s.assets(repo)
			var other asset
			for _, a := range all {
				if strings.Contains(a.Path, "outside") {
					t.Errorf("a refused write stored %s", a.Path)
				}
				if !inTeam(a.Path) && other.ID == "" {
					other = a
				}
			}
			if other.ID == "" {
				t.Fatalf("no asset outside the team area among %v", all)
			}

			// Reads on the repository route and the format's own.
			routes := []func(p string) string{func(p string) string { return "/repository/" + repo + "/" + p }}
			if f.mainPort != nil {
				routes = append(routes, func(p string) string { return f.mainPort(repo, p) })
			}
			for _, route := range routes {
				if res := s.do(http.MethodGet, route(teamPath), user, nil, nil); res.status != http.StatusOK {
					t.Errorf("GET %s: %d, want 200", route(teamPath), res.status)
				}
				if res := s.do(http.MethodGet, route(other.Path), user, nil, nil); res.status != http.StatusForbidden && res.status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 403 or 404", route(other.Path), res.status)
				}
			}

			// Folder listings show the team area only.
			listed := listTree(t, s, user, repo, "")
			if len(listed) == 0 {
				t.Errorf("the folder listing shows nothing")
			}
			for _, p := range listed {
				if !inTeam(p) {
					t.Errorf("the folder listing shows %s", p)
				}
			}

			// The REST API: repositories, assets, components, search.
			var repos []struct{ Name string }
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", user, nil, &repos)
			if len(repos) != 1 || repos[0].Name != repo {
				t.Errorf("GET /v1/repositories: %v, want only %s", repos, repo)
			}
			assets, _ := listAllAs[asset](s, user, "/v1/assets?repository="+repo)
			checkAssets(t, "GET /v1/assets", assets, inTeam)
			for _, route := range []string{"/v1/components?repository=", "/v1/search?repository="} {
				comps, _ := listAllAs[component](s, user, route+repo)
				if len(comps) == 0 {
					t.Errorf("%s%s: no components", route, repo)
				}
				for _, c := range comps {
					checkAssets(t, route+" component "+c.Name, c.Assets, inTeam)
				}
			}
			found, _ := listAllAs[asset](s, user, "/v1/search/assets?repository="+repo)
			checkAssets(t, "GET /v1/search/assets", found, inTeam)
			if res := s.do(http.MethodGet, "/service/rest/v1/assets/"+other.ID, user, nil, nil); res.status != http.StatusNotFound {
				t.Errorf("GET the asset %s: %d, want 404", other.Path, res.status)
			}
			if res := s.do(http.MethodDelete, "/service/rest/v1/assets/"+other.ID, user, nil, nil); res.status != http.StatusNotFound {
				t.Errorf("DELETE the asset %s: %d, want 404", other.Path, res.status)
			}
			if res := s.do(http.MethodDelete, "/service/rest/v1/assets/"+assets[0].ID, user, nil, nil); res.status != http.StatusNoContent {
				t.Errorf("DELETE the asset %s: %d, want 204", assets[0].Path, res.status)
			}
			if res := s.do(http.MethodGet, "/service/rest/v1/assets/"+other.ID, s.admin(), nil, nil); res.status != http.StatusOK {
				t.Errorf("the asset %s after the refused delete: %d", other.Path, res.status)
			}
		})
	}
}

// TestContentSelectorDocker drives a real client (crane, Docker's token
// flow on a connector port) as a user whose only privilege selects the
// images under team/: it pushes and pulls there, is denied elsewhere and
// the catalog shows its images only.
func TestContentSelectorDocker(t *testing.T) {
	s := startServer(t)
	port := testproc.FreePort(t)
	createDockerHosted(s, "sel-crane", port)
	host := "127.0.0.1:" + strconv.Itoa(port)
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(layer, tarLayer(t, 1024, 7), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := newCrane(t, s.admin().user, s.admin().pass, host)
	admin.must(t, "append", "--insecure", "-f", layer, "-t", host+"/other/app:1")
	sel := map[string]string{"name": "team-images", "expression": `format == "docker" and path =^ "/v2/team/"`}
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/security/content-selectors", s.admin(), sel, nil)
	priv := map[string]any{"name": "team-images-rw", "actions": []string{"ALL"}, "format": "docker",
		"repository": "*", "contentSelector": "team-images"}
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/privileges/repository-content-selector", s.admin(), priv, nil)
	s.createRole("team-images", "team-images-rw")
	s.createUser("crane-user", "crane-Passw0rd", "team-images")
	user := newCrane(t, "crane-user", "crane-Passw0rd", host)

	user.must(t, "append", "--insecure", "-f", layer, "-t", host+"/team/app:1")
	user.must(t, "digest", "--insecure", host+"/team/app:1")
	if out, err := user.run("append", "--insecure", "-f", layer, "-t", host+"/elsewhere/app:1"); err == nil {
		t.Errorf("pushing elsewhere/app succeeded:\n%s", out)
	}
	if out, err := user.run("digest", "--insecure", host+"/other/app:1"); err == nil {
		t.Errorf("pulling other/app succeeded:\n%s", out)
	}
	if out := user.must(t, "catalog", "--insecure", host); !slices.Equal(strings.Fields(out), []string{"team/app"}) {
		t.Errorf("the catalog shows %q, want team/app only", out)
	}
}

// checkAssets fails unless assets is not empty and every asset is in the
// area.
func checkAssets(t *testing.T, what string, assets []asset, inArea func(string) bool) {
	t.Helper()
	if len(assets) == 0 {
		t.Errorf("%s: no assets", what)
	}
	for _, a := range assets {
		if !inArea(a.Path) {
			t.Errorf("%s shows %s", what, a.Path)
		}
	}
}

// listTree returns the file paths of the folder listings of repo from dir
// down, as c sees them.
func listTree(t *testing.T, s *nexusServer, c *creds, repo, dir string) []string {
	t.Helper()
	target := "/repository/" + repo + "/"
	if dir != "" {
		target += (&url.URL{Path: dir}).EscapedPath() + "/"
	}
	res := s.do(http.MethodGet, target, c, nil, http.Header{"Accept": {"application/json"}})
	if res.status != http.StatusOK {
		t.Fatalf("listing %s: %d %s", target, res.status, res.body)
	}
	var entries []struct{ Path, Type string }
	if err := json.Unmarshal(res.body, &entries); err != nil {
		t.Fatalf("listing %s: %v", target, err)
	}
	var out []string
	for _, e := range entries {
		if e.Type == "folder" {
			out = append(out, listTree(t, s, c, repo, e.Path)...)
		} else {
			out = append(out, e.Path)
		}
	}
	return out
}
