package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/webhooks"
)

// WithWebhooks serves /v1/webhooks over w.
func (a *API) WithWebhooks(w *webhooks.Service) *API {
	a.webhooks = w
	return a
}

func (a *API) registerWebhooks(g *echo.Group) {
	if a.webhooks == nil {
		return
	}
	g.GET("/v1/webhooks", a.listWebhooks)
	g.POST("/v1/webhooks", a.createWebhook)
	g.GET("/v1/webhooks/:name", a.getWebhook)
	g.PUT("/v1/webhooks/:name", a.updateWebhook)
	g.DELETE("/v1/webhooks/:name", a.deleteWebhook)
	g.POST("/v1/webhooks/:name/test", a.testWebhook)
}

// webhookJSON is a webhook as the REST API takes it. The secret and the
// header values are write-only: answers name the headers and say whether
// there is a secret.
type webhookJSON struct {
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Secret       string            `json:"secret,omitempty"`
	EventTypes   []string          `json:"eventTypes"`
	Repositories []string          `json:"repositories"`
	Headers      map[string]string `json:"headers,omitempty"`
	Timeout      string            `json:"timeout,omitempty"`
	Threshold    int               `json:"threshold,omitempty"`
	Backoff      string            `json:"backoff,omitempty"`
	Payload      string            `json:"payload,omitempty"`
}

type webhookOut struct {
	Name         string   `json:"name"`
	URL          string   `json:"url"`
	HasSecret    bool     `json:"hasSecret"`
	EventTypes   []string `json:"eventTypes"`
	Repositories []string `json:"repositories"`
	HeaderNames  []string `json:"headerNames"`
	Timeout      string   `json:"timeout"`
	Threshold    int      `json:"threshold"`
	Backoff      string   `json:"backoff"`
	Payload      string   `json:"payload"`
	// IgnoredActions and Declared: a notification endpoint of the
	// properties file, which the REST API shows but does not change.
	IgnoredActions []string     `json:"ignoredActions,omitempty"`
	Declared       bool         `json:"declared"`
	Delivery       deliveryJSON `json:"delivery"`
}

type deliveryJSON struct {
	Pending     int     `json:"pending"`
	Delivered   uint64  `json:"delivered"`
	Dropped     uint64  `json:"dropped"`
	Failures    int     `json:"failures"`
	LastError   *string `json:"lastError"`
	LastFailure *string `json:"lastFailure"`
	LastSuccess *string `json:"lastSuccess"`
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func webhookOf(w webhooks.Webhook) webhookOut {
	names := make([]string, 0, len(w.Headers))
	for k := range w.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	out := webhookOut{Name: w.Name, URL: w.URL, HasSecret: w.Secret != "", EventTypes: w.EventTypes,
		Repositories: w.Repositories, HeaderNames: names, Timeout: w.Timeout.String(), Threshold: w.Threshold,
		Backoff: w.Backoff.String(), Payload: w.Payload, IgnoredActions: w.IgnoredActions, Declared: w.Declared,
		Delivery: deliveryJSON{Pending: w.Pending, Delivered: w.State.Delivered, Dropped: w.State.Dropped,
			Failures: w.State.Failures, LastFailure: optionalTime(w.State.LastFailure), LastSuccess: optionalTime(w.State.LastSuccess)}}
	if out.Repositories == nil {
		out.Repositories = []string{}
	}
	if w.State.LastError != "" {
		out.Delivery.LastError = &w.State.LastError
	}
	return out
}

func (in webhookJSON) webhook() (meta.Webhook, error) {
	w := meta.Webhook{Name: in.Name, URL: in.URL, Secret: in.Secret, EventTypes: in.EventTypes,
		Repositories: in.Repositories, Headers: in.Headers, Threshold: in.Threshold, Payload: in.Payload}
	for _, d := range []struct {
		field, value string
		to           *time.Duration
	}{{"timeout", in.Timeout, &w.Timeout}, {"backoff", in.Backoff, &w.Backoff}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil {
			return w, &errs.FieldError{Field: d.field, Message: "must be a duration such as 5s"}
		}
		*d.to = v
	}
	return w, nil
}

func (a *API) listWebhooks(c echo.Context) error {
	ws, err := a.webhooks.List(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	out := make([]webhookOut, len(ws))
	for i, w := range ws {
		out[i] = webhookOf(w)
	}
	return a.ok(c, out)
}

func (a *API) getWebhook(c echo.Context) error {
	w, err := a.webhooks.Get(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, webhookOf(w))
}

func (a *API) createWebhook(c echo.Context) error {
	var in webhookJSON
	if err := decodeBody(c, &in); err != nil {
		return fail(c, a.log, err)
	}
	w, err := in.webhook()
	if err == nil {
		err = a.webhooks.Create(c.Request().Context(), w)
	}
	if err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusCreated)
}

func (a *API) updateWebhook(c echo.Context) error {
	var in webhookJSON
	if err := decodeBody(c, &in); err != nil {
		return fail(c, a.log, err)
	}
	if in.Name != "" && in.Name != c.Param("name") {
		return fail(c, a.log, &errs.FieldError{Field: "name", Message: "cannot be changed"})
	}
	in.Name = c.Param("name")
	w, err := in.webhook()
	if err == nil {
		err = a.webhooks.Update(c.Request().Context(), w)
	}
	if err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteWebhook(c echo.Context) error {
	if err := a.webhooks.Delete(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) testWebhook(c echo.Context) error {
	if err := a.webhooks.Test(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
