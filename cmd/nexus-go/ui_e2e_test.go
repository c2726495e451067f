package main

// End-to-end tests of the admin web UI in headless chromium (browser_test.go)
// against the real server: the first sign-in and its forced password
// change, repositories created through the forms, content put there by
// real clients (curl, skopeo) found again in Browse, the components pages
// and Search. Every page they land on is checked by axe-core and
// photographed.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// uiNewPassword is the admin's password after the forced change.
const uiNewPassword = "ui-admin-Passw0rd"

// signIn fills the sign-in form as user and returns the status of the
// page it leads to.
func (u *uiSession) signIn(user, password string) int {
	u.t.Helper()
	u.open("/ui/login")
	u.fill("#username", user)
	u.fill("#password", password)
	return u.submit("#sign-in")
}

// signInAdmin signs the admin in. While the initial password file exists,
// the forced change follows (to uiNewPassword); s's admin credentials
// follow the change.
func (u *uiSession) signInAdmin(s *nexusServer) {
	u.t.Helper()
	u.signIn("admin", s.adminPW)
	if u.path() == "/ui/password" {
		u.absent("#current-password", "the forced change does not ask again")
		u.fill("#new-password", uiNewPassword)
		u.fill("#confirm-password", uiNewPassword)
		u.submit("#change-password")
		s.adminPW = uiNewPassword
	}
	if u.path() != "/" {
		u.t.Fatalf("admin: after signing in at %s, want /:\n%s", u.path(), u.bodyText())
	}
	u.must("#sign-out")
}

// uiAdmin is a browser session of the admin on s, signed in after the
// password change (by REST, so not about the first sign-in).
func uiAdmin(t *testing.T, s *nexusServer) *uiSession {
	t.Helper()
	changeAdminPassword(s)
	admin := newUIBrowser(t, s.base).session("admin")
	admin.signInAdmin(s)
	return admin
}

// changeAdminPassword does the change by REST, so a test that is not
// about the first sign-in is not redirected to it.
func changeAdminPassword(s *nexusServer) {
	s.t.Helper()
	res := s.do(http.MethodPut, "/service/rest/v1/security/users/admin/change-password", s.admin(),
		[]byte(uiNewPassword), http.Header{"Content-Type": {"text/plain"}})
	if res.status != http.StatusNoContent {
		s.t.Fatalf("changing the admin password: status %d: %s", res.status, res.body)
	}
	s.adminPW = uiNewPassword
}

// repoForm is what createRepository fills in: text and number fields,
// selects and checkboxes by their input names (Nexus's JSON paths), and a
// group's members in order.
type repoForm struct {
	fields  map[string]string
	selects map[string]string
	checks  map[string]bool
	members []string
}

// createRepository picks the recipe ("raw-hosted") on the new-repository
// page, fills its form and saves; it must land on the repository's page.
func (u *uiSession) createRepository(recipe, name string, f repoForm) {
	u.t.Helper()
	u.open("/ui/repositories/new")
	u.submit(`a[data-recipe="` + recipe + `"]`)
	format, typ, _ := strings.Cut(recipe, "-")
	if want := "/ui/repositories/new?format=" + format + "&type=" + typ; u.path() != want {
		u.t.Errorf("%s: the %s recipe leads to %s, want %s", u.name, recipe, u.path(), want)
	}
	u.fillRepoForm(name, f)
	u.submit("#save")
	if want := "/ui/repositories/" + name; u.path() != want {
		u.t.Fatalf("%s: saving the %s form led to %s, want %s:\n%s", u.name, recipe, u.path(), want, u.bodyText())
	}
}

func (u *uiSession) fillRepoForm(name string, f repoForm) {
	u.t.Helper()
	field := func(n string) string { return `#repository-form [name="` + n + `"]` }
	if name != "" {
		u.fill(field("name"), name)
	}
	for n, v := range f.fields {
		u.fill(field(n), v)
	}
	for n, v := range f.selects {
		u.choose(field(n), v)
	}
	for n, on := range f.checks {
		u.setChecked(`#repository-form input[name="`+n+`"][type="checkbox"]`, on)
	}
	for i, m := range f.members {
		u.setChecked(`#repository-form input[name="group.memberNames"][value="`+m+`"]`, true)
		u.fill(`#repository-form input[name="group.memberOrder.`+m+`"]`, strconv.Itoa(i+1))
	}
}

// repoConfig is a repository's entry in the REST list (name, format, type,
// url), or nil if it is missing.
func repoConfig(s *nexusServer, name string) map[string]any {
	s.t.Helper()
	var all []map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories", s.admin(), nil, &all)
	for _, r := range all {
		if r["name"] == name {
			return r
		}
	}
	return nil
}

// TestUIRepositories: the first sign-in forces a new password; a raw and a
// Docker hosted repository are created through the forms (a bad name is
// refused next to its field, creating nothing) and listed; the Docker
// connector port answers /v2/ at once; a file uploaded with curl is found
// in Browse (with its checksums and download link) and in Search; an image
// pushed with skopeo shows its tag, manifest and layers.
func TestUIRepositories(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	b := newUIBrowser(t, s.base)
	admin := b.session("admin")
	initialPW := s.adminPW

	// Without anonymous access, / sends to the sign-in page.
	admin.open("/")
	if p := admin.path(); !strings.HasPrefix(p, "/ui/login") {
		t.Errorf("anonymous / with anonymous access off went to %s, want /ui/login", p)
	}
	if st := admin.signIn("admin", "wrong-"+initialPW); admin.path() != "/ui/login" && st != http.StatusUnauthorized {
		t.Errorf("a wrong password led to %s (status %d)", admin.path(), st)
	}
	admin.must(".alert")
	admin.signInAdmin(s)
	if _, err := os.Stat(filepath.Join(s.dataDir, "admin.password")); !os.IsNotExist(err) {
		t.Errorf("admin.password after the forced change: %v, want it deleted", err)
	}
	if res := s.doJSON(http.MethodGet, "/v1/security/users", &creds{"admin", initialPW}, nil, nil); res.status != http.StatusUnauthorized {
		t.Errorf("REST with the initial password after the change: status %d, want 401", res.status)
	}
	admin.must(`nav a[href="/ui/repositories"]`)
	admin.must(`nav a[href="/ui/security/users"]`)

	// A name REST refuses is refused by the form, next to the field.
	admin.open("/ui/repositories/new?format=raw&type=hosted")
	admin.fillRepoForm("bad name!", repoForm{})
	admin.submit("#save")
	admin.must(`.field-error[data-field="name"]`)
	if repoConfig(s, "bad name!") != nil {
		t.Errorf("the refused form created a repository")
	}

	admin.createRepository("raw-hosted", "ui-raw", repoForm{
		selects: map[string]string{"storage.writePolicy": "ALLOW"},
		checks:  map[string]bool{"online": true}})
	port := testproc.FreePort(t)
	admin.createRepository("docker-hosted", "ui-docker", repoForm{
		fields: map[string]string{"docker.httpPort": strconv.Itoa(port)},
		checks: map[string]bool{"docker.forceBasicAuth": true}})
	if cfg := repoConfig(s, "ui-docker"); cfg == nil || cfg["format"] != "docker" || cfg["type"] != "hosted" {
		t.Fatalf("REST after the Docker form: %v", cfg)
	}
	// The connector listens as soon as the form is saved.
	if st, hdr, _, err := v2Get(port, "/v2/", nil); err != nil || st != http.StatusUnauthorized ||
		hdr.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
		t.Errorf("GET /v2/ on the new connector port %d: status %d, %v, headers %v", port, st, err, hdr)
	}
	if st, _, _, err := v2Get(port, "/v2/", s.admin()); err != nil || st != http.StatusOK {
		t.Errorf("GET /v2/ on port %d as admin: status %d, %v", port, st, err)
	}

	admin.open("/ui/repositories")
	for _, name := range []string{"ui-raw", "ui-docker", "maven-releases"} {
		admin.must(`#repositories tr[data-repository="` + name + `"]`)
	}
	if got, want := admin.text(`tr[data-repository="ui-raw"] .repo-url`), s.url("/repository/ui-raw/"); !strings.Contains(got, want) {
		t.Errorf("URL of ui-raw in the list: %q, want %q", got, want)
	}
	admin.must(`tr[data-repository="ui-raw"] button.copy`)
	admin.must("#new-repository")

	// A file uploaded with the page's curl line is in Browse and in
	// Search, and the download line fetches it.
	admin.open("/ui/repositories/ui-raw")
	upload, download := admin.snippet("curl-upload"), admin.snippet("curl-download")
	data := []byte("hello from curl\n")
	up, down := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(up, "file.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	curlEnv := clientEnv("NEXUS_USER=admin", "NEXUS_PASSWORD="+s.adminPW)
	runSnippet(t, up, upload, curlEnv)
	s.getExpect("ui-raw", "path/to/file.txt", data)
	runSnippet(t, down, download, curlEnv)
	if got, err := os.ReadFile(filepath.Join(down, "file.txt")); err != nil || string(got) != string(data) {
		t.Errorf("the download line fetched %q (%v), want %q", got, err, data)
	}
	admin.open("/ui/browse/ui-raw/")
	admin.submit(`a.entry[data-name="path"]`)
	admin.submit(`a.entry[data-name="to"]`)
	if admin.path() != "/ui/browse/ui-raw/path/to/" {
		t.Errorf("the folder path/to opened %s", admin.path())
	}
	admin.submit(`a.entry[data-name="file.txt"]`)
	if admin.path() != "/ui/asset/ui-raw/path/to/file.txt" {
		t.Errorf("the asset opened %s", admin.path())
	}
	if got := admin.text("#asset-sha256"); got != sha(data) {
		t.Errorf("#asset-sha256 %q, want %s", got, sha(data))
	}
	if got := admin.text("#asset-sha1"); got != sha1Hex(data) {
		t.Errorf("#asset-sha1 %q, want %s", got, sha1Hex(data))
	}
	if got := admin.text("#asset-size"); !strings.Contains(got, strconv.Itoa(len(data))) {
		t.Errorf("#asset-size %q, want %d bytes", got, len(data))
	}
	if got := admin.text("#asset-uploader"); !strings.Contains(got, "admin") {
		t.Errorf("#asset-uploader %q, want admin", got)
	}
	if got := admin.text("#asset-content-type"); !strings.Contains(got, "text/plain") {
		t.Errorf("#asset-content-type %q, want text/plain", got)
	}
	admin.must("#asset-last-modified")
	admin.must("#asset-last-downloaded")
	admin.must("button#delete-asset")
	// The link must work for the signed-in user as the browser follows it:
	// with the session cookie only (a 401 would make the browser ask for
	// Basic credentials).
	href := admin.attr("a#download", "href")
	if dl := withCookie(s, http.MethodGet, href, admin.cookie("NXSESSIONID").Value, nil, nil); dl.status != http.StatusOK || string(dl.body) != string(data) {
		t.Errorf("the download link %q with the session cookie: status %d, %d bytes, want the file's %d", href, dl.status, len(dl.body), len(data))
	}

	t.Run("search", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/ui/search")
		admin.choose(`#search-form [name="format"]`, "raw")
		admin.fill(`#search-form [name="name"]`, "*file.txt")
		admin.submit(`#search-form [type="submit"]`)
		if rows := admin.texts("tr.result"); len(rows) != 1 || !strings.Contains(rows[0], "ui-raw") || !strings.Contains(rows[0], "path/to/file.txt") {
			t.Errorf("search results for raw *file.txt: %q, want the one file of ui-raw", rows)
		}
		admin.fill(`#search-form [name="name"]`, "*nothing-like-this*")
		admin.submit(`#search-form [type="submit"]`)
		if n := admin.count("tr.result"); n != 0 {
			t.Errorf("search for a name nothing has: %d results", n)
		}
	})

	t.Run("docker image", func(t *testing.T) {
		admin := admin.in(t)
		// An image pushed with skopeo: its tag, manifest and layers.
		sk := newSkopeo(t)
		layout := filepath.Join(t.TempDir(), "layout")
		img := ociLayout(t, layout, "1.0")
		sk.must(t, "copy", "--dest-tls-verify=false", "--dest-creds", "admin:"+s.adminPW,
			"oci:"+layout+":1.0", "docker://127.0.0.1:"+strconv.Itoa(port)+"/team/app:1.0")

		// The How-to lines name references a client can push to and pull
		// from, on the connector port and by path on the main port (no
		// Docker engine here: skopeo does what docker push and pull would).
		admin.open("/ui/repositories/ui-docker")
		for _, form := range []struct{ suffix, host string }{{"", "127.0.0.1:" + strconv.Itoa(port)},
			{"-path", "127.0.0.1:" + strconv.Itoa(s.port)}} {
			login, push, pull := admin.snippet("docker-login"+form.suffix), admin.snippet("docker-push"+form.suffix), admin.snippet("docker-pull"+form.suffix)
			if !strings.Contains(login, "docker login "+form.host) || !strings.Contains(login, "$NEXUS_USER") {
				t.Errorf("docker-login%s: %q, want a login to %s as $NEXUS_USER", form.suffix, login, form.host)
			}
			pushed, pulled := commandArg(push, "docker push"), commandArg(pull, "docker pull")
			if !strings.HasPrefix(pushed, form.host+"/") || pushed != pulled {
				t.Fatalf("docker-push%s pushes %q, docker-pull%s pulls %q; want one reference on %s", form.suffix, pushed, form.suffix, pulled, form.host)
			}
			sk.must(t, "copy", "--dest-tls-verify=false", "--dest-creds", "admin:"+s.adminPW, "oci:"+layout+":1.0", "docker://"+pushed)
			if raw := sk.must(t, "inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+s.adminPW, "docker://"+pulled); raw != string(img.manifest) {
				t.Errorf("the image pulled by docker-pull%s's reference %s: %s, want the pushed manifest", form.suffix, pulled, raw)
			}
		}
		var manifest struct {
			Layers []struct {
				Digest string `json:"digest"`
				Size   int64  `json:"size"`
			} `json:"layers"`
		}
		if err := json.Unmarshal(img.manifest, &manifest); err != nil || len(manifest.Layers) != 1 {
			t.Fatalf("the pushed manifest: %v", err)
		}
		layer := manifest.Layers[0]

		admin.open("/ui/browse/ui-docker/")
		for _, dir := range []string{"v2", "team", "app", "manifests"} {
			admin.submit(`a.entry[data-name="` + dir + `"]`)
		}
		admin.must(`a.entry[data-name="1.0"]`)

		admin.open("/ui/components/ui-docker")
		row := `tr.component[data-name="team/app"][data-version="1.0"]`
		admin.must(row)
		admin.submit(row + ` a[href^="/ui/component/ui-docker/"]`)
		paths := strings.Join(eval[[]string](admin, `[...document.querySelectorAll("tr.asset")].map(r => r.dataset.path)`), "\n")
		if !strings.Contains(paths, layer.Digest) || !strings.Contains(paths, "manifests/1.0") {
			t.Errorf("assets of team/app:1.0: %q, want the manifest and the layer %s", paths, layer.Digest)
		}
		layerRow := admin.text(`tr.asset[data-path$="` + layer.Digest + `"]`)
		if !strings.Contains(layerRow, strconv.FormatInt(layer.Size, 10)) && !strings.Contains(layerRow, "KB") && !strings.Contains(layerRow, "KiB") {
			t.Errorf("the layer's row %q shows no size (%d bytes)", layerRow, layer.Size)
		}
		pull := admin.rawText(`pre.snippet[data-snippet="use"]`)
		if !strings.Contains(pull, "docker pull") || !strings.Contains(pull, "team/app:1.0") {
			t.Errorf("the component's use line %q, want a docker pull of team/app:1.0", pull)
		}
		// The pull line names a reference skopeo can read.
		ref := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(pull), "docker pull"))
		out := sk.must(t, "inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+s.adminPW, "docker://"+ref)
		if out != string(img.manifest) {
			t.Errorf("skopeo inspect of the pull line's %s: %s, want the pushed manifest", ref, out)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		admin := admin.in(t)
		admin.open("/")
		for _, name := range []string{"ui-raw", "ui-docker"} {
			admin.must(`#repositories tr[data-repository="` + name + `"]`)
		}
		if cells := admin.text(`#repositories tr[data-repository="ui-raw"]`); !strings.Contains(cells, "raw") || !strings.Contains(cells, "hosted") {
			t.Errorf("the dashboard's ui-raw row %q lacks its format and type", cells)
		}
		// The statistics: one file in ui-raw, the image's tag in ui-docker.
		if n := admin.text(`#repositories tr[data-repository="ui-raw"] td:last-child`); n != "1" {
			t.Errorf("the dashboard's component count of ui-raw: %q, want 1", n)
		}
		if n := admin.text(`#repositories tr[data-repository="ui-docker"] td:last-child`); n == "0" || n == "" {
			t.Errorf("the dashboard's component count of ui-docker: %q, want the pushed image", n)
		}
		if blobs := admin.text("#blobstores tbody tr"); !strings.Contains(blobs, "default") || strings.Contains(blobs, "0 B") {
			t.Errorf("the dashboard's blob store row %q: want default, holding the uploads", blobs)
		}
		admin.must("#health")
	})
}

// commandArg is the argument of the last line of snippet that runs
// command ("docker push"), or "".
func commandArg(snippet, command string) string {
	arg := ""
	for _, l := range strings.Split(snippet, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), command+" "); ok {
			arg = strings.TrimSpace(rest)
		}
	}
	return arg
}

// formValues is a form of the page as url.Values (what submitting it
// would send), read from the form's own fields.
func (u *uiSession) formValues(sel string) url.Values {
	u.t.Helper()
	pairs := eval[[][2]string](u, `[...new FormData(document.querySelector(`+jsString(sel)+`))].map(([k, v]) => [k, String(v)])`)
	v := url.Values{}
	for _, p := range pairs {
		v.Add(p[0], p[1])
	}
	return v
}
