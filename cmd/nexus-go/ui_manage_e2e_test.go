package main

// End-to-end tests of managing through the UI in headless chromium: a
// folder paged in Browse, a repository edited, a form's conflict shown at
// its field, an asset and a repository deleted after confirmation, a user
// disabled, given a new password and deleted, a role with a nested role.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// TestUIManage edits, pages and deletes through the UI and checks each
// change over REST.
func TestUIManage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	s.createRepo("hosted", hostedBody("ui-pages", "allow"))
	const files = 120
	for i := 0; i < files; i++ {
		s.put("ui-pages", fmt.Sprintf("many/f%03d.txt", i), []byte(strconv.Itoa(i)))
	}
	b := newUIBrowser(t, s.base)
	admin := b.session("admin")
	admin.signInAdmin(s)

	t.Run("browse pages", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/browse/ui-pages/many/")
		names := func() []string {
			return eval[[]string](admin, `[...document.querySelectorAll("a.entry")].map(a => a.dataset.name)`)
		}
		first := names()
		admin.must("a#next-page")
		admin.submit("a#next-page")
		second := names()
		admin.absent("a#next-page", "the last page")
		all := append(slices.Clone(first), second...)
		if len(first) == 0 || len(first) >= files || len(all) != files || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != files {
			t.Errorf("two pages of %d files: %d then %d names, in order and distinct: %t", files, len(first), len(second),
				slices.IsSorted(all) && len(slices.Compact(slices.Clone(all))) == len(all))
		}
	})

	t.Run("search pages", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/search?repository=ui-pages&name=" + "many%2F*")
		names := func() []string {
			return eval[[]string](admin, `[...document.querySelectorAll("tr.result")].map(r => r.innerText)`)
		}
		first := names()
		admin.submit("a#next-page")
		second := names()
		admin.absent("a#next-page", "the last page")
		all := append(slices.Clone(first), second...)
		slices.Sort(all)
		if len(first) == 0 || len(first) >= files || len(all) != files || len(slices.Compact(all)) != files {
			t.Errorf("search results for %d files in two pages: %d then %d, distinct %d", files, len(first), len(second), len(slices.Compact(all)))
		}
	})

	t.Run("edit", func(t *testing.T) {
		admin := admin.in(t)
		online := func() bool {
			var cfg struct {
				Online bool `json:"online"`
			}
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/hosted/ui-pages", s.admin(), nil, &cfg)
			return cfg.Online
		}
		admin.open("/ui/repositories/ui-pages")
		admin.setChecked(`#repository-form input[name="online"][type="checkbox"]`, false)
		admin.submit("#save")
		if online() {
			t.Errorf("ui-pages still online after the edit form turned it off")
		}
		admin.open("/ui/repositories/ui-pages")
		if eval[bool](admin, `document.querySelector('#repository-form input[name="online"][type="checkbox"]').checked`) {
			t.Errorf("the edit form shows ui-pages online")
		}
		admin.setChecked(`#repository-form input[name="online"][type="checkbox"]`, true)
		admin.submit("#save")
		if !online() {
			t.Errorf("ui-pages offline after the edit form turned it on")
		}
	})

	t.Run("field conflict", func(t *testing.T) {
		admin := admin.in(t)
		port := testproc.FreePort(t)
		createDockerHosted(s, "ui-port-owner", port)
		admin.open("/ui/repositories/new?format=docker&type=hosted")
		admin.fillRepoForm("ui-port-taker", repoForm{fields: map[string]string{"docker.httpPort": strconv.Itoa(port)}})
		admin.submit("#save")
		admin.must(`.field-error[data-field="docker.httpPort"]`)
		if repoConfig(s, "ui-port-taker") != nil {
			t.Errorf("a repository was made on a port another one has")
		}
	})

	t.Run("delete asset", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/asset/ui-pages/many/f000.txt")
		admin.submit("button#delete-asset")
		admin.submit("button#confirm-delete")
		if res := s.do(http.MethodGet, "/repository/ui-pages/many/f000.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
			t.Errorf("the deleted asset answers %d", res.status)
		}
		s.getExpect("ui-pages", "many/f001.txt", []byte("1"))
	})

	t.Run("delete repository", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/repositories/ui-pages")
		admin.submit("button#delete-repository")
		if repoConfig(s, "ui-pages") == nil {
			t.Fatalf("the repository is gone before the confirmation")
		}
		admin.submit("button#confirm-delete")
		if repoConfig(s, "ui-pages") != nil {
			t.Errorf("ui-pages is still there after the confirmed delete")
		}
		admin.open("/ui/repositories")
		admin.absent(`tr[data-repository="ui-pages"]`, "deleted")
	})

	t.Run("users", func(t *testing.T) {
		admin := admin.in(t)
		s.createRole("ui-temp-role", "nx-search-read")
		s.createUser("temp", "temp-Passw0rd", "ui-temp-role")
		other := b.session("temp").in(t)
		userStatus := func() string {
			var users []struct {
				Status string `json:"status"`
			}
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/users?userId=temp", s.admin(), nil, &users)
			if len(users) != 1 {
				return "missing"
			}
			return users[0].Status
		}
		admin.open("/ui/security/users/temp")
		admin.choose(`#user-form [name="status"]`, "disabled")
		admin.submit("#user-form #save")
		if st := userStatus(); st != "disabled" {
			t.Errorf("status after disabling in the form: %s", st)
		}
		other.signIn("temp", "temp-Passw0rd")
		if other.count("#sign-out") != 0 {
			t.Errorf("a disabled user signed in")
		}
		admin.open("/ui/security/users/temp")
		admin.choose(`#user-form [name="status"]`, "active")
		admin.submit("#user-form #save")
		admin.open("/ui/security/users/temp")
		admin.fill("#reset-password", "temp-New-Passw0rd")
		admin.submit("#save-password")
		if res := s.doJSON(http.MethodGet, "/v1/search?q=nothing", &creds{"temp", "temp-New-Passw0rd"}, nil, nil); res.status != http.StatusOK {
			t.Errorf("REST with the reset password: status %d, want 200", res.status)
		}
		other.signIn("temp", "temp-New-Passw0rd")
		other.must("#sign-out")
		admin.open("/ui/security/users/temp")
		admin.submit("button#delete-user")
		admin.submit("button#confirm-delete")
		if st := userStatus(); st != "missing" {
			t.Errorf("the user after the confirmed delete: %s", st)
		}
		other.open("/ui/repositories")
		if other.count("#sign-out") != 0 {
			t.Errorf("the deleted user's session still signs in")
		}
	})

	t.Run("group order", func(t *testing.T) {
		admin := admin.in(t)
		s.createRepo("hosted", hostedBody("ui-a", "allow"))
		s.createRepo("hosted", hostedBody("ui-b", "allow"))
		members := func() string {
			var cfg struct {
				Group struct {
					MemberNames []string `json:"memberNames"`
				} `json:"group"`
			}
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/group/ui-group", s.admin(), nil, &cfg)
			return strings.Join(cfg.Group.MemberNames, ",")
		}
		// The order numbers, not the checkboxes' order on the page, decide.
		admin.createRepository("raw-group", "ui-group", repoForm{members: []string{"ui-b", "ui-a"}})
		if got := members(); got != "ui-b,ui-a" {
			t.Errorf("the group made with ui-b first: members %s", got)
		}
		// A raw group takes no uploads: its form offers no writable member.
		admin.absent(`#repository-form [name="group.writableMember"]`, "raw groups take no uploads")
		admin.fillRepoForm("", repoForm{members: []string{"ui-a", "ui-b"}})
		admin.submit("#save")
		if got := members(); got != "ui-a,ui-b" {
			t.Errorf("the group reordered to ui-a first: members %s", got)
		}
		// The group serves its members' files.
		s.put("ui-a", "a.txt", []byte("in a"))
		s.getExpect("ui-group", "a.txt", []byte("in a"))
	})

	t.Run("connector port moved", func(t *testing.T) {
		admin := admin.in(t)
		oldPort, newPort := testproc.FreePort(t), testproc.FreePort(t)
		createDockerHosted(s, "ui-moving", oldPort)
		admin.open("/ui/repositories/ui-moving")
		admin.fill(`#repository-form [name="docker.httpPort"]`, strconv.Itoa(newPort))
		admin.submit("#save")
		if st, _, _, err := v2Get(newPort, "/v2/", s.admin()); err != nil || st != http.StatusOK {
			t.Errorf("GET /v2/ on the new port %d: status %d, %v", newPort, st, err)
		}
		if _, _, _, err := v2Get(oldPort, "/v2/", s.admin()); err == nil {
			t.Errorf("the old port %d still answers", oldPort)
		}
	})

	t.Run("upstream credentials", func(t *testing.T) {
		admin := admin.in(t)
		const user, secret = "up-user", "up-S3cret-pw"
		var asked atomic.Int64
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != secret {
				w.Header().Set("WWW-Authenticate", `Basic realm="up"`)
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "from upstream "+r.URL.Path)
		}))
		defer up.Close()
		admin.createRepository("raw-proxy", "ui-proxy", repoForm{fields: map[string]string{
			"proxy.remoteUrl": up.URL + "/", "httpClient.authentication.username": user,
			"httpClient.authentication.password": secret}})
		// Write-only: neither the page nor REST shows it again.
		if html := eval[string](admin, `document.documentElement.outerHTML`); strings.Contains(html, secret) {
			t.Errorf("the repository page shows the upstream password")
		}
		if v := admin.value(`#repository-form [name="httpClient.authentication.password"]`); v != "" {
			t.Errorf("the edit form holds the upstream password %q", v)
		}
		if res := s.do(http.MethodGet, "/service/rest/v1/repositories/raw/proxy/ui-proxy", s.admin(), nil, nil); strings.Contains(string(res.body), secret) {
			t.Errorf("REST shows the upstream password")
		}
		s.getExpect("ui-proxy", "a.txt", []byte("from upstream /a.txt"))
		// Saved again without typing it, the password is kept.
		admin.submit("#save")
		s.getExpect("ui-proxy", "b.txt", []byte("from upstream /b.txt"))
		if asked.Load() < 2 {
			t.Errorf("the upstream was asked %d times, want each file fetched", asked.Load())
		}
	})

	t.Run("proxy status", func(t *testing.T) {
		admin := admin.in(t)
		blocked := strings.Replace(anonProxyBody("ui-blocked", "http://127.0.0.1:9/", 1440), `"blocked":false`, `"blocked":true`, 1)
		s.createRepo("proxy", blocked)
		admin.open("/")
		if row := admin.text(`#repositories tr[data-repository="ui-blocked"]`); !strings.Contains(strings.ToLower(row), "blocked") {
			t.Errorf("the dashboard's row of a blocked proxy: %q, want it shown blocked", row)
		}
		if row := admin.text(`#repositories tr[data-repository="ui-proxy"]`); strings.Contains(strings.ToLower(row), "blocked") {
			t.Errorf("the dashboard's row of a working proxy: %q", row)
		}
	})

	t.Run("hanging upstream", func(t *testing.T) {
		admin := admin.in(t)
		release := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer up.Close()
		defer close(release)
		s.createRepo("proxy", anonProxyBody("ui-hanging", up.URL+"/", 1440))
		// A client waits on the upstream through the proxy meanwhile.
		go s.request(context.Background(), http.MethodGet, "/repository/ui-hanging/slow.bin", s.admin(), nil, nil)
		for _, p := range []string{"/", "/ui/repositories", "/ui/repositories/ui-hanging", "/ui/browse/ui-hanging/"} {
			start := time.Now()
			admin.open(p)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s took %v while the proxy's upstream hangs", p, d)
			}
		}
		admin.open("/")
		admin.must(`#repositories tr[data-repository="ui-hanging"]`)
	})

	t.Run("nested role", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/security/roles/new")
		admin.fill(`#role-form [name="id"]`, "ui-nested")
		admin.fill(`#role-form [name="name"]`, "UI nested")
		admin.fill(`#role-form [name="privileges"]`, "nx-search-read")
		admin.setChecked(`#role-form input[name="roles"][value="nx-anonymous"]`, true)
		admin.submit("#role-form #save")
		var role struct {
			Privileges []string `json:"privileges"`
			Roles      []string `json:"roles"`
		}
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/roles/ui-nested", s.admin(), nil, &role)
		if !slices.Equal(role.Roles, []string{"nx-anonymous"}) || strings.Join(role.Privileges, ",") != "nx-search-read" {
			t.Errorf("the role made with a nested role: %+v", role)
		}
	})
}

// TestUILastDownloaded: the asset page shows when the file was last
// downloaded, once the server has recorded it (at the latest at shutdown).
func TestUILastDownloaded(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	s.createRepo("hosted", hostedBody("ui-dl", "allow"))
	s.put("ui-dl", "x/file.bin", []byte("download me"))
	b := newUIBrowser(t, s.base)
	admin := b.session("admin")
	admin.signInAdmin(s)
	admin.open("/ui/asset/ui-dl/x/file.bin")
	before := admin.text("#asset-last-downloaded")
	s.getExpect("ui-dl", "x/file.bin", []byte("download me"))

	// The harness reads the initial password file at each start: it is
	// written back for the restart only (while it exists, the UI would ask
	// for a new password).
	s.stop()
	pwFile := filepath.Join(s.dataDir, "admin.password")
	if err := os.WriteFile(pwFile, []byte(s.adminPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.restart()
	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	b.base = s.base // a new port
	admin.signInAdmin(s)
	admin.open("/ui/asset/ui-dl/x/file.bin")
	after := admin.text("#asset-last-downloaded")
	if after == before || !strings.Contains(after, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("#asset-last-downloaded %q before the download, %q after it; want today's date after", before, after)
	}
}
