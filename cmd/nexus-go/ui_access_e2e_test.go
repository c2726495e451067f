package main

// End-to-end tests of the UI's access rules in headless chromium: a user of
// a read-only role made through the security forms sees no create, edit or
// delete controls, and the server refuses those requests when the user
// sends them anyway; anonymous access switched on and off in the UI changes
// what a visitor sees.

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// confirmForm opens the confirmation of a delete (clicking button on the
// page at path) and returns the confirming form's action and fields,
// without confirming.
func (u *uiSession) confirmForm(path, button string) (string, url.Values) {
	u.t.Helper()
	u.open(path)
	u.submit(button)
	u.must("button#confirm-delete")
	form := `document.querySelector("button#confirm-delete").form`
	action := eval[string](u, form+`.getAttribute("action") || location.pathname + location.search`)
	pairs := eval[[][2]string](u, `[...new FormData(`+form+`)].map(([k, v]) => [k, String(v)])`)
	v := url.Values{}
	for _, p := range pairs {
		v.Add(p[0], p[1])
	}
	return action, v
}

// mainText is the <main> element of a page, or the page.
func mainText(page string) string {
	if m := regexp.MustCompile(`(?s)<main.*</main>`).FindString(page); m != "" {
		return m
	}
	return page
}

// withToken is form with the CSRF token of u's page instead of its own.
func (u *uiSession) withToken(form url.Values) url.Values {
	u.t.Helper()
	out := url.Values{}
	for k, vs := range form {
		out[k] = slices.Clone(vs)
	}
	out.Set("_csrf", u.csrf())
	return out
}

// TestUIReadOnlyUser: a role and a user made through the security forms; the
// user signs in and finds no create, edit or delete controls, and the
// server refuses each of those requests sent with the user's own session
// and token; anonymous access toggled in the UI opens and closes the
// anonymous view.
func TestUIReadOnlyUser(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	changeAdminPassword(s)
	s.createRepo("hosted", hostedBody("ui-files", "allow"))
	data := []byte("read me\n")
	s.put("ui-files", "a/b.txt", data)
	b := newUIBrowser(t, s.base)
	admin := b.session("admin")
	admin.signInAdmin(s)

	admin.open("/ui/security/roles/new")
	admin.fill(`#role-form [name="id"]`, "ui-readers")
	admin.fill(`#role-form [name="name"]`, "UI readers")
	admin.fill(`#role-form [name="description"]`, "browse and read everything")
	admin.fill(`#role-form [name="privileges"]`, "nx-repository-view-*-*-browse\nnx-repository-view-*-*-read\nnx-search-read")
	admin.submit("#save")
	var role struct {
		Privileges []string `json:"privileges"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/roles/ui-readers", s.admin(), nil, &role)
	slices.Sort(role.Privileges)
	if want := []string{"nx-repository-view-*-*-browse", "nx-repository-view-*-*-read", "nx-search-read"}; !slices.Equal(role.Privileges, want) {
		t.Errorf("privileges of the role made in the form: %q, want %q", role.Privileges, want)
	}
	admin.open("/ui/security/roles")
	admin.must(`tr[data-role="ui-readers"]`)

	const readerPW = "reader-Passw0rd"
	admin.open("/ui/security/users/new")
	for name, v := range map[string]string{"userId": "reader", "firstName": "Read", "lastName": "Only",
		"emailAddress": "reader@example.org", "password": readerPW} {
		admin.fill(`#user-form [name="`+name+`"]`, v)
	}
	admin.choose(`#user-form [name="status"]`, "active")
	admin.setChecked(`#user-form input[name="roles"][value="ui-readers"]`, true)
	admin.submit("#save")
	var users []struct {
		UserID string   `json:"userId"`
		Status string   `json:"status"`
		Roles  []string `json:"roles"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/users?userId=reader", s.admin(), nil, &users)
	if len(users) != 1 || users[0].Status != "active" || !slices.Equal(users[0].Roles, []string{"ui-readers"}) {
		t.Fatalf("the user made in the form, over REST: %+v", users)
	}
	admin.open("/ui/security/users")
	admin.must(`tr[data-user="reader"]`)

	// What the admin would send: the forms the reader must not have.
	deleteRepo, deleteRepoForm := admin.confirmForm("/ui/repositories/ui-files", "button#delete-repository")
	admin.open("/ui/repositories/new?format=raw&type=hosted")
	admin.fillRepoForm("ui-forced", repoForm{})
	createAction := eval[string](admin, `document.querySelector("#repository-form").getAttribute("action") || location.pathname + location.search`)
	createForm := admin.formValues("#repository-form")
	admin.open("/ui/repositories/ui-files")
	editAction := eval[string](admin, `document.querySelector("#repository-form").getAttribute("action") || location.pathname + location.search`)
	editForm := admin.formValues("#repository-form")
	editForm.Set("online", "false")

	reader := b.session("reader")
	reader.signIn("reader", readerPW)
	if reader.path() != "/" {
		t.Fatalf("reader: signed in at %s, want /:\n%s", reader.path(), reader.bodyText())
	}
	reader.absent(`nav a[href="/ui/security/users"]`, "the reader holds no users privilege")
	reader.open("/ui/repositories")
	reader.must(`tr[data-repository="ui-files"]`)
	reader.absent("#new-repository", "the reader may not add repositories")
	reader.open("/ui/repositories/ui-files")
	reader.absent("button#delete-repository", "the reader may not delete repositories")
	reader.absent("#repository-form #save", "the reader may not edit repositories")
	// Forced anyway, with the reader's own session and token: refused,
	// and nothing changes.
	forced := []struct {
		what, action string
		form         url.Values
	}{
		{"deleting the repository", deleteRepo, deleteRepoForm},
		{"creating a repository", createAction, createForm},
		{"editing the repository", editAction, editForm},
	}
	// What a CSRF refusal says, to tell it from a refusal of the privilege.
	badToken := reader.withToken(createForm)
	badToken.Set("_csrf", "not-the-token")
	csrfRefusal := mainText(reader.fetch(http.MethodPost, createAction, badToken, nil).Body)
	for _, f := range forced {
		res := reader.fetch(http.MethodPost, f.action, reader.withToken(f.form), nil)
		switch {
		case res.Status != http.StatusForbidden:
			t.Errorf("reader: %s (POST %s): status %d, want 403: %.300s", f.what, f.action, res.Status, res.Body)
		case !strings.Contains(res.Body, `class="alert`):
			t.Errorf("reader: the refusal of %s has no .alert: %.300s", f.what, res.Body)
		case mainText(res.Body) == csrfRefusal:
			t.Errorf("reader: %s was refused as a CSRF failure, not for the privilege: %s", f.what, csrfRefusal)
		}
	}
	if st := reader.open("/ui/security/users"); st != http.StatusForbidden {
		t.Errorf("reader: /ui/security/users answered %d, want 403", st)
	}
	var files struct {
		Online bool `json:"online"`
	}
	if s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/hosted/ui-files", s.admin(), nil, &files); !files.Online {
		t.Errorf("ui-files went offline by the reader's forced edit")
	}
	if repoConfig(s, "ui-forced") != nil {
		t.Errorf("the reader's forced create made a repository")
	}

	t.Run("assets", func(t *testing.T) {
		admin, reader := admin.in(t), reader.in(t)
		action, form := admin.confirmForm("/ui/asset/ui-files/a/b.txt", "button#delete-asset")
		reader.open("/ui/browse/ui-files/a/")
		reader.must(`a.entry[data-name="b.txt"]`)
		reader.open("/ui/asset/ui-files/a/b.txt")
		if got := reader.text("#asset-sha256"); got != sha(data) {
			t.Errorf("reader: #asset-sha256 %q, want %s", got, sha(data))
		}
		reader.absent("button#delete-asset", "the reader may not delete assets")
		if res := reader.fetch(http.MethodPost, action, reader.withToken(form), nil); res.Status != http.StatusForbidden ||
			mainText(res.Body) == csrfRefusal {
			t.Errorf("reader: deleting the asset (POST %s): status %d, want 403 for the privilege: %.300s", action, res.Status, res.Body)
		}
		s.getExpect("ui-files", "a/b.txt", data)
	})

	t.Run("anonymous", func(t *testing.T) {
		admin, anon := admin.in(t), b.session("anonymous").in(t)
		// Off (the default) sends visitors to sign in; on, they see what
		// the anonymous role may; off again, not.
		anon.open("/")
		if p := anon.path(); !strings.HasPrefix(p, "/ui/login") {
			t.Errorf("anonymous with anonymous access off: at %s, want /ui/login", p)
		}
		setAnonymous := func(on bool) {
			t.Helper()
			admin.open("/ui/security/anonymous")
			admin.setChecked("#anonymous-enabled", on)
			admin.submit("#save")
			var set struct {
				Enabled bool `json:"enabled"`
			}
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/anonymous", s.admin(), nil, &set)
			if set.Enabled != on {
				t.Fatalf("anonymous access after saving the form with %t: %t", on, set.Enabled)
			}
		}
		setAnonymous(true)
		anon.open("/")
		if anon.path() != "/" {
			t.Fatalf("anonymous with anonymous access on: at %s, want /", anon.path())
		}
		anon.must("#sign-in-link")
		anon.absent("#sign-out", "nobody is signed in")
		anon.must(`#repositories tr[data-repository="ui-files"]`)
		anon.open("/ui/repositories")
		anon.absent("#new-repository", "anonymous may not add repositories")
		anon.open("/ui/browse/ui-files/")
		anon.must(`a.entry[data-name="a"]`)
		setAnonymous(false)
		anon.open("/")
		if p := anon.path(); !strings.HasPrefix(p, "/ui/login") {
			t.Errorf("anonymous after anonymous access was switched off: at %s, want /ui/login", p)
		}
	})
}
