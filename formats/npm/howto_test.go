package npm

import (
	"testing"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A component's install line names the package as npm does: a scoped one
// as @scope/name (scope/name would be a Git host shorthand).
func TestHowToInstallLine(t *testing.T) {
	const url = "http://127.0.0.1:8081/repository/npm-h/"
	for _, tc := range []struct {
		comp meta.Component
		want string
	}{
		{meta.Component{Name: "left-pad", Version: "1.3.0"}, "npm install left-pad@1.3.0 --registry=" + url},
		{meta.Component{Group: "scope", Name: "pkg", Version: "2.0.0-rc.1"}, "npm install @scope/pkg@2.0.0-rc.1 --registry=" + url},
	} {
		comp := tc.comp
		got := (&Format{}).HowTo(repo.HowToTarget{Config: repo.Config{Name: "npm-h", Format: "npm", Type: repo.Hosted}, URL: url, Component: &comp})
		if len(got) != 1 || got[0].ID != "use" || got[0].Text != tc.want {
			t.Errorf("HowTo of %+v = %+v, want one snippet %q", comp, got, tc.want)
		}
	}
}
