// Package scripts is the store behind Nexus's script API
// (/v1/script): named scripts kept verbatim in pkg/meta for the clients
// that manage them. This server has no script engine: it never runs one,
// and it stores them only when configured to (scripts.allow-creation, as
// Nexus's nexus.scripts.allowCreation). Every method checks the caller's
// script privileges (nx-script-<name>-<action>).
package scripts

import (
	"context"
	"regexp"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Authorizer checks the caller's privileges (auth.Service).
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// TypeGroovy is the one script type Nexus knows.
const TypeGroovy = "groovy"

var (
	// ErrCreationDisabled refuses creating and updating scripts while
	// scripts.allow-creation is off; the message is Nexus's.
	ErrCreationDisabled = errs.New(errs.Forbidden, "Creating and updating scripts is disabled")
	// ErrNotRun is every run's answer: Nexus's failed run (400).
	ErrNotRun = errs.New(errs.Invalid, "this server does not run scripts")
)

// nameRule is Nexus's rule for names of privileges and the like; script
// names also appear in paths and in privilege names, so they follow it.
var nameRule = regexp.MustCompile(`^[a-zA-Z0-9\-][a-zA-Z0-9_\-.]*$`)

// Service stores scripts.
type Service struct {
	db            *meta.DB
	authz         Authorizer
	allowCreation bool
}

// New returns the service; allowCreation is scripts.allow-creation.
func New(db *meta.DB, authz Authorizer, allowCreation bool) *Service {
	return &Service{db: db, authz: authz, allowCreation: allowCreation}
}

// List returns every script, in name order, to a caller who may browse
// them all (nx-script-*-browse), as Nexus lists them.
func (s *Service) List(ctx context.Context) ([]meta.Script, error) {
	if err := s.authz.Require(ctx, auth.Script(auth.Any, "browse")); err != nil {
		return nil, err
	}
	all, err := s.db.Scripts()
	if all == nil {
		all = []meta.Script{}
	}
	return all, err
}

// Get returns the script name, or errs.NotFound.
func (s *Service) Get(ctx context.Context, name string) (meta.Script, error) {
	if err := s.authz.Require(ctx, auth.Script(name, "read")); err != nil {
		return meta.Script{}, err
	}
	return s.find(name)
}

// Create stores a new script: the add privilege for its name, then a
// valid body, then scripts.allow-creation.
func (s *Service) Create(ctx context.Context, sc meta.Script) error {
	if err := s.authz.Require(ctx, auth.Script(sc.Name, "add")); err != nil {
		return err
	}
	if err := check(&sc); err != nil {
		return err
	}
	if !s.allowCreation {
		return ErrCreationDisabled
	}
	if _, err := s.db.Script(sc.Name); err == nil {
		return &errs.FieldError{Field: "name", Message: "Script '" + sc.Name + "' already exists"}
	} else if errs.KindOf(err) != errs.NotFound {
		return err
	}
	return s.db.PutScript(sc, true)
}

// Update replaces the script name with sc, which must have that name (a
// script is not renamed); errs.NotFound if there is none. As in Nexus, a
// missing script is 404 before scripts.allow-creation is consulted.
func (s *Service) Update(ctx context.Context, name string, sc meta.Script) error {
	if err := s.authz.Require(ctx, auth.Script(name, "edit")); err != nil {
		return err
	}
	if sc.Name != name {
		return &errs.FieldError{Field: "name", Message: "Path parameter: " + name + " does not match data name: " + sc.Name}
	}
	if err := check(&sc); err != nil {
		return err
	}
	if _, err := s.find(name); err != nil {
		return err
	}
	if !s.allowCreation {
		return ErrCreationDisabled
	}
	return s.db.PutScript(sc, false)
}

// Delete removes the script name, or is errs.NotFound. Unlike creating,
// deleting is allowed whatever scripts.allow-creation says (as in Nexus),
// so an admin can empty the store.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.authz.Require(ctx, auth.Script(name, "delete")); err != nil {
		return err
	}
	if _, err := s.find(name); err != nil {
		return err
	}
	return s.db.DeleteScript(name)
}

// Run refuses to run the script name: errs.NotFound if there is none,
// else ErrNotRun. The privilege is checked first, as Nexus does.
func (s *Service) Run(ctx context.Context, name string) error {
	if err := s.authz.Require(ctx, auth.Script(name, "run")); err != nil {
		return err
	}
	if _, err := s.find(name); err != nil {
		return err
	}
	return ErrNotRun
}

// find returns the script name, or errs.NotFound with Nexus's text.
func (s *Service) find(name string) (meta.Script, error) {
	sc, err := s.db.Script(name)
	if errs.KindOf(err) == errs.NotFound {
		return sc, errs.New(errs.NotFound, "Script with name: '%s' not found", name)
	}
	return sc, err
}

// check validates sc and defaults its type; the content stays as sent.
func check(sc *meta.Script) error {
	if !nameRule.MatchString(sc.Name) {
		return &errs.FieldError{Field: "name", Message: "Only letters, digits, underscores(_), hyphens(-), and dots(.) are allowed and may not start with underscore or dot."}
	}
	if sc.Content == "" {
		return &errs.FieldError{Field: "content", Message: "may not be empty"}
	}
	switch strings.ToLower(sc.Type) {
	case "", TypeGroovy:
		sc.Type = TypeGroovy
	default:
		return &errs.FieldError{Field: "type", Message: "unknown script type " + sc.Type + "; the one type is groovy"}
	}
	return nil
}
