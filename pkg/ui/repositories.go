package ui

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func (u *UI) registerRepositories(g routes) {
	g.GET("/ui/repositories", u.repositories)
	g.GET("/ui/repositories/new", u.newRepository)
	g.POST("/ui/repositories/new", u.createRepository)
	g.GET("/ui/repositories/:name", u.repository)
	g.POST("/ui/repositories/:name", u.updateRepository)
	g.GET("/ui/repositories/:name/delete", u.confirmDeleteRepository)
	g.POST("/ui/repositories/:name/delete", u.deleteRepository)
}

// repoRow is one repository of a list.
type repoRow struct {
	Name, Format, Type, URL string
	Status                  repo.Status
	Stats                   repoStats
}

// repoStats are a repository's stored totals.
type repoStats struct {
	Bytes, Components int64
}

// repoURL is the repository's URL on the main port as the client
// addressed the server.
func (u *UI) repoURL(c echo.Context, name string) string {
	return u.serverURL(c) + "/repository/" + url.PathEscape(name) + "/"
}

func (u *UI) serverURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + u.prefix
}

func (u *UI) rowOf(c echo.Context, r repo.Repository) repoRow {
	cfg := r.Config()
	return repoRow{Name: cfg.Name, Format: cfg.Format, Type: cfg.Type, URL: u.repoURL(c, cfg.Name), Status: r.Status()}
}

type repositoriesData struct {
	Rows      []repoRow
	CanCreate bool
}

func (u *UI) repositories(c echo.Context) error {
	visible, err := u.repos.ListVisible(c.Request().Context())
	if err != nil {
		return u.fail(c, err)
	}
	var d repositoriesData
	for _, r := range visible {
		d.Rows = append(d.Rows, u.rowOf(c, r))
	}
	d.CanCreate = u.mayCreateAny(c)
	return u.render(c, http.StatusOK, "repositories", "Repositories", "repositories", d)
}

// mayCreateAny reports whether the caller may create repositories of
// some format (for the "new repository" controls).
func (u *UI) mayCreateAny(c echo.Context) bool {
	for _, f := range u.repos.Formats() {
		if u.may(c, auth.RepositoryAdmin(f.Name(), auth.Any, "add")) {
			return true
		}
	}
	return false
}

// recipe is one format × type a repository can be created as.
type recipe struct {
	Format, Type string
}

type formData struct {
	Format, Type string
	Edit         bool
	Name         string
	Sections     []formSection
	Errors       map[string]string
	Alert        string
	Recipes      []recipe
}

type formSection struct {
	Title  string
	Fields []formField
}

// formField is a field with its current value(s).
type formField struct {
	repo.Field
	Value    string
	Values   map[string]bool // members checked
	Order    map[string]int  // members' positions
	ReadOnly bool
	Error    string
}

func (u *UI) newRepository(c echo.Context) error {
	format, typ := c.QueryParam("format"), c.QueryParam("type")
	if format == "" || typ == "" {
		var d formData
		for _, f := range u.repos.Formats() {
			for _, t := range []string{repo.Hosted, repo.Proxy, repo.Group} {
				d.Recipes = append(d.Recipes, recipe{Format: f.Name(), Type: t})
			}
		}
		return u.render(c, http.StatusOK, "recipes", "New repository", "repositories", d)
	}
	fields, err := u.repos.Fields(c.Request().Context(), format, typ)
	if err != nil {
		return u.fail(c, err)
	}
	values := map[string][]string{}
	for _, f := range fields {
		if f.Default != "" {
			values[f.Path] = []string{f.Default}
		}
	}
	return u.renderForm(c, http.StatusOK, formData{Format: format, Type: typ}, fields, values, nil)
}

// renderForm shows the repository form with values and the error err of
// the last attempt, next to its field when it names one.
func (u *UI) renderForm(c echo.Context, status int, d formData, fields []repo.Field, values map[string][]string, err error) error {
	d.Errors = map[string]string{}
	if err != nil {
		var fe *errs.FieldError
		if errors.As(err, &fe) && repo.HasField(fields, fe.Field) {
			d.Errors[fe.Field] = fe.Message
		} else if errors.As(err, &fe) {
			d.Alert = fe.Error()
		} else {
			d.Alert = errs.Message(err)
		}
	}
	byTitle := map[string]int{}
	for _, f := range fields {
		ff := formField{Field: f, Error: d.Errors[f.Path]}
		if vs := values[f.Path]; len(vs) > 0 {
			ff.Value = vs[0]
		}
		if f.Kind == repo.FieldMembers {
			ff.Values, ff.Order = map[string]bool{}, map[string]int{}
			for i, m := range values[f.Path] {
				ff.Values[m] = true
				ff.Order[m] = i + 1
			}
			for _, m := range f.Options {
				if raw := url.Values(values).Get(repo.MemberOrderPrefix + m); raw != "" {
					if n, err := strconv.Atoi(raw); err == nil {
						ff.Order[m] = n
					}
				}
			}
		}
		ff.ReadOnly = d.Edit && f.Path == "name"
		i, ok := byTitle[f.Section]
		if !ok {
			i = len(d.Sections)
			byTitle[f.Section] = i
			d.Sections = append(d.Sections, formSection{Title: f.Section})
		}
		d.Sections[i].Fields = append(d.Sections[i].Fields, ff)
	}
	title := "New " + d.Format + " " + d.Type + " repository"
	name := "repository_form"
	if d.Edit {
		return u.repositoryPage(c, status, d)
	}
	return u.render(c, status, name, title, "repositories", d)
}

// submitted builds the configuration a posted form describes, the way
// the REST API decodes its body. An update passes the stored
// configuration: its name, which the form cannot change, and the settings
// the form does not show are kept (repo.OverFields).
func (u *UI) submitted(c echo.Context, format, typ string, old *repo.Config) ([]repo.Field, map[string][]string, repo.Config, error) {
	ctx := c.Request().Context()
	fields, err := u.repos.Fields(ctx, format, typ)
	if err != nil {
		return nil, nil, repo.Config{}, err
	}
	form, err := c.FormParams()
	if err != nil {
		return fields, nil, repo.Config{}, errs.Wrap(errs.Invalid, err, "the form could not be read")
	}
	values := map[string][]string(form)
	if old != nil {
		values["name"] = []string{old.Name}
	}
	body, err := repo.ConfigJSON(fields, values)
	if err == nil && old != nil {
		body, err = repo.OverFields(*old, fields, body)
	}
	if err != nil {
		return fields, values, repo.Config{}, err
	}
	f, _ := u.repos.Format(format)
	cfg, err := repo.DecodeConfig(f, typ, body)
	return fields, values, cfg, err
}

func (u *UI) createRepository(c echo.Context) error {
	format, typ := c.FormValue("format"), c.FormValue("type")
	fields, values, cfg, err := u.submitted(c, format, typ, nil)
	if fields == nil {
		return u.fail(c, err)
	}
	if err == nil {
		err = u.repos.Create(c.Request().Context(), cfg)
	}
	if err != nil {
		if k := errs.KindOf(err); k == errs.Forbidden || k == errs.Unauthorized {
			return u.fail(c, err)
		}
		return u.renderForm(c, errs.Status(err), formData{Format: format, Type: typ}, fields, values, err)
	}
	u.log.Info("repository created", "repository", cfg.Name, "format", cfg.Format, "type", cfg.Type, "user", stateOf(c).sess.user)
	return u.redirect(c, "/ui/repositories/"+url.PathEscape(cfg.Name))
}

type repositoryData struct {
	formData
	Repo      repoRow
	Snippets  []repo.Snippet
	CanEdit   bool
	CanDelete bool
	CanBrowse bool
}

// repository shows a repository: details, how to use it, and its
// configuration form for callers who may edit it.
func (u *UI) repository(c echo.Context) error {
	r, err := u.repos.Access(c.Request().Context(), c.Param("name"))
	if err != nil {
		return u.fail(c, err)
	}
	cfg := r.Config()
	d := formData{Format: cfg.Format, Type: cfg.Type, Edit: true, Name: cfg.Name}
	if !u.may(c, auth.RepositoryAdmin(cfg.Format, cfg.Name, "edit")) {
		return u.repositoryPage(c, http.StatusOK, d)
	}
	// The configuration as the REST API's GET shows it (admin read).
	if r, err = u.repos.Configuration(c.Request().Context(), cfg.Name); err != nil {
		return u.fail(c, err)
	}
	fields, err := u.repos.Fields(c.Request().Context(), cfg.Format, cfg.Type)
	if err != nil {
		return u.fail(c, err)
	}
	values, err := repo.FieldValues(r.Config(), fields)
	if err != nil {
		return u.fail(c, err)
	}
	return u.renderForm(c, http.StatusOK, d, fields, values, nil)
}

// repositoryPage renders the repository's page around form d (no
// sections: the caller may not edit).
func (u *UI) repositoryPage(c echo.Context, status int, d formData) error {
	r, err := u.repos.Access(c.Request().Context(), d.Name)
	if err != nil {
		return u.fail(c, err)
	}
	cfg := r.Config()
	rd := repositoryData{Repo: u.rowOf(c, r), formData: d}
	rd.CanEdit = len(d.Sections) > 0
	rd.CanDelete = u.may(c, auth.RepositoryAdmin(cfg.Format, cfg.Name, "delete"))
	rd.CanBrowse = r.AuthorizeFolder(c.Request().Context(), "browse", "") == nil
	rd.Snippets = u.snippets(c, r, nil)
	return u.render(c, status, "repository", cfg.Name, "repositories", rd)
}

// howToTarget describes r as this request addressed the server.
func (u *UI) howToTarget(c echo.Context, r repo.Repository) repo.HowToTarget {
	cfg := r.Config()
	t := repo.HowToTarget{Config: cfg, URL: u.repoURL(c, cfg.Name), Host: c.Request().Host}
	if conn, ok := r.Format().(repo.Connector); ok {
		// The HTTPS connector when there is one: docker speaks HTTPS to a
		// registry unless told it is insecure.
		httpPort, port := conn.Ports(cfg)
		if port == 0 {
			port = httpPort
		}
		if port != 0 {
			host := c.Request().Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			t.ConnectorHost = net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	return t
}

func (u *UI) snippets(c echo.Context, r repo.Repository, t *repo.HowToTarget) []repo.Snippet {
	h, ok := r.Format().(repo.HowTo)
	if !ok {
		return nil
	}
	if t == nil {
		tt := u.howToTarget(c, r)
		t = &tt
	}
	return h.HowTo(*t)
}

func (u *UI) updateRepository(c echo.Context) error {
	r, err := u.repos.Access(c.Request().Context(), c.Param("name"))
	if err != nil {
		return u.fail(c, err)
	}
	old := r.Config()
	fields, values, cfg, err := u.submitted(c, old.Format, old.Type, &old)
	if fields == nil {
		return u.fail(c, err)
	}
	if err == nil {
		err = u.repos.Update(c.Request().Context(), cfg)
	}
	if err != nil {
		if k := errs.KindOf(err); k == errs.Forbidden || k == errs.Unauthorized {
			return u.fail(c, err)
		}
		return u.renderForm(c, errs.Status(err), formData{Format: old.Format, Type: old.Type, Edit: true, Name: old.Name}, fields, values, err)
	}
	u.log.Info("repository updated", "repository", cfg.Name, "user", stateOf(c).sess.user)
	return u.redirect(c, "/ui/repositories/"+url.PathEscape(cfg.Name))
}

type confirmData struct {
	What, Name, Action, Back string
}

func (u *UI) confirmDeleteRepository(c echo.Context) error {
	r, err := u.repos.Access(c.Request().Context(), c.Param("name"))
	if err != nil {
		return u.fail(c, err)
	}
	name := r.Name()
	return u.render(c, http.StatusOK, "confirm", "Delete "+name, "repositories", confirmData{
		What: "repository " + name + " and everything stored in it", Name: name,
		Action: u.prefix + "/ui/repositories/" + url.PathEscape(name) + "/delete",
		Back:   u.prefix + "/ui/repositories/" + url.PathEscape(name)})
}

func (u *UI) deleteRepository(c echo.Context) error {
	r, err := u.repos.Access(c.Request().Context(), c.Param("name"))
	if err != nil {
		return u.fail(c, err)
	}
	if err := u.repos.Delete(c.Request().Context(), r.Name()); err != nil {
		return u.fail(c, err)
	}
	u.log.Info("repository deleted", "repository", r.Name(), "user", stateOf(c).sess.user)
	return u.redirect(c, "/ui/repositories")
}
