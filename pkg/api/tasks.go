package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/tasks"
)

// WithTasks serves /v1/tasks over s.
func (a *API) WithTasks(s *tasks.Service) *API {
	a.tasks = s
	return a
}

func (a *API) registerTasks(g *echo.Group) {
	if a.tasks == nil {
		return
	}
	g.GET("/v1/tasks", a.listTasks)
	g.POST("/v1/tasks", a.createTask)
	g.GET("/v1/tasks/:id", a.getTask)
	g.PUT("/v1/tasks/:id", a.updateTask)
	g.DELETE("/v1/tasks/:id", a.deleteTask)
	g.POST("/v1/tasks/:id/run", a.runTask)
	g.POST("/v1/tasks/:id/stop", a.stopTask)
}

// taskJSON is Nexus's TaskXO, with the settings and the last run's
// duration besides.
type taskJSON struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Message         *string           `json:"message"`
	CurrentState    string            `json:"currentState"`
	LastRunResult   *string           `json:"lastRunResult"`
	NextRun         *string           `json:"nextRun"`
	LastRun         *string           `json:"lastRun"`
	LastRunDuration *int64            `json:"lastRunDurationMs,omitempty"`
	Enabled         bool              `json:"enabled"`
	Frequency       tasks.Frequency   `json:"frequency"`
	Properties      map[string]string `json:"properties"`
}

// taskSettingsJSON is the body of POST and PUT: Nexus's TaskTemplateXO.
type taskSettingsJSON struct {
	Type                  string           `json:"type"`
	Name                  string           `json:"name"`
	Enabled               bool             `json:"enabled"`
	AlertEmail            string           `json:"alertEmail"`
	NotificationCondition string           `json:"notificationCondition"`
	Frequency             *tasks.Frequency `json:"frequency"`
	Properties            map[string]any   `json:"properties"`
}

func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	return &s
}

func toTaskJSON(st tasks.Status) taskJSON {
	out := taskJSON{ID: st.ID, Name: st.Name, Type: st.Type, Message: optional(st.Message), CurrentState: st.State,
		LastRunResult: optional(st.LastRunResult), NextRun: timeJSON(st.NextRun), LastRun: timeJSON(st.LastRun),
		Enabled: st.Enabled, Frequency: st.Frequency, Properties: st.Properties}
	if out.Properties == nil {
		out.Properties = map[string]string{}
	}
	if !st.LastRun.IsZero() {
		ms := st.LastDuration.Milliseconds()
		out.LastRunDuration = &ms
	}
	return out
}

func (a *API) listTasks(c echo.Context) error {
	sts, err := a.tasks.List(c.Request().Context(), c.QueryParam("type"))
	if err != nil {
		return fail(c, a.log, err)
	}
	items := make([]taskJSON, 0, len(sts))
	for _, st := range sts {
		items = append(items, toTaskJSON(st))
	}
	return a.ok(c, newPage(items, ""))
}

func (a *API) getTask(c echo.Context) error {
	st, err := a.tasks.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, toTaskJSON(st))
}

func decodeTaskSettings(c echo.Context) (tasks.Settings, error) {
	var in taskSettingsJSON
	if err := decodeBody(c, &in); err != nil {
		return tasks.Settings{}, err
	}
	props := map[string]string{}
	for k, v := range in.Properties {
		switch v := v.(type) {
		case string:
			props[k] = v
		case nil:
		default:
			raw, err := json.Marshal(v) // numbers and booleans as their JSON text
			if err != nil {
				return tasks.Settings{}, invalid("properties."+k, "must be a string, number or boolean")
			}
			props[k] = string(raw)
		}
	}
	return tasks.Settings{Type: in.Type, Name: in.Name, Enabled: in.Enabled, AlertEmail: in.AlertEmail,
		NotificationCondition: in.NotificationCondition, Frequency: in.Frequency, Properties: props}, nil
}

func (a *API) createTask(c echo.Context) error {
	in, err := decodeTaskSettings(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	st, err := a.tasks.Create(c.Request().Context(), in)
	if err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("task created", "task", st.ID, "type", st.Type)
	return c.JSON(http.StatusCreated, toTaskJSON(st))
}

func (a *API) updateTask(c echo.Context) error {
	in, err := decodeTaskSettings(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if err := a.tasks.Update(c.Request().Context(), c.Param("id"), in); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("task updated", "task", c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteTask(c echo.Context) error {
	if err := a.tasks.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("task deleted", "task", c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}

func (a *API) runTask(c echo.Context) error {
	if err := a.tasks.Run(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) stopTask(c echo.Context) error {
	if err := a.tasks.Stop(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
