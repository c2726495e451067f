package ui

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

var (
	inputRE    = regexp.MustCompile(`<input ([^>]*)>`)
	selectRE   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>`)
	selectedRE = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	attrRE     = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// formValues reads what a browser would submit of the form with id in
// body: text and number inputs, checked boxes, selected options.
func formValues(t *testing.T, body, id string) url.Values {
	t.Helper()
	start := strings.Index(body, `<form id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no form #%s in:\n%s", id, body)
	}
	end := strings.Index(body[start:], "</form>")
	form := body[start : start+end]
	out := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(form, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		name := attrs["name"]
		if name == "" {
			continue
		}
		if attrs["type"] == "checkbox" {
			if strings.Contains(m[1], " checked") {
				out.Add(name, attrs["value"])
			}
			continue
		}
		out.Add(name, attrs["value"])
	}
	for _, m := range selectRE.FindAllStringSubmatch(form, -1) {
		if s := selectedRE.FindStringSubmatch(m[2]); s != nil {
			out.Set(m[1], html.UnescapeString(s[1]))
		} else {
			out.Set(m[1], "")
		}
	}
	return out
}

// Every format the manager knows, as each type: the form shows the
// combination's fields, and what it posts is what the manager stores (the
// same decoding and Manager.Create as the REST API). A new format is
// covered as soon as the manager has it.
func TestRepositoryFormRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	for _, f := range e.repos.Formats() {
		format := f.Name()
		for _, typ := range []string{repo.Hosted, repo.Proxy, repo.Group} {
			name := format + "-" + typ + "-ui"
			t.Run(format+"-"+typ, func(t *testing.T) {
				recipes := b.get("/ui/repositories/new")
				recipes.has(t, fmt.Sprintf(`data-recipe="%s-%s"`, format, typ))
				path := "/ui/repositories/new?format=" + url.QueryEscape(format) + "&type=" + typ
				p := b.get(path)
				if p.status != http.StatusOK {
					t.Fatalf("form: %d", p.status)
				}
				fields, err := e.repos.Fields(t.Context(), format, typ)
				if err != nil {
					t.Fatal(err)
				}
				for _, fl := range fields {
					p.has(t, `name="`+fl.Path+`"`)
				}
				if typ != repo.Hosted {
					p.lacks(t, `name="storage.writePolicy"`)
				}
				if typ != repo.Proxy {
					p.lacks(t, `name="proxy.remoteUrl"`)
				}
				v := formValues(t, p.body, "repository-form")
				v.Set("name", name)
				v.Del("_csrf")
				switch typ {
				case repo.Hosted:
					v.Set("storage.writePolicy", "ALLOW")
				case repo.Proxy:
					v.Set("proxy.remoteUrl", "http://upstream.example/"+format+"/")
					v.Set("proxy.contentMaxAge", "60")
					v.Set("httpClient.authentication.username", "up-user")
					v.Set("httpClient.authentication.password", "up-secret")
				case repo.Group:
					// Members in the order of their numbers, not the form's.
					v["group.memberNames"] = []string{format + "-hosted-ui", format + "-proxy-ui"}
					v.Set(repo.MemberOrderPrefix+format+"-hosted-ui", "2")
					v.Set(repo.MemberOrderPrefix+format+"-proxy-ui", "1")
					v.Set("group.writableMember", format+"-hosted-ui")
				}
				resp := b.post(path, "/ui/repositories/new", v)
				if resp.status != http.StatusSeeOther || resp.location() != "/ui/repositories/"+name {
					t.Fatalf("create: %d %s\n%s", resp.status, resp.location(), resp.body)
				}
				r, ok := e.repos.Lookup(name)
				if !ok {
					t.Fatal("not created")
				}
				cfg := r.Config()
				if cfg.Format != format || cfg.Type != typ {
					t.Fatalf("created a %s %s", cfg.Format, cfg.Type)
				}
				stored, err := repo.FieldValues(cfg, fields)
				if err != nil {
					t.Fatal(err)
				}
				for _, fl := range fields {
					switch fl.Kind {
					case repo.FieldPassword, repo.FieldMembers:
						continue
					}
					sent := v.Get(fl.Path)
					if fl.Kind == repo.FieldBool && sent == "" {
						sent = "false"
					}
					if sent == "" {
						continue
					}
					if got := strings.Join(stored[fl.Path], ","); !strings.EqualFold(got, sent) {
						t.Errorf("%s: stored %q, sent %q", fl.Path, got, sent)
					}
				}
				switch typ {
				case repo.Group:
					if got := cfg.Group.MemberNames; !slices.Equal(got, []string{format + "-proxy-ui", format + "-hosted-ui"}) {
						t.Errorf("members %v: want the order of the numbers", got)
					}
				case repo.Proxy:
					a := cfg.HTTPClient.Authentication
					if a == nil || a.Type != "username" || a.Username != "up-user" || a.Password != "up-secret" {
						t.Errorf("upstream credentials stored as %+v", a)
					}
				}
				// The edit form shows the same values, and never the password.
				page := b.get("/ui/repositories/" + name)
				page.has(t, `id="repository-form"`)
				page.lacks(t, "up-secret")
				edit := formValues(t, page.body, "repository-form")
				if edit.Get("name") != name {
					t.Errorf("edit form name %q", edit.Get("name"))
				}
				// Saving the form unchanged keeps the configuration (the
				// password included: left out, it is kept).
				edit.Del("_csrf")
				if resp := b.post("/ui/repositories/"+name, "/ui/repositories/"+name, edit); resp.status != http.StatusSeeOther {
					t.Fatalf("update: %d\n%s", resp.status, resp.body)
				}
				r, _ = e.repos.Lookup(name)
				again, _ := repo.FieldValues(r.Config(), fields)
				for k, want := range stored {
					if got := again[k]; !slices.Equal(got, want) {
						t.Errorf("after saving unchanged, %s = %v, was %v", k, got, want)
					}
				}
				if typ == repo.Proxy && r.Config().HTTPClient.Authentication.Password != "up-secret" {
					t.Error("saving the form unchanged lost the upstream password")
				}
			})
		}
	}
}

func TestFieldErrorsNextToField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	e.createRepo(`{"name":"taken","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	for _, tc := range []struct {
		format, typ string
		set         map[string]string
		field       string
	}{
		{"raw", "hosted", map[string]string{"name": "bad name!"}, "name"},
		{"raw", "hosted", map[string]string{"name": "TAKEN"}, "name"},
		{"raw", "proxy", map[string]string{"name": "p1", "proxy.remoteUrl": ""}, "proxy.remoteUrl"},
		{"raw", "proxy", map[string]string{"name": "p2", "proxy.remoteUrl": "http://upstream.example/", "proxy.contentMaxAge": "soon"}, "proxy.contentMaxAge"},
		{"raw", "proxy", map[string]string{"name": "p3", "proxy.remoteUrl": "http://upstream.example/", "negativeCache.timeToLive": "-7"}, "negativeCache.timeToLive"},
		{"docker", "hosted", map[string]string{"name": "d1", "docker.httpPort": "70000"}, "docker.httpPort"},
		{"raw", "group", map[string]string{"name": "g1"}, "group.memberNames"},
	} {
		path := "/ui/repositories/new?format=" + tc.format + "&type=" + tc.typ
		v := formValues(t, b.get(path).body, "repository-form")
		v.Del("_csrf")
		for k, val := range tc.set {
			v.Set(k, val)
		}
		p := b.post(path, "/ui/repositories/new", v)
		if p.status != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", tc.set, p.status)
		}
		p.has(t, `class="field-error" data-field="`+tc.field+`"`)
		// What was typed stays in the form.
		if n := tc.set["name"]; n != "" {
			p.has(t, `value="`+html.EscapeString(n)+`"`)
		}
		if len(e.repos.List()) != 1 {
			t.Fatalf("%v: a refused form created a repository", tc.set)
		}
	}
}

// A user who may read repositories but not administer them sees no
// create, edit or delete controls, and the server refuses those requests
// when sent anyway.
func TestControlsAbsentWithoutPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	e.createUser("reader", "reader-pw", "nx-repository-view-*-*-read", "nx-repository-view-*-*-browse", "nx-search-read")
	admin := e.admin()
	b := e.browser()
	if p := b.signIn("reader", "reader-pw"); p.status != http.StatusSeeOther || p.location() != "/" {
		t.Fatalf("sign-in: %d %s", p.status, p.location())
	}
	list := b.get("/ui/repositories")
	list.has(t, `data-repository="raw-h"`)
	list.lacks(t, `id="new-repository"`)
	page := b.get("/ui/repositories/raw-h")
	if page.status != http.StatusOK {
		t.Fatalf("repository page: %d", page.status)
	}
	for _, control := range []string{`id="repository-form"`, `id="delete-repository"`, `id="save"`} {
		page.lacks(t, control)
	}
	page.has(t, `data-snippet="curl-download"`)
	b.get("/").lacks(t, `href="/ui/security/users"`)

	refused := func(what, path string, form url.Values) {
		t.Helper()
		p := b.post("/ui/repositories", path, form)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", what, p.status)
		}
		p.has(t, `class="alert"`)
	}
	refused("create", "/ui/repositories/new", url.Values{"format": {"raw"}, "type": {"hosted"}, "name": {"mine"},
		"online": {"true"}, "storage.blobStoreName": {"default"}})
	if _, ok := e.repos.Lookup("mine"); ok {
		t.Error("the reader created a repository")
	}
	refused("update", "/ui/repositories/raw-h", url.Values{"online": {"false"}, "storage.blobStoreName": {"default"}})
	if r, _ := e.repos.Lookup("raw-h"); !r.Config().Online {
		t.Error("the reader took the repository offline")
	}
	refused("delete", "/ui/repositories/raw-h/delete", url.Values{})
	if _, ok := e.repos.Lookup("raw-h"); !ok {
		t.Error("the reader deleted the repository")
	}
	if p := b.get("/ui/security/users"); p.status != http.StatusForbidden {
		t.Errorf("users list: %d, want 403", p.status)
	}
	refused("create user", "/ui/security/users/new", url.Values{"userId": {"evil"}, "password": {"x"}, "status": {"active"}, "roles": {"nx-admin"}})
	if _, err := e.auth.GetUser(e.system(), "evil"); err == nil {
		t.Error("the reader created a user")
	}
	refused("anonymous", "/ui/security/anonymous", url.Values{"enabled": {"true"}})
	if set, _ := e.auth.Anonymous(e.system()); set.Enabled {
		t.Error("the reader turned anonymous access on")
	}
	refused("role", "/ui/security/roles/reader-role", url.Values{"privileges": {"nx-all"}})
	if r, _ := e.auth.GetRole(e.system(), "reader-role"); slices.Contains(r.Privileges, "nx-all") {
		t.Error("the reader granted itself nx-all")
	}
	// The admin sees the controls the reader does not.
	admin.get("/ui/repositories").has(t, `id="new-repository"`)
	ap := admin.get("/ui/repositories/raw-h")
	ap.has(t, `id="delete-repository"`)
	ap.has(t, `id="repository-form"`)
	admin.get("/").has(t, `href="/ui/security/users"`)
}

// Anonymous visitors see what anonymous access allows, or are sent to sign
// in when it is off.
func TestAnonymousView(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	anon := e.browser()
	if p := anon.get("/"); p.status != http.StatusSeeOther || p.location() != "/ui/login" {
		t.Fatalf("dashboard with anonymous access off: %d %s", p.status, p.location())
	}
	admin := e.admin()
	form := formValues(t, admin.get("/ui/security/anonymous").body, "anonymous-form")
	form.Del("_csrf")
	form.Set("enabled", "true")
	if p := admin.post("/ui/security/anonymous", "/ui/security/anonymous", form); p.status != http.StatusSeeOther {
		t.Fatalf("enabling anonymous access: %d %s", p.status, p.body)
	}
	p := anon.get("/")
	if p.status != http.StatusOK {
		t.Fatalf("dashboard with anonymous access on: %d", p.status)
	}
	p.has(t, `data-repository="raw-h"`)
	p.has(t, `id="sign-in-link"`)
	p.lacks(t, `id="sign-out"`)
	anon.get("/ui/repositories").lacks(t, `id="new-repository"`)
}

// Each format's How-to snippets, filled in with this server's address
// and the repository, as a user pastes them.
func TestHowToSnippets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	host := strings.TrimPrefix(e.srv.URL, "http://")
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	e.createRepo(`{"name":"docker-h","format":"docker","type":"hosted","online":true,"storage":{"blobStoreName":"default"},"docker":{"httpPort":18555}}`)
	e.createRepo(`{"name":"docker-s","format":"docker","type":"hosted","online":true,"storage":{"blobStoreName":"default"},"docker":{"httpsPort":18556}}`)
	e.createRepo(`{"name":"docker-b","format":"docker","type":"hosted","online":true,"storage":{"blobStoreName":"default"},"docker":{"httpPort":18557,"httpsPort":18558}}`)
	e.createRepo(`{"name":"maven-h","format":"maven2","type":"hosted","online":true,"storage":{"blobStoreName":"default"},"maven":{"versionPolicy":"MIXED"}}`)
	e.createRepo(`{"name":"maven-g","format":"maven2","type":"group","online":true,"storage":{"blobStoreName":"default"},"group":{"memberNames":["maven-h"]}}`)
	e.createRepo(`{"name":"npm-h","format":"npm","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	e.createRepo(`{"name":"npm-g","format":"npm","type":"group","online":true,"storage":{"blobStoreName":"default"},"group":{"memberNames":["npm-h"]}}`)
	snippet := func(repoName, id string) string {
		t.Helper()
		p := b.get("/ui/repositories/" + repoName)
		re := regexp.MustCompile(`(?s)<pre class="snippet" data-snippet="` + regexp.QuoteMeta(id) + `" tabindex="0">(.*?)</pre><button type="button" class="copy btn small" data-copy="([^"]*)"`)
		m := re.FindStringSubmatch(p.body)
		if m == nil {
			t.Errorf("%s: no snippet %s with a copy button", repoName, id)
			return ""
		}
		text := html.UnescapeString(m[1])
		if copied := html.UnescapeString(m[2]); copied != text {
			t.Errorf("%s %s: the copy button copies %q, the page shows %q", repoName, id, copied, text)
		}
		return text
	}
	absent := func(repoName, id string) {
		t.Helper()
		b.get("/ui/repositories/"+repoName).lacks(t, `data-snippet="`+id+`"`)
	}
	url := func(n string) string { return "http://" + host + "/repository/" + n + "/" }
	want := func(repoName, id string, parts ...string) {
		t.Helper()
		text := snippet(repoName, id)
		for _, part := range parts {
			if !strings.Contains(text, part) {
				t.Errorf("%s %s lacks %q:\n%s", repoName, id, part, text)
			}
		}
	}
	want("raw-h", "curl-upload", `curl -u "$NEXUS_USER:$NEXUS_PASSWORD" --upload-file ./file.txt `+url("raw-h")+"path/to/file.txt")
	want("raw-h", "curl-download", `curl -u "$NEXUS_USER:$NEXUS_PASSWORD" -O `+url("raw-h")+"path/to/file.txt")
	want("docker-h", "docker-login", `docker login 127.0.0.1:18555 -u "$NEXUS_USER" --password-stdin`)
	want("docker-h", "docker-push", "docker push 127.0.0.1:18555/my-image:1.0")
	want("docker-h", "docker-pull", "docker pull 127.0.0.1:18555/my-image:1.0")
	// An HTTPS connector alone has its snippets, and is preferred to an
	// HTTP one.
	want("docker-s", "docker-login", `docker login 127.0.0.1:18556 -u "$NEXUS_USER" --password-stdin`)
	want("docker-s", "docker-push", "docker push 127.0.0.1:18556/my-image:1.0")
	want("docker-b", "docker-login", `docker login 127.0.0.1:18558 -u "$NEXUS_USER" --password-stdin`)
	want("docker-b", "docker-pull", "docker pull 127.0.0.1:18558/my-image:1.0")
	want("docker-h", "docker-login-path", "docker login "+host+" -u")
	want("docker-h", "docker-push-path", "docker push "+host+"/docker-h/my-image:1.0")
	want("docker-h", "docker-pull-path", "docker pull "+host+"/docker-h/my-image:1.0")
	want("maven-g", "maven-settings", "<settings ", "<id>maven-g</id>", "<username>${env.NEXUS_USER}</username>",
		"<password>${env.NEXUS_PASSWORD}</password>", "<mirrorOf>*</mirrorOf>", "<url>"+url("maven-g")+"</url>", "</settings>")
	absent("maven-g", "maven-distribution")
	want("maven-h", "maven-distribution", "<distributionManagement>", "<repository>", "<snapshotRepository>", "<url>"+url("maven-h")+"</url>")
	want("npm-g", "npmrc", "registry="+url("npm-g")+"\n//"+host+"/repository/npm-g/:_auth=${NEXUS_AUTH}")
	absent("npm-g", "npm-publish")
	want("npm-h", "npm-publish", "npm publish --registry="+url("npm-h"))
	// Every format tells how to use it.
	for _, f := range e.repos.Formats() {
		if _, ok := f.(repo.HowTo); !ok {
			t.Errorf("format %s has no How-to snippets", f.Name())
		}
	}
}

func TestDeleteRepository(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	e.createRepo(`{"name":"raw-g","format":"raw","type":"group","online":true,"storage":{"blobStoreName":"default"},"group":{"memberNames":["raw-h"]}}`)
	b := e.admin()
	b.get("/ui/repositories/raw-h/delete").has(t, `id="confirm-delete"`)
	// A member of a group cannot go: the manager's message is shown.
	p := b.post("/ui/repositories/raw-h", "/ui/repositories/raw-h/delete", url.Values{})
	if p.status != http.StatusBadRequest {
		t.Errorf("deleting a member: %d", p.status)
	}
	p.has(t, "is a member of group raw-g")
	for _, name := range []string{"raw-g", "raw-h"} {
		if p := b.post("/ui/repositories/"+name, "/ui/repositories/"+name+"/delete", url.Values{}); p.status != http.StatusSeeOther || p.location() != "/ui/repositories" {
			t.Fatalf("delete %s: %d %s", name, p.status, p.location())
		}
		if _, ok := e.repos.Lookup(name); ok {
			t.Errorf("%s still exists", name)
		}
	}
	if p := b.get("/ui/repositories/raw-h"); p.status != http.StatusNotFound {
		t.Errorf("a deleted repository's page: %d", p.status)
	}
}

// Under a context path the UI, its cookie and its links live below it;
// Docker's main-port references do not (/v2/ is at the port's root).
func TestContextPath(t *testing.T) {
	t.Parallel()
	e := newEnvAt(t, false, "/nexus")
	e.createRepo(`{"name":"docker-h","format":"docker","type":"hosted","online":true,"storage":{"blobStoreName":"default"}}`)
	b := e.browser()
	p := b.signIn(auth.AdminUser, e.adminPW)
	if p.status != http.StatusSeeOther || p.location() != "/nexus/ui/password" {
		t.Fatalf("sign-in: %d %s", p.status, p.location())
	}
	if c := sessionCookieOf(t, p); c.Path != "/nexus" {
		t.Errorf("cookie path %q, want /nexus", c.Path)
	}
	if p := b.post("/ui/password", "/ui/password", url.Values{"new-password": {"pw-2"}, "confirm-password": {"pw-2"}}); p.status != http.StatusSeeOther || p.location() != "/nexus/" {
		t.Fatalf("password change: %d %s", p.status, p.location())
	}
	d := b.get("/")
	d.has(t, `href="/nexus/ui/repositories"`)
	d.has(t, `href="/nexus/ui/static/style.css?v=`)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	page := b.get("/ui/repositories/docker-h")
	page.has(t, "http://"+host+"/nexus/repository/docker-h/")
	page.has(t, "docker pull "+host+"/docker-h/my-image:1.0")
	page.has(t, "docker login "+host+" -u")
	page.has(t, `action="/nexus/ui/repositories/docker-h"`)
	if p := b.get("/ui/static/style.css"); p.status != http.StatusOK || !strings.Contains(p.body, "prefers-color-scheme") {
		t.Errorf("stylesheet under the context path: %d", p.status)
	}
}

// A group form offers a writable member only for formats whose groups
// take uploads (repo.GroupWriter).
func TestWritableMemberOnlyWhereGroupsTakeUploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	for format, want := range map[string]bool{"raw": false, "maven2": false, "docker": true, "npm": true} {
		page := b.get("/ui/repositories/new?format=" + format + "&type=group")
		if got := strings.Contains(page.body, `name="group.writableMember"`); got != want {
			t.Errorf("%s group form offers a writable member: %t, want %t", format, got, want)
		}
	}
}
