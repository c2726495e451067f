package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func (a *API) registerRepositories(g *echo.Group) {
	g.GET("/v1/repositories", a.listRepositories)
	g.GET("/v1/repositories/:name", a.getRepository)
	g.DELETE("/v1/repositories/:name", a.deleteRepository)
	g.POST("/v1/repositories/:format/:type", a.createRepository)
	g.GET("/v1/repositories/:format/:type/:name", a.getRepositoryConfig)
	g.PUT("/v1/repositories/:format/:type/:name", a.updateRepository)
	// A static last segment: the router prefers it to create's :type.
	g.POST("/v1/repositories/:format/invalidate-cache", a.invalidateCache)
}

// invalidateCache is POST /v1/repositories/{repositoryName}/invalidate-cache
// (the router names the first segment "format", as create's route does).
func (a *API) invalidateCache(c echo.Context) error {
	if err := a.repos.InvalidateCache(c.Request().Context(), c.Param("format")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// repositoryJSON is the short form of GET /v1/repositories.
type repositoryJSON struct {
	Name       string         `json:"name"`
	Format     string         `json:"format"`
	Type       string         `json:"type"`
	URL        string         `json:"url"`
	Attributes map[string]any `json:"attributes"`
}

func (a *API) shortForm(c echo.Context, r repo.Repository) repositoryJSON {
	cfg := r.Config()
	out := repositoryJSON{Name: cfg.Name, Format: cfg.Format, Type: cfg.Type,
		URL: a.serverURL(c) + "/repository/" + cfg.Name, Attributes: map[string]any{}}
	if cfg.Proxy != nil {
		out.Attributes["proxy"] = map[string]string{"remoteUrl": cfg.Proxy.RemoteURL}
	}
	return out
}

func (a *API) listRepositories(c echo.Context) error {
	repos, err := a.repos.ListVisible(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	out := []repositoryJSON{}
	for _, r := range repos {
		out = append(out, a.shortForm(c, r))
	}
	return a.ok(c, out)
}

// lookup finds a repository the caller may see; others answer as missing
// ones do, so that names do not leak.
func (a *API) lookup(c echo.Context, name string) (repo.Repository, error) {
	return a.repos.Access(c.Request().Context(), name)
}

func (a *API) getRepository(c echo.Context) error {
	r, err := a.lookup(c, c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, a.shortForm(c, r))
}

func (a *API) getRepositoryConfig(c echo.Context) error {
	r, err := a.repos.Configuration(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	cfg := r.Config()
	if repo.APIName(r.Format()) != c.Param("format") || cfg.Type != c.Param("type") {
		return fail(c, a.log, errs.New(errs.NotFound, "repository %s is not a %s %s repository", cfg.Name, c.Param("format"), c.Param("type")))
	}
	out, err := a.fullForm(c, r)
	if err != nil {
		return fail(c, a.log, err)
	}
	return c.JSONBlob(http.StatusOK, out)
}

// fullForm is the configuration as Nexus shows it: write policy in capitals,
// no upstream password, plus the URL and the runtime status.
func (a *API) fullForm(c echo.Context, r repo.Repository) ([]byte, error) {
	cfg := r.Config().WithoutSecrets()
	cfg.Storage.WritePolicy = strings.ToUpper(cfg.Storage.WritePolicy)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	// Nexus takes routingRule and answers routingRuleName (NEXUS-30973).
	if rule, ok := out["routingRule"]; ok {
		delete(out, "routingRule")
		out["routingRuleName"] = rule
	}
	out["url"] = a.serverURL(c) + "/repository/" + cfg.Name
	out["status"] = r.Status()
	return json.Marshal(out)
}

// decodeConfig reads a repository body for the format and type of the
// path.
func (a *API) decodeConfig(c echo.Context) (repo.Config, error) {
	f, ok := a.repos.APIFormat(c.Param("format"))
	if !ok {
		return repo.Config{}, errs.New(errs.NotFound, "unknown format %s", c.Param("format"))
	}
	body, err := readBody(c)
	if err != nil {
		return repo.Config{}, err
	}
	// The web UI's forms decode the same way.
	return repo.DecodeConfig(f, c.Param("type"), body)
}

func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "request body could not be read")
	}
	return body, nil
}

func (a *API) createRepository(c echo.Context) error {
	cfg, err := a.decodeConfig(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if err := a.repos.Create(c.Request().Context(), cfg); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("repository created", "repository", cfg.Name, "format", cfg.Format, "type", cfg.Type)
	return c.NoContent(http.StatusCreated)
}

func (a *API) updateRepository(c echo.Context) error {
	cfg, err := a.decodeConfig(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if cfg.Name != c.Param("name") {
		return fail(c, a.log, invalid("name", "does not match the repository in the path"))
	}
	if err := a.repos.Update(c.Request().Context(), cfg); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("repository updated", "repository", cfg.Name)
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteRepository(c echo.Context) error {
	r, err := a.lookup(c, c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	cfg := r.Config()
	if err := a.repos.Delete(c.Request().Context(), cfg.Name); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("repository deleted", "repository", cfg.Name)
	return c.NoContent(http.StatusNoContent)
}
