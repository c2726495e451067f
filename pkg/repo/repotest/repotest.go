// Package repotest holds fixtures shared by the tests of the repository
// engine, the server and the formats.
package repotest

import (
	"context"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

// AllowAll is an authorizer (repo.Authorizer) that grants every privilege,
// for tests whose subject is not security.
type AllowAll struct{}

// Require grants perm.
func (AllowAll) Require(context.Context, auth.Privilege) error { return nil }
